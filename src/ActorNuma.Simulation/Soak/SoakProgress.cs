using System.Collections.Concurrent;
using Akka.Actor;

namespace ActorNuma.Simulation.Soak;

/// <summary>What the soak driver and the thread running the soak share: the driver pauses between rounds when asked
/// (at once in deterministic mode, at checkpoints in concurrent mode), and counts what it did.</summary>
public sealed class SoakProgress
{
    private readonly ManualResetEventSlim _paused = new(false);
    private volatile bool _pauseRequested = true;
    private long _rounds;
    private long _syscalls;
    private readonly Dictionary<string, long> _errnos = new(StringComparer.Ordinal);

    /// <summary>Set by the runner; the driver pauses after the round in flight.</summary>
    public bool PauseRequested => _pauseRequested;
    public bool Paused => _paused.IsSet;
    public WaitHandle PausedSignal => _paused.WaitHandle;
    public long Rounds => Interlocked.Read(ref _rounds);
    public long Syscalls => Interlocked.Read(ref _syscalls);
    /// <summary>A driver error that ends the soak (a task that could not be created).</summary>
    public string? Fatal { get; private set; }

    /// <summary>Syscalls that failed, by "op errno" (ENOMEM of an mbind under pressure is an outcome, not a bug).</summary>
    public IReadOnlyDictionary<string, long> Errnos { get { lock (_errnos) { return new SortedDictionary<string, long>(_errnos, StringComparer.Ordinal); } } }

    public void RequestPause() => _pauseRequested = true;

    /// <summary>Lets the driver run free until the next <see cref="RequestPause"/> (concurrent mode between checkpoints);
    /// deterministic mode keeps the request set, so the driver pauses after every round.</summary>
    public void Resume(bool untilAsked)
    {
        _pauseRequested = !untilAsked;
        _paused.Reset();
    }

    /// <summary>The latency of every mbind(MPOL_MF_MOVE) and migrate_pages(2) call the driver made.</summary>
    public SoakLatency MbindMove { get; } = new("mbind MOVE");
    public SoakLatency MigratePages { get; } = new("migrate_pages");

    /// <summary>Tasks the driver is done with (exited, or killed by the OOM killer): once the task list has reaped
    /// them, the runner lets their actors and records go at a checkpoint (<see cref="TakeGone"/>).</summary>
    private readonly ConcurrentQueue<(int Pid, IActorRef Task)> _gone = new();

    internal void Gone(int pid, IActorRef task) => _gone.Enqueue((pid, task));

    /// <summary>Everything the driver has let go of so far (the runner puts back those not reaped yet).</summary>
    public List<(int Pid, IActorRef Task)> TakeGone()
    {
        var list = new List<(int, IActorRef)>();
        while (_gone.TryDequeue(out var g))
        {
            list.Add(g);
        }

        return list;
    }

    public void PutBackGone(int pid, IActorRef task) => _gone.Enqueue((pid, task));

    internal void RoundDone() => Interlocked.Increment(ref _rounds);
    internal void SyscallDone() => Interlocked.Increment(ref _syscalls);
    internal void CountErrno(string what) { lock (_errnos)
        {
            _errnos[what] = _errnos.GetValueOrDefault(what) + 1;
        }
    }

    private readonly Dictionary<string, long> _calls = new(StringComparer.Ordinal);

    /// <summary>Syscalls answered, by name (failed ones included).</summary>
    public IReadOnlyDictionary<string, long> Calls { get { lock (_calls) { return new SortedDictionary<string, long>(_calls, StringComparer.Ordinal); } } }

    internal void CountCall(string call) { lock (_calls)
        {
            _calls[call] = _calls.GetValueOrDefault(call) + 1;
        }
    }
    internal void Pause() => _paused.Set();
    internal void Fail(string message) { Fatal ??= message; _paused.Set(); }
}

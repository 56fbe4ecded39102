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
    public IReadOnlyDictionary<string, long> Errnos { get { lock (_errnos) return new SortedDictionary<string, long>(_errnos, StringComparer.Ordinal); } }

    public void RequestPause() => _pauseRequested = true;

    /// <summary>Lets the driver run free until the next <see cref="RequestPause"/> (concurrent mode between checkpoints);
    /// deterministic mode keeps the request set, so the driver pauses after every round.</summary>
    public void Resume(bool untilAsked)
    {
        _pauseRequested = !untilAsked;
        _paused.Reset();
    }

    internal void RoundDone() => Interlocked.Increment(ref _rounds);
    internal void SyscallDone() => Interlocked.Increment(ref _syscalls);
    internal void CountErrno(string what) { lock (_errnos) _errnos[what] = _errnos.GetValueOrDefault(what) + 1; }
    internal void Pause() => _paused.Set();
    internal void Fail(string message) { Fatal ??= message; _paused.Set(); }
}

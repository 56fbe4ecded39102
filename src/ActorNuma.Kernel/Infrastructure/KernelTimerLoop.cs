using System.Runtime.InteropServices;

namespace ActorNuma.Kernel;

/// <summary>Concurrent mode's kernel timers (swap I/O completions, congestion waits): a dedicated thread that delivers
/// each timer's message to its actor, as an ordinary message, once the machine's high-resolution clock reaches its due
/// time. Everything due by a wakeup is delivered in that wakeup, earliest first.</summary>
/// <remarks>Akka's scheduler cannot stand in: its wheel ticks every <c>akka.scheduler.tick-duration</c> (10 ms by
/// default; about 1 ms is the least its sleeping thread resolves), so a 100 µs page write would cost a whole tick and
/// a device of 10 µs a page could never be emulated. This thread sleeps on a condition until the next due time is near,
/// then in short precise sleeps (nanosleep(2), about 100 µs late on the machines measured) until it has passed. It never
/// delivers early: a message arrives at or after its due time. While <see cref="Pause"/>d it delivers nothing, so the
/// checkers can read a machine whose I/O is in flight, as the deterministic pump's checkpoints do without moving
/// virtual time. Deterministic runs do not use it: there kernel timers run on the virtual-time scheduler.</remarks>
public sealed class KernelTimerLoop : IDisposable
{
    /// <summary>Closer than this to the next due time the thread stops waiting on its condition (whose timeout has
    /// millisecond resolution) and sleeps in precise slices.</summary>
    private static readonly TimeSpan PreciseWindow = TimeSpan.FromMilliseconds(2);

    /// <summary>The longest precise sleep: a timer started meanwhile with an earlier due time is late by at most this
    /// much.</summary>
    private static readonly TimeSpan PreciseSlice = TimeSpan.FromMicroseconds(200);

    /// <summary>The longest condition wait (Monitor.Wait takes at most int.MaxValue milliseconds; an <c>advance</c> may
    /// be longer).</summary>
    private static readonly TimeSpan LongestWait = TimeSpan.FromSeconds(1);

    /// <summary>Whether nanosleep(2) can be called here; cleared if the C library cannot be loaded.</summary>
    private static bool _nanosleep = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD();

    private readonly Func<TimeSpan> _clock;
    private readonly object _gate = new();
    private readonly KernelTimerQueue _queue = new();
    private readonly Thread _thread;
    private bool _stopping;
    private bool _paused;
    private bool _delivering;

    public KernelTimerLoop(Func<TimeSpan> clock)
    {
        _clock = clock;
        _thread = new Thread(Run) { IsBackground = true, Name = "actornuma-kernel-timers" };
        _thread.Start();
    }

    /// <summary>Delivers <paramref name="message"/> to <paramref name="target"/> when the clock reaches
    /// <paramref name="due"/>.</summary>
    public void Post(TimeSpan due, IActorRef target, object message)
    {
        lock (_gate)
        {
            if (_queue.Add(due, target, message))
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>Timers started and not yet delivered.</summary>
    public int Pending { get { lock (_gate) { return _queue.Count; } } }

    /// <summary>Holds every delivery from now until <see cref="Resume"/>; returns once a delivery under way has been
    /// told (its messages are in their mailboxes).</summary>
    public void Pause()
    {
        lock (_gate)
        {
            _paused = true;
            while (_delivering)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    public void Resume()
    {
        lock (_gate)
        {
            _paused = false;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>True while no delivery can happen.</summary>
    public bool Paused { get { lock (_gate) { return _paused && !_delivering; } } }

    private void Run()
    {
        var due = new List<KernelTimerQueue.Entry>();
        while (true)
        {
            TimeSpan sleep;
            lock (_gate)
            {
                while (!_stopping && (_paused || _queue.Count == 0))
                {
                    Monitor.Wait(_gate);
                }

                if (_stopping)
                {
                    return;
                }

                var now = _clock();
                _queue.TakeDue(now, due);
                sleep = _queue.NextDue - now;
                if (due.Count == 0 && sleep > PreciseWindow)
                {
                    // Woken early by a timer started with an earlier due time, by Pause or by Dispose.
                    var wait = sleep - PreciseWindow / 2;
                    Monitor.Wait(_gate, wait < LongestWait ? wait : LongestWait);
                    continue;
                }
                _delivering = due.Count > 0;
            }
            if (due.Count == 0)
            {
                PreciseSleep(sleep < PreciseSlice ? sleep : PreciseSlice);
                continue;
            }
            foreach (var e in due)
            {
                e.Target.Tell(e.Message, ActorRefs.NoSender);
            }

            due.Clear();
            lock (_gate)
            {
                _delivering = false;
                Monitor.PulseAll(_gate);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        _thread.Join();
    }

    /// <summary>Sleeps about <paramref name="span"/> (under 2 ms); where nanosleep(2) is missing, a millisecond.</summary>
    private static void PreciseSleep(TimeSpan span)
    {
        if (_nanosleep)
        {
            var ts = new Timespec
            {
                Seconds = (nint)(span.Ticks / TimeSpan.TicksPerSecond),
                Nanoseconds = (nint)(span.Ticks % TimeSpan.TicksPerSecond * 100),
            };
            try
            {
                nanosleep(ref ts, IntPtr.Zero);
                return;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                _nanosleep = false;
            }
        }
        Thread.Sleep(1);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public nint Seconds;
        public nint Nanoseconds;
    }

    [DllImport("libc", SetLastError = false)]
    private static extern int nanosleep(ref Timespec request, IntPtr remaining);
}

/// <summary>The timers waiting for their due time, earliest first; equal due times in the order started.</summary>
internal sealed class KernelTimerQueue
{
    internal readonly record struct Entry(TimeSpan Due, IActorRef Target, object Message);

    private readonly PriorityQueue<Entry, (TimeSpan Due, long Seq)> _heap = new();
    private long _seq;

    public int Count => _heap.Count;

    public TimeSpan NextDue => _heap.TryPeek(out var e, out _) ? e.Due : TimeSpan.MaxValue;

    /// <summary>Adds a timer; true when it is now the earliest.</summary>
    public bool Add(TimeSpan due, IActorRef target, object message)
    {
        var earliest = due < NextDue;
        _heap.Enqueue(new Entry(due, target, message), (due, _seq++));
        return earliest;
    }

    /// <summary>Moves every timer due at or before <paramref name="now"/> into <paramref name="into"/>, earliest first.</summary>
    public void TakeDue(TimeSpan now, List<Entry> into)
    {
        while (_heap.TryPeek(out var e, out _) && e.Due <= now)
        {
            into.Add(_heap.Dequeue());
        }
    }
}

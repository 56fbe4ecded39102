namespace ActorNuma.Kernel;

/// <summary>The base of every kernel actor: it tells the machine's <see cref="KernelActivity"/> when the actor starts
/// and ends a message, so a concurrent run can tell a machine at rest from one whose actors are all busy inside long
/// handlers (mailboxes look empty then too).</summary>
public abstract class KernelActor(KernelMachine machine) : UntypedActor
{
    protected KernelMachine Machine { get; } = machine;

    /// <summary>A kernel timer's message, as the timer delivers it: work that sits in no mailbox until it fires.
    /// <see cref="Generation"/> tells a timer that was replaced under its key from the one that replaced it.</summary>
    private sealed record TimerFired(object Key, long Generation, object Message);

    /// <summary>Each pending timer's key and the generation that may fire.</summary>
    private readonly Dictionary<object, long> _pendingTimers = new();
    private long _timerGeneration;

    /// <summary><c>ITimerScheduler.StartSingleTimer</c>, counted as pending work until it fires: a machine with a swap
    /// write or a congestion wait in flight is not at rest. Starting a timer under a key that is pending replaces it,
    /// as the scheduler does. A machine with a <see cref="KernelTimerLoop"/> (concurrent mode) runs it there, on the
    /// high-resolution clock; otherwise the actor system's scheduler runs it (virtual time in deterministic mode).</summary>
    protected void StartKernelTimer(ITimerScheduler timers, object key, object message, TimeSpan delay)
    {
        if (!_pendingTimers.ContainsKey(key))
        {
            Machine.Activity.TimerStarted();
        }

        var fired = new TimerFired(key, _pendingTimers[key] = ++_timerGeneration, message);
        if (Machine.TimerLoop is { } loop)
        {
            loop.Post(Machine.Trace.Now + delay, Self, fired);
        }
        else
        {
            timers.StartSingleTimer(key, fired, delay);
        }
    }

    /// <summary><c>ITimerScheduler.Cancel</c> for a timer of <see cref="StartKernelTimer"/>: it is no longer pending work
    /// and never delivers its message (from the <see cref="KernelTimerLoop"/>, which cancels nothing, it still fires and
    /// is dropped). A key with no pending timer is left alone.</summary>
    protected void CancelKernelTimer(ITimerScheduler timers, object key)
    {
        if (!_pendingTimers.Remove(key))
        {
            return;
        }

        Machine.Activity.TimerDone();
        if (Machine.TimerLoop is null)
        {
            timers.Cancel(key);
        }
    }

    protected override bool AroundReceive(Receive receive, object message)
    {
        Machine.Activity.Enter();
        var allocation = Machine.Allocation;
        var allocatedBefore = allocation is null ? 0 : GC.GetAllocatedBytesForCurrentThread();
        try
        {
            return base.AroundReceive(receive, message);
        }
        finally
        {
            if (allocation is not null)
            {
                var handled = message is TimerFired fired ? fired.Message : message;
                allocation.Add(GetType(), handled.GetType(), GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
            }

            Machine.Activity.Exit();
        }
    }

    /// <summary>Unwraps a kernel timer's message (the timer scheduler has already unwrapped its own envelope by now).</summary>
    protected sealed override void OnReceive(object message)
    {
        if (message is TimerFired fired)
        {
            // A timer replaced under its key still fires from the loop (which cancels nothing); only the latest counts.
            if (!_pendingTimers.TryGetValue(fired.Key, out var generation) || generation != fired.Generation)
            {
                return;
            }

            _pendingTimers.Remove(fired.Key);
            Machine.Activity.TimerDone();
            message = fired.Message;
        }
        OnKernelMessage(message);
    }

    /// <summary>What the actor does with a message: a kernel actor's <c>OnReceive</c>.</summary>
    protected abstract void OnKernelMessage(object message);

    protected override void PostStop()
    {
        // A stopped actor's timers never fire.
        foreach (var _ in _pendingTimers)
        {
            Machine.Activity.TimerDone();
        }

        _pendingTimers.Clear();
        base.PostStop();
    }
}

/// <summary>How many messages kernel actors have started and finished handling, and how many of their timers are
/// pending. Equal counts that stay equal while every mailbox is empty and no timer is pending mean the machine is at
/// rest: the checkers may read it.</summary>
public sealed class KernelActivity
{
    private long _entered;
    private long _exited;
    private long _timers;

    internal void Enter() => Interlocked.Increment(ref _entered);
    internal void Exit() => Interlocked.Increment(ref _exited);
    /// <summary>Pending work held outside the kernel actors for them (the scenario driver's timers) counts too.</summary>
    public void TimerStarted() => Interlocked.Increment(ref _timers);
    public void TimerDone() => Interlocked.Decrement(ref _timers);

    /// <summary>Kernel timers started and not yet fired (swap I/O completions, congestion waits, retry delays).</summary>
    public long TimersPending => Interlocked.Read(ref _timers);

    /// <summary>Finished is read before started: a handler that starts between the reads makes them differ, never
    /// hides.</summary>
    public (long Started, long Finished) Snapshot()
    {
        var finished = Interlocked.Read(ref _exited);
        var started = Interlocked.Read(ref _entered);
        return (started, finished);
    }
}

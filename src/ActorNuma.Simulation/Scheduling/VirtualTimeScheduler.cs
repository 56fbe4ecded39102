using System.Diagnostics.CodeAnalysis;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace ActorNuma.Simulation.Scheduling;

/// <summary>
/// Akka's scheduler for the deterministic mode: time stands still until the pump advances it, and due work runs
/// inline on the advancing thread in (due time, insertion order).
/// </summary>
/// <remarks>
/// <para>
/// Selected by <c>akka.scheduler.implementation</c> (see <see cref="DeterministicConfig.Create"/>), so that
/// <c>IWithTimers</c>, <c>ScheduleTellOnce</c>, receive timeouts and Akka's own timeouts all use it. Akka.TestKit's
/// <c>TestScheduler</c> is close, but it starts at the wall clock, takes its monotonic clock from real time, orders
/// same-instant work by a concurrent dictionary and ignores the cancelable of <c>ScheduleOnce</c>; each of those
/// would leak real time or hash order into a run.
/// </para>
/// <para>
/// A scheduled Tell only enqueues to the target's mailbox; the actor processes it when the pump next runs it. Work
/// that Akka's own actors schedule from pool threads is accepted (every member is thread-safe), but its insertion
/// order, and so its order against same-instant kernel work, depends on timing.
/// </para>
/// </remarks>
public sealed class VirtualTimeScheduler : SchedulerBase
{
    /// <summary>
    /// Virtual time 0: the date of the seed patch. Fixed, so that <see cref="Now"/> is the same in every run.
    /// </summary>
    public static readonly DateTimeOffset Epoch = new(2005, 10, 17, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Bounds one advance: work that keeps scheduling more work at or before the target (a zero-delay loop)
    /// would otherwise never let the advance finish.
    /// </summary>
    public const int MaxItemsPerAdvance = 1_000_000;

    private static readonly long MaxElapsedTicks = DateTimeOffset.MaxValue.UtcTicks - Epoch.UtcTicks;

    private readonly object _gate = new();
    private readonly PriorityQueue<ScheduledWork, (long DueTicks, long Sequence)> _queue = new();
    private long _elapsedTicks;
    private long _nextSequence;

    /// <summary>The constructor Akka calls through <c>akka.scheduler.implementation</c>.</summary>
    public VirtualTimeScheduler(Config schedulerConfig, ILoggingAdapter log)
        : base(schedulerConfig, log)
    {
    }

    /// <summary>The current virtual instant: <see cref="Epoch"/> plus <see cref="Elapsed"/>.</summary>
    public DateTimeOffset Now => Epoch.AddTicks(Interlocked.Read(ref _elapsedTicks));

    /// <summary>Virtual time since <see cref="Epoch"/>; it changes only in <see cref="AdvanceTo"/>.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _elapsedTicks));

    /// <summary>Virtual, like <see cref="Now"/>: code measuring durations must see simulated time.</summary>
    public override TimeSpan MonotonicClock => Elapsed;

    /// <summary>Virtual, like <see cref="Now"/>.</summary>
    public override TimeSpan HighResMonotonicClock => Elapsed;

    /// <inheritdoc />
    protected override DateTimeOffset TimeNow => Now;

    /// <summary>
    /// Reports the due time of the earliest work that is still wanted; cancelled work is discarded here, so it
    /// never makes the pump advance time to an instant at which nothing happens.
    /// </summary>
    public bool TryGetNextDue(out DateTimeOffset due)
    {
        lock (_gate)
        {
            DiscardCancelledHead();
            var found = _queue.TryPeek(out _, out var priority);
            due = found ? Epoch.AddTicks(priority.DueTicks) : default;
            return found;
        }
    }

    /// <summary>
    /// Moves time to <paramref name="target"/>, running every piece of work due at or before it in order. Each runs
    /// with <see cref="Now"/> set to its own due time, so work it schedules is due relative to that instant and
    /// runs in this same advance if it falls before the target.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="target"/> is before <see cref="Now"/>.</exception>
    /// <exception cref="InvalidOperationException">More than <see cref="MaxItemsPerAdvance"/> items fell due.</exception>
    public void AdvanceTo(DateTimeOffset target)
    {
        var targetTicks = ToElapsedTicks(target);
        for (var fired = 0; fired < MaxItemsPerAdvance; fired++)
        {
            if (!TryTakeDue(targetTicks, out var work))
            {
                SetElapsed(targetTicks);
                return;
            }

            Fire(work);
        }

        ThrowIfStillDue(targetTicks);
        SetElapsed(targetTicks);
    }

    /// <summary>Advances to the earliest pending due time, if any.</summary>
    /// <returns><c>false</c> when nothing (uncancelled) is scheduled; time then stays where it is.</returns>
    public bool AdvanceToNextDue()
    {
        if (!TryGetNextDue(out var due))
        {
            return false;
        }

        AdvanceTo(due);
        return true;
    }

    /// <summary>
    /// Starts a new schedule on the same clock: drops every pending item and moves time back to <see cref="Epoch"/>,
    /// so the next machine sees the clock a fresh actor system would give it. Only between schedules of an explore
    /// worker, once the previous machine's actors are stopped (their timers with them); what is dropped then is Akka's
    /// own bookkeeping, such as the dispatcher's idle shutdown, which <see cref="DeterministicDispatcher"/> ignores.
    /// </summary>
    public void Reset()
    {
        lock (_gate)
        {
            _queue.Clear();
            Interlocked.Exchange(ref _elapsedTicks, 0);
        }
    }

    /// <inheritdoc />
    protected override void InternalScheduleTellOnce(
        TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Add(delay, TimeSpan.Zero, () => receiver.Tell(message, sender), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleTellRepeatedly(
        TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message, IActorRef sender,
        ICancelable cancelable) =>
        Add(initialDelay, interval, () => receiver.Tell(message, sender), cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) =>
        Add(delay, TimeSpan.Zero, action, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) =>
        Add(delay, TimeSpan.Zero, action.Run, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleRepeatedly(
        TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) =>
        Add(initialDelay, interval, action, cancelable);

    /// <inheritdoc />
    protected override void InternalScheduleRepeatedly(
        TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) =>
        Add(initialDelay, interval, action.Run, cancelable);

    private void Add(TimeSpan delay, TimeSpan interval, Action run, ICancelable? cancelable)
    {
        lock (_gate)
        {
            var due = SaturatingAdd(_elapsedTicks, delay.Ticks);
            Enqueue(new ScheduledWork(run, interval, cancelable), due);
        }
    }

    /// <summary>Caller holds <see cref="_gate"/>. The sequence number breaks ties in insertion order.</summary>
    private void Enqueue(ScheduledWork work, long dueTicks) => _queue.Enqueue(work, (dueTicks, _nextSequence++));

    private bool TryTakeDue(long targetTicks, [NotNullWhen(true)] out ScheduledWork? work)
    {
        lock (_gate)
        {
            DiscardCancelledHead();
            if (!_queue.TryPeek(out work, out var priority) || priority.DueTicks > targetTicks)
            {
                work = null;
                return false;
            }

            _queue.Dequeue();
            Interlocked.Exchange(ref _elapsedTicks, priority.DueTicks);
            RescheduleIfRepeating(work, priority.DueTicks);
            return true;
        }
    }

    /// <summary>
    /// Caller holds <see cref="_gate"/>. Repeats are fixed-rate (due + interval), so a long advance delivers every
    /// tick that fell inside it, each at its own instant, and the timestamps do not drift with the pump.
    /// </summary>
    private void RescheduleIfRepeating(ScheduledWork work, long dueTicks)
    {
        if (work.Interval > TimeSpan.Zero)
        {
            Enqueue(work, SaturatingAdd(dueTicks, work.Interval.Ticks));
        }
    }

    /// <summary>Caller holds <see cref="_gate"/>.</summary>
    private void DiscardCancelledHead()
    {
        while (_queue.TryPeek(out var head, out _) && head.IsCancelled)
        {
            _queue.Dequeue();
        }
    }

    /// <summary>
    /// Runs outside the lock, because the work may schedule more. An exception is logged and the advance goes on,
    /// as Akka's default scheduler does, so that both run modes treat a faulty callback alike.
    /// </summary>
    private void Fire(ScheduledWork work)
    {
        if (work.IsCancelled)
        {
            return;
        }

        try
        {
            work.Run();
        }
        catch (Exception ex)
        {
            Log.Error(ex, "Scheduled work due at virtual {0} threw; the advance continues.", Now);
        }
    }

    private void ThrowIfStillDue(long targetTicks)
    {
        lock (_gate)
        {
            DiscardCancelledHead();
            if (_queue.TryPeek(out _, out var priority) && priority.DueTicks <= targetTicks)
            {
                throw new InvalidOperationException(
                    $"Advancing virtual time to {Epoch.AddTicks(targetTicks):O} ran {MaxItemsPerAdvance} scheduled " +
                    "items and more are still due: something keeps scheduling work with no delay.");
            }
        }
    }

    private long ToElapsedTicks(DateTimeOffset target)
    {
        var targetTicks = target.UtcTicks - Epoch.UtcTicks;
        var nowTicks = Interlocked.Read(ref _elapsedTicks);
        if (targetTicks < nowTicks)
        {
            throw new ArgumentOutOfRangeException(
                nameof(target), target, $"Virtual time cannot go back: it is already {Epoch.AddTicks(nowTicks):O}.");
        }

        return targetTicks;
    }

    private void SetElapsed(long targetTicks)
    {
        lock (_gate)
        {
            Interlocked.Exchange(ref _elapsedTicks, Math.Max(_elapsedTicks, targetTicks));
        }
    }

    /// <summary>Akka uses very long delays as "never"; they must not overflow past DateTimeOffset.MaxValue.</summary>
    private static long SaturatingAdd(long ticks, long delayTicks) =>
        delayTicks >= MaxElapsedTicks - ticks ? MaxElapsedTicks : ticks + delayTicks;

    private sealed class ScheduledWork(Action run, TimeSpan interval, ICancelable? cancelable)
    {
        public Action Run { get; } = run;

        /// <summary>Zero for one-shot work.</summary>
        public TimeSpan Interval { get; } = interval;

        public bool IsCancelled => cancelable?.IsCancellationRequested == true;
    }
}

using System.Diagnostics;
using System.Runtime.CompilerServices;
using Akka.Actor;

namespace ActorNuma.Simulation.Scheduling;

/// <summary>
/// Drives one actor system in the deterministic mode: runs kernel mailboxes one step at a time and moves virtual
/// time forward only when nothing is runnable, the way a discrete-event simulator would.
/// </summary>
/// <remarks>
/// Pump from one thread, and tell kernel actors only from that thread or from kernel actors: a message that
/// arrives from another thread lands in the ready list at a time-dependent position.
/// </remarks>
public sealed class DeterministicPump
{
    /// <summary>Default bound for the run methods; far above any scenario step count, low enough to end a livelock.</summary>
    public const long DefaultMaxSteps = 10_000_000;

    /// <summary>Default real-time bound for <see cref="AwaitStarted(IActorRef)"/> and <see cref="Terminate"/>.</summary>
    public static readonly TimeSpan DefaultRealTimeout = TimeSpan.FromSeconds(10);

    private static readonly ConditionalWeakTable<ActorSystem, DeterministicPump> Pumps = new();

    private readonly SeededExecutor _executor;

    private DeterministicPump(SeededExecutor executor, VirtualTimeScheduler scheduler)
    {
        _executor = executor;
        Scheduler = scheduler;
    }

    /// <summary>The seed of the executor, for failure messages and the run's first output line.</summary>
    public int Seed => _executor.Seed;

    /// <summary>Mailbox runs so far; each processes at most one user message (plus pending system messages).</summary>
    public long Steps => _executor.Steps;

    /// <summary>True when no kernel mailbox is runnable.</summary>
    public bool IsIdle => _executor.RunnableCount == 0;

    /// <summary>The virtual clock of the system, for reading <see cref="VirtualTimeScheduler.Now"/> or advancing by hand.</summary>
    public VirtualTimeScheduler Scheduler { get; }

    /// <summary>The pump of <paramref name="system"/>; the same instance on every call.</summary>
    /// <exception cref="InvalidOperationException">The system was not created with <see cref="DeterministicConfig.Create"/>.</exception>
    public static DeterministicPump For(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return Pumps.GetValue(system, Create);
    }

    /// <summary>The virtual time each step costs (<c>actornuma.run.step-cost</c>): zero moves time only when nothing is
    /// runnable; above zero, every step advances the clock and fires what fell due, between messages.</summary>
    public TimeSpan StepCost { get; set; }

    /// <summary>Runs one step: one runnable mailbox, chosen by the seed; then, with a <see cref="StepCost"/>, the
    /// clock advances by it.</summary>
    /// <returns><c>false</c> when nothing was runnable.</returns>
    public bool RunOne()
    {
        if (!_executor.RunOne())
        {
            return false;
        }

        if (StepCost > TimeSpan.Zero)
        {
            Scheduler.AdvanceTo(Scheduler.Now + StepCost);
        }

        return true;
    }

    /// <summary>Runs steps until no kernel mailbox is runnable, without advancing virtual time.</summary>
    /// <returns>The number of steps run.</returns>
    /// <exception cref="InvalidOperationException">Still runnable after <paramref name="maxSteps"/> steps
    /// (actors that keep messaging each other never go idle).</exception>
    public int RunUntilIdle(long maxSteps = DefaultMaxSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSteps);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxSteps, int.MaxValue);
        for (var ran = 0; ran < maxSteps; ran++)
        {
            if (!RunOne())
            {
                return ran;
            }
        }

        // A run that needed exactly maxSteps steps is fine; only work left over means the bound was too small.
        return IsIdle ? (int)maxSteps : throw new StepBudgetExhaustedException(
            $"RunUntilIdle ran {maxSteps} steps (seed {Seed}) and kernel mailboxes are still runnable: " +
            "actors keep messaging each other without going idle.");
    }

    /// <summary>
    /// Runs steps until <paramref name="done"/> holds. When idle it advances virtual time to the next due item, so
    /// time only moves when every message of the current instant has been processed.
    /// </summary>
    /// <param name="done">Checked before every step and every advance; it must not tell actors.</param>
    /// <param name="maxSteps">Bounds steps and time advances together, so periodic timers cannot loop forever.</param>
    /// <returns><c>false</c> when the system went idle with nothing scheduled and <paramref name="done"/> still false.</returns>
    /// <exception cref="StepBudgetExhaustedException"><paramref name="done"/> did not hold within <paramref name="maxSteps"/>.</exception>
    public bool RunUntil(Func<bool> done, long maxSteps = DefaultMaxSteps)
    {
        ArgumentNullException.ThrowIfNull(done);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSteps);
        for (long budget = 0; budget < maxSteps; budget++)
        {
            if (done())
            {
                return true;
            }

            if (!RunOne() && !Scheduler.AdvanceToNextDue())
            {
                return false;
            }
        }

        return done() ? true : throw new StepBudgetExhaustedException(
            $"RunUntil spent {maxSteps} steps and time advances (seed {Seed}, virtual time {Scheduler.Elapsed}) " +
            "without its condition becoming true.");
    }

    /// <summary>
    /// Starts a new schedule in the same actor system: the executor takes its next choices from
    /// <paramref name="strategy"/> and counts steps from zero, and virtual time goes back to the epoch with nothing
    /// pending. With a <see cref="RandomStrategy"/> of <paramref name="seed"/>, what follows is exactly what a fresh
    /// system created with that seed would run.
    /// </summary>
    /// <exception cref="InvalidOperationException">A kernel mailbox is still runnable.</exception>
    public void StartSchedule(int seed, IScheduleStrategy strategy)
    {
        _executor.Reseed(seed, strategy);
        Scheduler.Reset();
    }

    /// <summary>
    /// Stops deterministic actors and pumps until they and all their descendants have terminated. The stop is a
    /// <see cref="PoisonPill"/> told from this thread, not <c>system.Stop</c>, whose request the /user guardian
    /// handles on a pool thread; it runs after the messages already queued, and a schedule ends idle. Should work
    /// still arrive from another thread, this waits for it without polling.
    /// </summary>
    /// <exception cref="TimeoutException">Not all terminated within <paramref name="timeout"/> of real time.</exception>
    public void StopAndDrain(IReadOnlyList<IActorRef> actors, TimeSpan timeout)
    {
        foreach (var actor in actors)
        {
            actor.Tell(PoisonPill.Instance, ActorRefs.NoSender);
        }

        var clock = Stopwatch.StartNew();
        while (true)
        {
            RunUntilIdle();
            if (actors.All(a => a is not ActorRefWithCell cell || cell.Underlying.IsTerminated))
            {
                return;
            }

            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero || !_executor.WhenRunnable().Wait(left))
            {
                throw new TimeoutException($"Stopped actors (seed {Seed}) did not terminate within {timeout} of real time.");
            }
        }
    }

    /// <summary>Waits with <see cref="DefaultRealTimeout"/>; see <see cref="AwaitStarted(IActorRef, TimeSpan)"/>.</summary>
    public static void AwaitStarted(IActorRef actor) => AwaitStarted(actor, DefaultRealTimeout);

    /// <summary>
    /// Waits until a top-level actor has really started. <c>system.ActorOf</c> returns before the actor exists:
    /// the /user guardian creates it on a pool thread, which also queues its first mailbox run and replays
    /// messages told meanwhile. Call this for every top-level kernel actor before
    /// telling it or pumping, so that all of that has happened and the ready list no longer depends on timing.
    /// Children created with <c>Context.ActorOf</c> start synchronously and return at once.
    /// </summary>
    /// <param name="actor">The reference returned by <c>system.ActorOf</c>.</param>
    /// <param name="timeout">Real time: the only use of it here is as a bound against a stuck guardian.</param>
    /// <exception cref="TimeoutException">The actor did not start within <paramref name="timeout"/>.</exception>
    public static void AwaitStarted(IActorRef actor, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor is not RepointableActorRef repointable)
        {
            return;
        }

        var clock = Stopwatch.StartNew();
        var spin = new SpinWait();
        while (!repointable.IsStarted)
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{actor.Path} did not start within {timeout} of real time.");
            }

            spin.SpinOnce();
        }
    }

    /// <summary>Blocking form of <see cref="TerminateAsync(ActorSystem)"/>.</summary>
    public static void Terminate(ActorSystem system) => TerminateAsync(system).GetAwaiter().GetResult();

    /// <summary>Terminates with <see cref="DefaultRealTimeout"/>; see <see cref="TerminateAsync(ActorSystem, TimeSpan)"/>.</summary>
    public static Task TerminateAsync(ActorSystem system) => TerminateAsync(system, DefaultRealTimeout);

    /// <summary>
    /// Terminates <paramref name="system"/>, pumping while it does: stopping kernel actors takes steps of their
    /// mailboxes, which nothing else runs. Between bursts it waits, without polling,
    /// for either more kernel work or the end of termination, both of which come from Akka's pool threads.
    /// </summary>
    /// <param name="system">A system created with <see cref="DeterministicConfig.Create"/>.</param>
    /// <param name="timeout">Real time, only as a bound against a shutdown that never completes.</param>
    /// <exception cref="TimeoutException">The system had not terminated within <paramref name="timeout"/>.</exception>
    public static async Task TerminateAsync(ActorSystem system, TimeSpan timeout)
    {
        var pump = For(system);
        var termination = system.Terminate();
        using var bound = new CancellationTokenSource();
        var expired = Task.Delay(timeout, bound.Token);
        while (!termination.IsCompleted)
        {
            pump.RunUntilIdle();
            var woke = await Task.WhenAny(termination, pump._executor.WhenRunnable(), expired).ConfigureAwait(false);
            if (woke == expired)
            {
                throw new TimeoutException(
                    $"Actor system {system.Name} (seed {pump.Seed}) did not terminate within {timeout} of real time.");
            }
        }

        await bound.CancelAsync().ConfigureAwait(false);
        await termination.ConfigureAwait(false);
    }

    private static DeterministicPump Create(ActorSystem system)
    {
        var dispatcher = system.Dispatchers.HasDispatcher(DeterministicConfig.DispatcherId)
            ? system.Dispatchers.Lookup(DeterministicConfig.DispatcherId) as DeterministicDispatcher
            : null;
        if (dispatcher is null || system.Scheduler is not VirtualTimeScheduler scheduler)
        {
            throw new InvalidOperationException(
                $"Actor system {system.Name} is not in the deterministic mode: create it with " +
                "DeterministicConfig.Create(seed), which sets both the seeded dispatcher and the virtual scheduler.");
        }

        return new DeterministicPump(dispatcher.Executor, scheduler);
    }
}

/// <summary>A run method of <see cref="DeterministicPump"/> spent its step budget with work left: a livelock, or a
/// scenario bigger than the bound. The message names the seed.</summary>
public sealed class StepBudgetExhaustedException(string message) : InvalidOperationException(message);

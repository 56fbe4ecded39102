using Akka.Dispatch;

namespace ActorNuma.Simulation.Scheduling;

/// <summary>
/// Holds the runnable actor mailboxes of the deterministic dispatcher and runs them one at a time, on the
/// caller's thread, in an order drawn from a seeded <see cref="Random"/>.
/// </summary>
/// <remarks>
/// Real dispatchers run mailboxes on pool threads, so the interleaving of actors depends on timing and on two
/// cores rarely shows the rare orders (2–5 distinct orders in 30 runs of a two-actor race, measured on 1.5.x). Here the only source of
/// order is the seed: every runnable mailbox is equally likely to go next, so one seed replays one interleaving
/// and many seeds explore many. That holds only while every <see cref="Execute"/> call comes from the pumping
/// thread; calls from other threads are accepted safely but their position in the
/// ready list depends on timing.
/// </remarks>
public sealed class SeededExecutor : ExecutorService
{
    // System.Threading.Lock: taken for every message sent and every mailbox run, where Monitor's slow path showed.
    private readonly Lock _gate = new();
    private readonly List<IRunnable> _runnable = [];
    private IScheduleStrategy _strategy;
    private TaskCompletionSource? _runnableWaiter;
    private long _steps;
    private int _pumping;

    /// <param name="id">The dispatcher id, kept for Akka's diagnostics.</param>
    /// <param name="seed">Seeds the choice of the next mailbox; <c>new Random(seed)</c> gives the same sequence
    /// in every process on this runtime.</param>
    public SeededExecutor(string id, int seed)
        : base(id)
    {
        Seed = seed;
        _strategy = new RandomStrategy(seed);
    }

    /// <summary>The seed, kept so that failures can name it.</summary>
    public int Seed { get; private set; }

    /// <summary>
    /// Starts a new schedule on the same executor: the step count goes back to zero and the next choices come from
    /// <paramref name="strategy"/> (a <see cref="RandomStrategy"/> of <paramref name="seed"/> gives exactly the
    /// choices a fresh executor of that seed makes). An explore worker reuses one actor system this way instead of
    /// creating one per schedule.
    /// </summary>
    /// <exception cref="InvalidOperationException">A mailbox is still runnable or a step is running: the new
    /// schedule would inherit work of the old one.</exception>
    public void Reseed(int seed, IScheduleStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        lock (_gate)
        {
            if (_runnable.Count > 0 || Volatile.Read(ref _pumping) != 0)
            {
                throw new InvalidOperationException(
                    $"The deterministic executor (seed {Seed}) still has {_runnable.Count} runnable mailboxes: " +
                    $"a new schedule (seed {seed}) may only start when the previous one is idle.");
            }

            Seed = seed;
            _strategy = strategy;
            Interlocked.Exchange(ref _steps, 0);
        }
    }

    /// <summary>Mailbox runs started so far; each run processes at most one user message.</summary>
    public long Steps => Interlocked.Read(ref _steps);

    /// <summary>How many mailboxes are waiting to run; zero means the deterministic actors are idle.</summary>
    public int RunnableCount
    {
        get
        {
            lock (_gate)
            {
                return _runnable.Count;
            }
        }
    }

    /// <summary>
    /// Queues a mailbox instead of running it: running happens only in <see cref="RunOne"/>, so the pump, not the
    /// thread that sent the message, decides the order.
    /// </summary>
    public override void Execute(IRunnable run)
    {
        ArgumentNullException.ThrowIfNull(run);
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            _runnable.Add(run);
            waiter = _runnableWaiter;
            _runnableWaiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>
    /// Does nothing: the executor owns no threads, and its ready list must survive a dispatcher shutdown because
    /// the same instance keeps serving the dispatcher for the whole life of the actor system.
    /// </summary>
    public override void Shutdown()
    {
    }

    /// <summary>
    /// Runs one mailbox chosen by the strategy (uniformly at random unless reseeded with another), on the calling thread.
    /// </summary>
    /// <returns><c>false</c> when no mailbox was runnable.</returns>
    /// <exception cref="InvalidOperationException">Another thread is pumping, or an actor called the pump from
    /// inside a message handler; either would make the order depend on timing.</exception>
    public bool RunOne()
    {
        if (Interlocked.Exchange(ref _pumping, 1) != 0)
        {
            throw new InvalidOperationException(
                $"The deterministic executor (seed {Seed}) is already running a mailbox: pump it from one thread " +
                "at a time and never from inside an actor.");
        }

        try
        {
            var next = TakeRandomRunnable();
            if (next is null)
            {
                return false;
            }

            next.Run();
            return true;
        }
        finally
        {
            Volatile.Write(ref _pumping, 0);
        }
    }

    /// <summary>
    /// Completes when a mailbox becomes runnable, so that a caller waiting for work from other threads (system
    /// shutdown) can wait without polling.
    /// </summary>
    internal Task WhenRunnable()
    {
        lock (_gate)
        {
            if (_runnable.Count > 0)
            {
                return Task.CompletedTask;
            }

            _runnableWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _runnableWaiter.Task;
        }
    }

    /// <summary>
    /// Removes a random element by moving the last one into its slot: O(1), and the resulting list order is
    /// still a pure function of the seed and the sequence of <see cref="Execute"/> calls.
    /// </summary>
    private IRunnable? TakeRandomRunnable()
    {
        lock (_gate)
        {
            var count = _runnable.Count;
            if (count == 0)
            {
                return null;
            }

            var index = _strategy.Choose(_runnable, Interlocked.Increment(ref _steps) - 1);
            var chosen = _runnable[index];
            _runnable[index] = _runnable[count - 1];
            _runnable.RemoveAt(count - 1);
            return chosen;
        }
    }
}

using System.Globalization;
using Akka.Configuration;
using Akka.Dispatch;

namespace ActorNuma.Simulation.Scheduling;

/// <summary>
/// The dispatcher behind <see cref="DeterministicConfig.DispatcherId"/> in the deterministic mode: it hands every
/// runnable mailbox to one <see cref="SeededExecutor"/> and makes each mailbox run process exactly one message.
/// </summary>
/// <remarks>
/// A custom dispatcher rather than the stock <c>Dispatcher</c> with a custom executor, for two reasons. The stock
/// one discards its executor in <c>Shutdown()</c> (scheduled <c>shutdown-timeout</c> after its last actor stops)
/// and asks the factory for a new one, which would drop the seeded ready list; here the executor is a constructor
/// argument and <see cref="Shutdown"/> keeps it. And the executor is reachable from the dispatcher itself, so no
/// static registry keyed by actor system is needed.
/// </remarks>
public sealed class DeterministicDispatcher : MessageDispatcher
{
    /// <summary>
    /// Akka.NET 1.5.73's mailbox runs <c>throughput + 1</c> messages per run (measured here:
    /// throughput 1 without a deadline gives runs of 2), while newer sources stop at <c>throughput</c>. Any positive
    /// deadline stops the run after the first message, because <c>Mailbox.ProcessMailbox</c> compares the clock
    /// with the configured duration itself, which has always passed. Both settings
    /// together give one message per run in either version; <c>Each_mailbox_run_processes_exactly_one_message</c>
    /// re-checks it on every upgrade.
    /// </summary>
    private static readonly long OneMessageDeadlineTicks = TimeSpan.FromMilliseconds(1).Ticks;

    internal DeterministicDispatcher(
        MessageDispatcherConfigurator configurator, string id, SeededExecutor executor, TimeSpan shutdownTimeout)
        : base(configurator)
    {
        Id = id;
        Throughput = 1;
        ThroughputDeadlineTime = OneMessageDeadlineTicks;
        ShutdownTimeout = shutdownTimeout;
        Executor = executor;
    }

    /// <summary>The executor the pump drives; the same instance for the life of the actor system.</summary>
    public SeededExecutor Executor { get; }

    /// <inheritdoc />
    protected override void ExecuteTask(IRunnable run) => Executor.Execute(run);

    /// <summary>
    /// Keeps the executor: Akka calls this when the dispatcher has had no actors for <c>shutdown-timeout</c>, but
    /// actors created later must still land in the same seeded ready list.
    /// </summary>
    protected override void Shutdown()
    {
    }
}

/// <summary>
/// Builds the single <see cref="DeterministicDispatcher"/> of an actor system from its HOCON block; Akka
/// instantiates it by the <c>type</c> key that <see cref="DeterministicConfig.Create"/> writes.
/// </summary>
public sealed class DeterministicDispatcherConfigurator : MessageDispatcherConfigurator
{
    private readonly DeterministicDispatcher _dispatcher;

    /// <summary>Called by Akka's <c>Dispatchers</c> with the dispatcher's own config block.</summary>
    /// <exception cref="ConfigurationException">The <c>seed</c> key is missing or not an integer.</exception>
    public DeterministicDispatcherConfigurator(Config config, IDispatcherPrerequisites prerequisites)
        : base(config, prerequisites)
    {
        var id = config.GetString("id", DeterministicConfig.DispatcherId);
        var seed = ReadSeed(config, id);
        var shutdownTimeout = config.GetTimeSpan("shutdown-timeout", TimeSpan.FromSeconds(1));
        _dispatcher = new DeterministicDispatcher(this, id, new SeededExecutor(id, seed), shutdownTimeout);
    }

    /// <summary>
    /// Returns the same instance on every call: Akka looks dispatchers up per actor, and two instances would mean
    /// two ready lists and two random sequences.
    /// </summary>
    public override MessageDispatcher Dispatcher() => _dispatcher;

    private static int ReadSeed(Config config, string id)
    {
        var raw = config.GetString("seed", null);
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed))
        {
            throw new ConfigurationException(
                $"{id}.seed must be a 32-bit integer but is '{raw ?? "missing"}': " +
                "build the config with DeterministicConfig.Create(seed).");
        }

        return seed;
    }
}

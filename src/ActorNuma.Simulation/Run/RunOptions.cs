using ActorNuma.Kernel;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Run;

/// <summary>How to run a scenario, over what its file says.</summary>
public sealed record RunOptions
{
    public int? Seed { get; init; }
    public RunMode? Mode { get; init; }
    /// <summary>Run the checkers at every quiescent point between steps (else only at the end).</summary>
    public bool CheckEveryStep { get; init; } = true;
    /// <summary>Bound on scheduler steps in deterministic mode.</summary>
    public long MaxSteps { get; init; } = 2_000_000_000;
    /// <summary>Concurrent mode's liveness: a run whose kernel actors handle no message for this long, while a step is
    /// outstanding or the machine is not at rest and no device completion or kernel timer is pending, is reported as
    /// stalled (<see cref="ProgressWatch"/>). There is no bound on a run that keeps making progress.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Overrides the scenario's kernel settings (used by benchmarks: batch sizes).</summary>
    public Func<KernelSettings, KernelSettings>? Tune { get; init; }
    /// <summary>How many trace events the report keeps in memory (all are hashed).</summary>
    public int TraceKeep { get; init; } = 100_000;
    /// <summary>Initial capacity of the trace's hash buffers (small for the short machines of an exploration).</summary>
    public int TraceBufferChars { get; init; } = KernelTrace.DefaultBufferChars;
    /// <summary>Runs at the end, while the machine is still up (used by the memory benchmark).</summary>
    public Action<KernelMachine>? AtEnd { get; init; }
    /// <summary>Bytes the machine may need (<see cref="MemoryEstimate"/>); null: <see cref="MemoryEstimate.DefaultLimit"/>.</summary>
    public long? MaxMemory { get; init; }
    /// <summary>Deterministic mode: chooses the next mailbox instead of the uniform choice from the seed (explore's
    /// strategies; a strategy object serves one run).</summary>
    public IScheduleStrategy? Strategy { get; init; }
    /// <summary>Deterministic mode: records every message delivered to an actor (replay's message trace, kernel-style
    /// trace and timeline). It gives actors a mailbox of its own, which leaves the schedule as it is.</summary>
    public Explore.DeliveryLog? Deliveries { get; init; }
    /// <summary>Counts what each kernel handler allocates (the bench's breakdown of bytes per page); null: not counted.</summary>
    public HandlerAllocation? Allocation { get; init; }
    /// <summary>Where the run's actor system logs (null: the console's standard error, <see cref="Logging.ConsoleLogger"/>).</summary>
    public Serilog.ILogger? Logger { get; init; }
}

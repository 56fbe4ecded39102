using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.TestKit;

/// <summary>How the seeded executor chooses the next mailbox of a schedule.</summary>
public enum ScheduleStrategy
{
    /// <summary>Uniformly among the runnable mailboxes (the seeds of <c>actornuma run</c>).</summary>
    Random,

    /// <summary>Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010), as <c>actornuma explore --strategy pct</c>.</summary>
    Pct,
}

/// <summary>
/// One schedule of a deterministic machine: the seed and the strategy that turns it into mailbox choices. The same
/// schedule with the same test body replays the same run, step for step.
/// </summary>
/// <param name="Seed">Names the schedule.</param>
/// <param name="Strategy">Random (default) or PCT.</param>
/// <param name="PctDepth">PCT's bug depth d (priority change points + 1).</param>
/// <param name="PctSteps">PCT's k: change points fall in the first k steps.</param>
public sealed record KernelSchedule(int Seed, ScheduleStrategy Strategy = ScheduleStrategy.Random, int PctDepth = 3, long PctSteps = 2000)
{
    private static readonly AsyncLocal<KernelSchedule?> Ambient = new();

    /// <summary>The schedule a <see cref="KernelTheoryAttribute"/> test case runs under (null outside one): a machine
    /// booted without an explicit schedule takes it.</summary>
    public static KernelSchedule? Current
    {
        get => Ambient.Value;
        internal set => Ambient.Value = value;
    }

    /// <summary>"seed 17, strategy random" (with pct's depth and steps).</summary>
    /// <returns>The schedule as text.</returns>
    public override string ToString() => Strategy == ScheduleStrategy.Pct
        ? $"seed {Seed}, strategy pct (depth {PctDepth}, steps {PctSteps})"
        : $"seed {Seed}, strategy random";

    internal IScheduleStrategy CreateStrategy() => ScheduleStrategies.Create(
        Strategy == ScheduleStrategy.Pct ? StrategyKind.Pct : StrategyKind.Random, Seed, PctDepth, PctSteps);
}

using Akka.Dispatch;

namespace ActorNuma.Simulation.Scheduling;

/// <summary>
/// Decides which runnable mailbox of the <see cref="SeededExecutor"/> runs next. The executor keeps the ready list
/// (appended by <c>Execute</c>, the chosen entry replaced by the last); the strategy only picks an index, so every
/// strategy sees the same list for the same history of choices and a schedule is a pure function of the strategy's
/// own state.
/// </summary>
/// <remarks>Called on the pump's thread under the executor's lock: it must not tell actors or block.</remarks>
public interface IScheduleStrategy
{
    /// <summary>The index in <paramref name="runnable"/> (never empty) of the mailbox to run at step <paramref name="step"/>.</summary>
    int Choose(IReadOnlyList<IRunnable> runnable, long step);
}

/// <summary>
/// Uniform choice among the runnable mailboxes from <c>new Random(seed)</c>: the default, and the strategy every
/// seed of <c>actornuma run</c> names.
/// </summary>
public sealed class RandomStrategy(int seed) : IScheduleStrategy
{
    private readonly Random _random = new(seed);

    /// <inheritdoc />
    public int Choose(IReadOnlyList<IRunnable> runnable, long step) => _random.Next(runnable.Count);
}

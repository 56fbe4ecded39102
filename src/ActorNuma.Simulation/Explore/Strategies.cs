using Akka.Dispatch;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Explore;

/// <summary>How an exploration chooses the next mailbox of each schedule.</summary>
public enum StrategyKind
{
    /// <summary>Uniform among the runnable mailboxes: the seeds of <c>actornuma run</c>.</summary>
    Random,

    /// <summary>Probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010).</summary>
    Pct,
}

/// <summary>Builds the strategy of one schedule from its seed, so that a seed names a schedule for a given kind and depth.</summary>
public static class ScheduleStrategies
{
    public static CountingStrategy Create(StrategyKind kind, int seed, int depth, long expectedSteps) => new(kind switch
    {
        StrategyKind.Random => new RandomStrategy(seed),
        StrategyKind.Pct => new PctStrategy(seed, depth, expectedSteps),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such strategy"),
    });

    public static string Name(StrategyKind kind) => kind.ToString().ToLowerInvariant();
}

/// <summary>
/// Counts the preemptions of a schedule while another strategy chooses: a step that runs a different actor while the
/// one that ran last still has messages (CHESS's measure; a switch away from an idle actor is free).
/// </summary>
public sealed class CountingStrategy(IScheduleStrategy inner) : IScheduleStrategy
{
    private IRunnable? _last;

    public int Preemptions { get; private set; }

    /// <inheritdoc />
    public int Choose(IReadOnlyList<IRunnable> runnable, long step)
    {
        var index = inner.Choose(runnable, step);
        var chosen = runnable[index];
        if (_last is not null && !ReferenceEquals(chosen, _last) && Contains(runnable, _last)) Preemptions++;
        _last = chosen;
        return index;
    }

    private static bool Contains(IReadOnlyList<IRunnable> runnable, IRunnable mailbox)
    {
        for (var k = 0; k < runnable.Count; k++)
            if (ReferenceEquals(runnable[k], mailbox)) return true;
        return false;
    }
}

/// <summary>
/// PCT with depth <c>d</c>: every actor gets a random priority above <c>d</c> when its mailbox is first runnable; the
/// runnable actor of highest priority always runs; at <c>d − 1</c> change points drawn uniformly from the
/// <c>k</c> expected steps, the actor that runs gets priority <c>i</c> (1 ≤ i &lt; d), below every initial one.
/// For a bug that needs <c>d</c> ordering constraints among <c>n</c> actors, one schedule finds it with probability
/// at least <c>1 / (n · k^(d−1))</c>.
/// </summary>
public sealed class PctStrategy : IScheduleStrategy
{
    private readonly Random _random;
    private readonly int _depth;
    private readonly long[] _changePoints;
    private readonly Dictionary<IRunnable, double> _priority = new(ReferenceEqualityComparer.Instance);

    /// <param name="seed">Draws the priorities and the change points.</param>
    /// <param name="depth">The bug depth d (at least 1).</param>
    /// <param name="expectedSteps">k: the change points fall in [0, k).</param>
    public PctStrategy(int seed, int depth, long expectedSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(depth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(expectedSteps, 1);
        _random = new Random(seed);
        _depth = depth;
        _changePoints = new long[depth - 1];
        for (var i = 0; i < _changePoints.Length; i++) _changePoints[i] = _random.NextInt64(expectedSteps);
    }

    /// <inheritdoc />
    public int Choose(IReadOnlyList<IRunnable> runnable, long step)
    {
        var best = 0;
        var bestPriority = double.MinValue;
        for (var k = 0; k < runnable.Count; k++)
        {
            if (!_priority.TryGetValue(runnable[k], out var p)) _priority[runnable[k]] = p = _depth + _random.NextDouble();
            if (p > bestPriority) (best, bestPriority) = (k, p);
        }
        for (var i = 0; i < _changePoints.Length; i++)
            if (_changePoints[i] == step) _priority[runnable[best]] = i + 1;
        return best;
    }
}

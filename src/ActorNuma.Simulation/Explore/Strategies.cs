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

    /// <summary>Every schedule with at most k deviations from the default, depth first (<see cref="BoundedSearch"/>).</summary>
    Bounded,
}

/// <summary>Builds the strategy of one schedule from its seed, so that a seed names a schedule for a given kind and depth.</summary>
public static class ScheduleStrategies
{
    public static CountingStrategy Create(StrategyKind kind, int seed, int depth, long expectedSteps) => new(kind switch
    {
        StrategyKind.Random => new RandomStrategy(seed),
        StrategyKind.Pct => new PctStrategy(seed, depth, expectedSteps),
        StrategyKind.Bounded => throw new ArgumentException("a bounded schedule is named by its prefix: BoundedSearch.PrefixOf", nameof(kind)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such strategy"),
    });

    public static string Name(StrategyKind kind) => kind.ToString().ToLowerInvariant();
}

/// <summary>
/// Counts how often a schedule deviates from the default schedule while another strategy chooses: the default runs
/// the actor that ran last while it has messages (switching away is a preemption, CHESS's measure) and otherwise the
/// oldest runnable mailbox. The bounded strategy bounds exactly this count, so a shrunk schedule compares with it.
/// </summary>
public sealed class CountingStrategy(IScheduleStrategy inner) : IScheduleStrategy
{
    private IRunnable? _last;

    public int Deviations { get; private set; }

    /// <inheritdoc />
    public int Choose(IReadOnlyList<IRunnable> runnable, long step)
    {
        var index = inner.Choose(runnable, step);
        if (index != DefaultIndex(runnable, _last))
        {
            Deviations++;
        }

        _last = runnable[index];
        return index;
    }

    /// <summary>The default choice: the mailbox that ran last if it is runnable again, else the oldest (index 0).</summary>
    public static int DefaultIndex(IReadOnlyList<IRunnable> runnable, IRunnable? last)
    {
        for (var k = 0; k < runnable.Count; k++)
        {
            if (ReferenceEquals(runnable[k], last))
            {
                return k;
            }
        }

        return 0;
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
        for (var i = 0; i < _changePoints.Length; i++)
        {
            _changePoints[i] = _random.NextInt64(expectedSteps);
        }
    }

    /// <inheritdoc />
    public int Choose(IReadOnlyList<IRunnable> runnable, long step)
    {
        var best = 0;
        var bestPriority = double.MinValue;
        for (var k = 0; k < runnable.Count; k++)
        {
            if (!_priority.TryGetValue(runnable[k], out var p))
            {
                _priority[runnable[k]] = p = _depth + _random.NextDouble();
            }

            if (p > bestPriority)
            {
                (best, bestPriority) = (k, p);
            }
        }
        for (var i = 0; i < _changePoints.Length; i++)
        {
            if (_changePoints[i] == step)
            {
                _priority[runnable[best]] = i + 1;
            }
        }

        return best;
    }
}

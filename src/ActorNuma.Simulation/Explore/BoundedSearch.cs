using Akka.Dispatch;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Explore;

/// <summary>
/// Follows a given prefix of choices, then the default schedule: the actor that ran last runs on while it has
/// messages, and when it has none the oldest runnable mailbox runs. Records, at every step, how many mailboxes were
/// runnable and which one was the default, so that <see cref="BoundedSearch"/> can enumerate the alternatives.
/// </summary>
public sealed class BoundedStrategy(IReadOnlyList<int> prefix) : IScheduleStrategy
{
    private IRunnable? _last;

    /// <summary>One step: the runnable count, the default's index and the index chosen.</summary>
    public readonly record struct Point(int Runnable, int Default, int Chosen);

    public List<Point> Points { get; } = [];

    /// <inheritdoc />
    public int Choose(IReadOnlyList<IRunnable> runnable, long step)
    {
        var preferred = CountingStrategy.DefaultIndex(runnable, _last);
        var chosen = step < prefix.Count ? prefix[(int)step] : preferred;
        if (chosen >= runnable.Count)
        {
            throw new InvalidOperationException($"bounded schedule prefix step {step} names mailbox {chosen} of {runnable.Count}: the run is not deterministic");
        }

        Points.Add(new Point(runnable.Count, preferred, chosen));
        _last = runnable[chosen];
        return chosen;
    }
}

/// <summary>
/// Systematic exploration in the manner of CHESS (Musuvathi, Qadeer et al., OSDI 2008): every schedule that deviates
/// from the default schedule at most <c>k</c> times, in depth-first order, each found by re-running the scenario with
/// the prefix of choices that leads to it. A deviation is a preemption (switching away from an actor that still has
/// messages) or, when the running actor has none, running another mailbox than the oldest; bounding both (delay
/// bounding, Emmi, Qadeer and Rakamarić, POPL 2011) keeps the count polynomial in the schedule's length, k being the
/// exponent. The search is complete when it ends before its budget.
/// </summary>
public static class BoundedSearch
{
    public sealed record Result(IReadOnlyList<ScheduleResult> Schedules, bool Complete);

    /// <param name="bound">k, the most deviations a schedule may have.</param>
    /// <param name="budget">The most schedules to run; the search is incomplete when it stops there.</param>
    /// <param name="stop">Checked after each schedule: ends the search early (stop on first failure).</param>
    public static Result Run(LoadedScenario scenario, int bound, int budget, Func<ScheduleResult, bool> stop,
        Action<int>? progress = null)
    {
        var results = new List<ScheduleResult>();
        var complete = Walk(scenario, bound, budget, (result, _) =>
        {
            results.Add(result);
            progress?.Invoke(results.Count);
            return stop(result);
        });
        return new Result(results, complete);
    }

    /// <summary>The prefix of choices that leads to schedule <paramref name="number"/> (1-based) of the search, for
    /// replaying it: the search is run again up to it, which is deterministic.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The search has fewer schedules.</exception>
    public static IReadOnlyList<int> PrefixOf(LoadedScenario scenario, int bound, int number)
    {
        IReadOnlyList<int>? found = null;
        var count = 0;
        Walk(scenario, bound, number, (_, prefix) =>
        {
            if (++count == number)
            {
                found = prefix;
            }

            return found is not null;
        });
        return found ?? throw new ArgumentOutOfRangeException(nameof(number), number,
            $"the bounded search with at most {bound} deviations has only {count} schedules");
    }

    /// <summary>Runs schedules in depth-first order until <paramref name="visit"/> says stop, the budget is spent, or
    /// none is left; true in the last case (the search was complete).</summary>
    private static bool Walk(LoadedScenario scenario, int bound, int budget, Func<ScheduleResult, IReadOnlyList<int>, bool> visit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bound);
        using var worker = new ExploreWorker(scenario);
        var prefix = new List<int>();
        for (var n = 1; n <= budget; n++)
        {
            var strategy = new BoundedStrategy(prefix);
            var result = worker.Run(n, new CountingStrategy(strategy));
            var next = Next(strategy.Points, bound);
            if (visit(result, prefix))
            {
                return next is null;
            }

            if (next is null)
            {
                return true;
            }

            prefix = next;
        }
        return false;
    }

    /// <summary>The prefix of the next schedule in depth-first order, or null when every schedule within the bound has
    /// been run. At each step the alternatives are taken in the order: the default, then the other indices ascending.</summary>
    public static List<int>? Next(IReadOnlyList<BoundedStrategy.Point> points, int bound)
    {
        var used = new int[points.Count + 1];
        for (var i = 0; i < points.Count; i++)
        {
            used[i + 1] = used[i] + (points[i].Chosen != points[i].Default ? 1 : 0);
        }

        for (var i = points.Count - 1; i >= 0; i--)
        {
            var p = points[i];
            if (used[i] + 1 > bound)
            {
                continue;
            }

            var alt = NextAlternative(p);
            if (alt < 0)
            {
                continue;
            }

            var prefix = new List<int>(i + 1);
            for (var j = 0; j < i; j++)
            {
                prefix.Add(points[j].Chosen);
            }

            prefix.Add(alt);
            return prefix;
        }
        return null;
    }

    /// <summary>The alternative after the one chosen at <paramref name="p"/>, or −1: after the default comes index 0,
    /// and the default itself is skipped among the others.</summary>
    private static int NextAlternative(BoundedStrategy.Point p)
    {
        var next = p.Chosen == p.Default ? 0 : p.Chosen + 1;
        if (next == p.Default)
        {
            next++;
        }

        return next < p.Runnable ? next : -1;
    }
}

using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Explore;

/// <summary>
/// Looks for a failing schedule with as few deviations from the default schedule as possible: the bounded search with
/// at most 0, 1, 2, ... deviations, up to the deviations of the failing schedule it started from, stopping at the
/// first failure. When every smaller bound was searched completely, the schedule found has the fewest deviations of
/// any failing schedule.
/// </summary>
public static class Shrinker
{
    /// <param name="Bound">The bound of the search that found it: the schedule has at most this many deviations.</param>
    /// <param name="Number">Its number in that search (replay's --seed with --strategy bounded --depth Bound).</param>
    /// <param name="Minimal">Every search with a smaller bound was complete and found no failure.</param>
    public sealed record Shrunk(int Bound, int Number, ScheduleResult Schedule, bool Minimal);

    /// <param name="original">A failing schedule; the search never goes beyond its deviations.</param>
    /// <param name="budget">The most schedules each bound's search may run.</param>
    /// <returns>Null when no search within the budgets found a failing schedule.</returns>
    public static Shrunk? Shrink(LoadedScenario scenario, ScheduleResult original, int budget)
    {
        var minimal = true;
        for (var bound = 0; bound <= original.Deviations; bound++)
        {
            var search = BoundedSearch.Run(scenario, bound, budget, r => r.Failed);
            if (search.Schedules.Count > 0 && search.Schedules[^1] is { Failed: true } found)
            {
                return new Shrunk(bound, search.Schedules.Count, found, minimal);
            }

            minimal &= search.Complete;
        }
        return null;
    }
}

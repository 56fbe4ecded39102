using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Tests.Explore;

/// <summary>The bounded strategy enumerates every schedule within its bound and says whether it did; shrinking finds
/// a failing schedule with no more deviations than the one it started from.</summary>
[Trait("kind", "race")]
public sealed class BoundedSearchTests
{
    [Fact]
    public void Depth_first_order_tries_the_default_then_the_other_mailboxes_at_the_deepest_step_within_the_bound()
    {
        BoundedStrategy.Point[] points = [new(3, 1, 1), new(2, 0, 0), new(1, 0, 0)];

        Assert.Equal([1, 1], BoundedSearch.Next(points, bound: 1));
        Assert.Equal([0], BoundedSearch.Next([new(3, 1, 1), new(2, 0, 1)], bound: 1));
        Assert.Null(BoundedSearch.Next([new(3, 1, 2), new(2, 0, 0)], bound: 1));
        Assert.Null(BoundedSearch.Next(points, bound: 0));
    }

    /// <remarks>Pins the number of schedules of the test race (60 within one deviation): it counts the kernel's
    /// messages, so a change to the migration protocol changes it.</remarks>
    [Fact]
    public void The_search_within_one_deviation_is_complete_with_an_exact_number_of_schedules_and_a_smaller_budget_is_not()
    {
        var scenario = TestRaces.Load(TestRaces.MoveVsChildWrites);

        var zero = BoundedSearch.Run(scenario, bound: 0, budget: 1000, _ => false);
        var one = BoundedSearch.Run(scenario, bound: 1, budget: 1000, _ => false);
        var cut = BoundedSearch.Run(scenario, bound: 1, budget: 50, _ => false);

        Assert.True(zero.Complete);
        Assert.Single(zero.Schedules);
        Assert.True(one.Complete);
        Assert.Equal(60, one.Schedules.Count);
        Assert.All(one.Schedules, r => Assert.True(r.Deviations <= 1));
        Assert.False(cut.Complete);
        Assert.Equal(50, cut.Schedules.Count);
    }

    [Fact]
    public void A_bounded_schedule_replayed_from_its_number_has_the_trace_hash_the_search_found()
    {
        var scenario = TestRaces.Load(TestRaces.MoveVsChildWrites);
        var search = BoundedSearch.Run(scenario, bound: 1, budget: 40, _ => false);

        var replay = ScenarioRunner.Run(scenario, new RunOptions
        {
            Seed = 37, Strategy = new BoundedStrategy(BoundedSearch.PrefixOf(scenario, 1, 37)),
        });

        Assert.Equal(search.Schedules[36].TraceSha256, replay.TraceSha256);
    }

    [Fact]
    public void Shrinking_a_failing_random_schedule_finds_a_failing_one_with_no_more_deviations()
    {
        var scenario = TestRaces.Load(TestRaces.TwoMoversNoWarning);
        var explored = Explorer.Explore(scenario, new ExploreOptions { Seeds = Enumerable.Range(1, 20).ToArray(), Workers = 1 });
        var original = explored.Failing[0];

        var shrunk = Shrinker.Shrink(scenario, original, budget: 200);

        Assert.NotNull(shrunk);
        Assert.True(shrunk.Schedule.Failed);
        Assert.True(shrunk.Schedule.Deviations <= original.Deviations);
        Assert.Equal(shrunk.Bound, shrunk.Schedule.Deviations);
        Assert.True(shrunk.Minimal);
    }
}

using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Tests.Explore;

/// <summary>An exploration is a function of the scenario, the seeds and the strategy: not of the number of workers
/// or of which worker ran which seed; and its verdict for a seed is the verdict of a fresh run of that seed.</summary>
[Trait("kind", "race")]
public sealed class ExplorerTests
{
    private static ExploreSummary Explore(int workers, bool stopOnFirst = false, int count = 200,
        StrategyKind strategy = StrategyKind.Random) =>
        Explorer.Explore(TestRaces.Load(TestRaces.MoveVsChildWrites), new ExploreOptions
        {
            Seeds = Enumerable.Range(1, count).ToArray(), Workers = workers, StopOnFirst = stopOnFirst, Strategy = strategy,
        });

    /// <remarks>The race of <see cref="TestRaces.CowCopyVsSwapoutPass"/> needs two orderings at once (the child's
    /// fault starts before a pass's try_to_unmap and finishes after it). Random fails first at seed 368, one store
    /// faulting twice; pct of depth 2 at its 5th schedule, where node 1 has the lowest priority and all eight copies
    /// wait through the pass. Both counts move with the kernel's message flow.</remarks>
    [Fact]
    public void Pct_of_depth_2_finds_the_copy_on_write_fault_vs_swapout_race_in_fewer_schedules_than_random()
    {
        var scenario = TestRaces.Load(TestRaces.CowCopyVsSwapoutPass);
        ExploreSummary FirstFailure(StrategyKind strategy) => Explorer.Explore(scenario, new ExploreOptions
        {
            Seeds = Enumerable.Range(1, 1500).ToArray(), Workers = 2, StopOnFirst = true, Strategy = strategy, Depth = 2,
        });

        var random = FirstFailure(StrategyKind.Random);
        var pct = FirstFailure(StrategyKind.Pct);

        Assert.Equal(368, random.Results.Count);
        Assert.Equal(5, pct.Results.Count);
        Assert.Equal("step 8 (expect-vmstat): pgfault is 17, expected 16", random.Failing[0].Failures[0]);
        Assert.Equal("step 8 (expect-vmstat): pgfault is 32, expected 16", pct.Failing[0].Failures[0]);
    }

    [Fact]
    public void One_worker_and_two_workers_find_the_same_outcome_for_every_seed()
    {
        var one = Explore(workers: 1);
        var two = Explore(workers: 2);

        Assert.Equal(one.Results.Select(r => (r.Seed, r.Outcome, r.TraceSha256)), two.Results.Select(r => (r.Seed, r.Outcome, r.TraceSha256)));
        Assert.Equal(one.Outcomes, two.Outcomes);
        Assert.True(one.Outcomes.Count >= 2, "the test race has more than one outcome");
    }

    [Fact]
    public void A_seed_fails_in_an_exploration_exactly_when_a_fresh_run_of_it_fails()
    {
        var summary = Explore(workers: 2);
        Assert.NotEmpty(summary.Failing);
        var passing = summary.Results.First(r => !r.Failed);
        foreach (var r in summary.Failing.Take(2).Append(passing))
        {
            var fresh = ScenarioRunner.Run(TestRaces.Load(TestRaces.MoveVsChildWrites), new RunOptions { Seed = r.Seed });
            Assert.Equal(r.Failed, fresh.ExitCode != 0);
            Assert.Equal(fresh.TraceSha256, r.TraceSha256);
        }
    }

    [Fact]
    public void Stop_on_first_ends_at_the_first_failing_seed_whatever_the_workers_did()
    {
        var all = Explore(workers: 1);
        var first = all.Failing[0].Seed;

        var stopped = Explore(workers: 2, stopOnFirst: true);

        Assert.Equal(first, stopped.Results[^1].Seed);
        Assert.Equal(Enumerable.Range(1, first), stopped.Results.Select(r => r.Seed));
        Assert.Single(stopped.Failing);
    }

    [Fact]
    public void The_outcome_table_counts_every_schedule_once_and_names_its_smallest_seed()
    {
        var summary = Explore(workers: 2);

        Assert.Equal(summary.Results.Count, summary.Outcomes.Sum(o => o.Count));
        foreach (var o in summary.Outcomes)
        {
            Assert.Equal(summary.Results.Where(r => r.Outcome == o.Outcome).Min(r => r.Seed), o.ExampleSeed);
        }
    }
}

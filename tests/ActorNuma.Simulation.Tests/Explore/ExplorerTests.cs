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
            Assert.Equal(summary.Results.Where(r => r.Outcome == o.Outcome).Min(r => r.Seed), o.ExampleSeed);
    }
}

using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Tests.Kernel;

namespace ActorNuma.Simulation.Tests.Explore;

/// <summary>A worker reuses one actor system for many schedules; the reuse must not show in any schedule.</summary>
[Trait("kind", "race")]
public sealed class ExploreWorkerTests
{
    private const string TwoMovers = "race-two-movers-shared-pages.conf";

    [Fact]
    public void A_schedule_run_after_many_others_has_the_trace_hash_of_a_fresh_run_of_its_seed()
    {
        var scenario = ScenarioRun.Load(TwoMovers);
        using var worker = new ExploreWorker(scenario);
        var results = new Dictionary<int, ScheduleResult>();
        for (var seed = 1; seed <= 300; seed++)
        {
            results[seed] = worker.Run(seed, ScheduleStrategies.Create(StrategyKind.Random, seed, 1, 1));
        }

        foreach (var seed in new[] { 1, 150, 300 })
        {
            var fresh = scenario.Run(seed);
            Assert.Equal(fresh.TraceSha256, results[seed].TraceSha256);
        }
        Assert.True(results.Values.Select(r => r.TraceSha256).Distinct().Count() > 100);
    }

    /// <summary>Issue #9 item 2: schedule N after 10,000 others on one worker is the schedule N a fresh actor system
    /// runs, for a catalogue race whose schedules fire a kernel warning (every seed: the warning's trace lines and the
    /// stopped machine's teardown must leave nothing behind). The measure is 10,000 schedules; on one worker
    /// they take a few seconds.</summary>
    [Fact]
    public void Catalogue_schedules_run_after_ten_thousand_others_have_the_trace_hashes_of_fresh_runs()
    {
        var scenario = ScenarioRun.Load("races/v1-missing-local-drain.conf");
        using var worker = new ExploreWorker(scenario);
        var results = new Dictionary<int, ScheduleResult>();
        for (var seed = 1; seed <= 10_001; seed++)
        {
            results[seed] = worker.Run(seed, ScheduleStrategies.Create(StrategyKind.Random, seed, 1, 1));
        }

        foreach (var seed in new[] { 1, 5_000, 10_001 })
        {
            Assert.Equal(scenario.Run(seed).TraceSha256, results[seed].TraceSha256);
        }

        Assert.All(results.Values, r => Assert.True(r.Failed));
    }
}

using ActorNuma.Mm;
using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Tests.Kernel;

namespace ActorNuma.Simulation.Tests.Explore;

/// <summary>The race catalogue of hocon/scenarios/races/: explore finds each race's bug within its budget under the
/// profile that has it, and no failure under the profile that fixed it. Counts are exact: a seed list is a schedule list.</summary>
/// <remarks>Pins kernel behaviour: the first failing seed of each race under its buggy profile (1 where the warning or
/// the leak does not depend on the interleaving, 9 for kswapd's held batch, 11 for a fault straddling the drain);
/// a change to the kernel's message flow can move it.</remarks>
[Trait("kind", "race")]
public sealed class RaceCatalogueTests
{
    private const int Budget = 20;

    [Theory]
    [InlineData("races/v1-missing-local-drain.conf", "v1", 1, "property always \"no-kernel-warning\" does not hold")]
    [InlineData("races/v2-putback-leak.conf", "v2", 1, "page-refcount: ")]
    [InlineData("races/fork-two-movers.conf", "v2", 1, "property always \"no-kernel-warning\" does not hold")]
    [InlineData("races/kswapd-holds-page-during-mbind-move.conf", "v2", 9, "property always \"no-kernel-warning\" does not hold")]
    [InlineData("races/remote-pagevec-after-drain-all.conf", "2.6.16", 11, "step 4 (expect-vmstat): emu_migrate_isolate_fail_pagevec is 2")]
    public void Explore_finds_the_race_within_its_budget_under_the_buggy_profile(string file, string profile, int seed, string failure)
    {
        var summary = Explore(file, profile, stopOnFirst: true);

        Assert.Equal(seed, summary.Results.Count);
        Assert.Equal(seed, summary.Failing[0].Seed);
        Assert.StartsWith(failure, summary.Failing[0].Failures[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("races/v1-missing-local-drain.conf", "v2")]
    [InlineData("races/v2-putback-leak.conf", "v2-fixed")]
    [InlineData("races/fork-two-movers.conf", "2.6.16")]
    [InlineData("races/kswapd-holds-page-during-mbind-move.conf", "2.6.16")]
    public void Explore_finds_no_failure_within_the_budget_under_the_fixed_profile(string file, string profile)
    {
        var summary = Explore(file, profile, stopOnFirst: false);

        Assert.Equal(Budget, summary.Results.Count);
        Assert.Empty(summary.Failing);
        Assert.False(summary.Failed);
    }

    /// <summary>No kernel drained again at isolation after 2.6.16, so the fixed side of the remote-pagevec race is
    /// 2.6.16 with V2's isolate_lru_page drain (every CPU, then a retry) in place of nothing.</summary>
    [Fact]
    public void Explore_finds_no_page_left_in_a_remote_pagevec_when_isolate_lru_page_drains_as_V2_did()
    {
        var scenario = ScenarioRun.Load("races/remote-pagevec-after-drain-all.conf");
        var drains = scenario with
        {
            Machine = scenario.Machine with { Profile = scenario.Machine.Profile with { IsolateDrain = IsolateDrain.RemoteAndLocal } },
        };

        var summary = Explore(drains, stopOnFirst: false);

        Assert.Equal(Budget, summary.Results.Count);
        Assert.Empty(summary.Failing);
    }

    private static ExploreSummary Explore(string file, string profile, bool stopOnFirst) =>
        Explore(ScenarioRun.Load(file).UnderProfile(profile), stopOnFirst);

    private static ExploreSummary Explore(LoadedScenario scenario, bool stopOnFirst) =>
        Explorer.Explore(scenario, new ExploreOptions
        {
            Seeds = Enumerable.Range(1, Budget).ToArray(), Workers = 2, StopOnFirst = stopOnFirst,
        });
}

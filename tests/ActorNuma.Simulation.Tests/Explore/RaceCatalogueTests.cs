using ActorNuma.Mm;
using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Tests.Kernel;

namespace ActorNuma.Simulation.Tests.Explore;

/// <summary>The race catalogue of hocon/scenarios/races/: explore finds each race's bug within its budget under the
/// profile that has it, and no failure under the profile that fixed it. Counts are exact: a seed list is a schedule list.</summary>
/// <remarks>Pins kernel behaviour: the first failing seed of each race under its buggy profile (1 where the warning or
/// the leak does not depend on the interleaving, 1 too for kswapd's held batch, which the file's read-ahead of 192 pages
/// times to fail in about 15% of schedules, 11 for a fault straddling the drain);
/// a change to the kernel's message flow can move it.</remarks>
[Trait("kind", "race")]
public sealed class RaceCatalogueTests
{
    private const int Budget = 20;

    [Theory]
    [InlineData("races/v1-missing-local-drain.conf", "v1", 1, "property always \"no-kernel-warning\" does not hold")]
    [InlineData("races/v2-putback-leak.conf", "v2", 1, "page-refcount: ")]
    [InlineData("races/fork-two-movers.conf", "v2", 1, "property always \"no-kernel-warning\" does not hold")]
    [InlineData("races/kswapd-holds-page-during-mbind-move.conf", "v2", 1, "property always \"no-kernel-warning\" does not hold")]
    [InlineData("races/remote-pagevec-after-drain-all.conf", "2.6.16", 11, "step 4 (expect-vmstat): emu_migrate_isolate_fail_pagevec is 2")]
    [InlineData("races/swap-fills-up-two-movers.conf", "v2", 1, "page-refcount: ")]
    [InlineData("races/fault-during-migration-writeback.conf", "v2", 1, "step 4 (mbind): ")]
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
    [InlineData("races/swap-fills-up-two-movers.conf", "v2-fixed")]
    [InlineData("races/unpinned-page-between-walk-and-isolate.conf", "v2")]
    [InlineData("races/unpinned-page-between-walk-and-isolate.conf", "v2-fixed")]
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

    /// <summary>Which task loses the last swap slots is the race: under v2-fixed both outcomes occur, neither fails.</summary>
    [Fact]
    public void Under_the_fixed_profile_either_mover_can_be_the_one_that_finds_the_swap_area_full()
    {
        var summary = Explore("races/swap-fills-up-two-movers.conf", "v2-fixed", stopOnFirst: false);

        Assert.Equal(2, summary.Outcomes.Count);
        Assert.Contains(summary.Outcomes, o => o.Outcome.Contains("7=[sw:8] 8=[n0:4 sw:4]", StringComparison.Ordinal));
        Assert.Contains(summary.Outcomes, o => o.Outcome.Contains("7=[n0:4 sw:4] 8=[sw:8]", StringComparison.Ordinal));
    }

    /// <summary>The writeback race is fixed by one switch alone (9 Feb 2006, try_to_unmap(page, 1)); v2-fixed keeps V2's
    /// young-refusing unmap. Pins the failing seeds among 1-20 under v2 and the EIO of the first.</summary>
    [Fact]
    public void A_fault_during_writeback_fails_the_strict_move_in_some_schedules_under_v2_and_in_none_when_migration_ignores_young()
    {
        var scenario = ScenarioRun.Load("races/fault-during-migration-writeback.conf");
        var fixedUnmap = scenario with
        {
            Machine = scenario.Machine with { Profile = scenario.Machine.Profile with { MigrationUnmapIgnoresYoung = true } },
        };

        var buggy = Explore(scenario, stopOnFirst: false);
        var fixedSummary = Explore(fixedUnmap, stopOnFirst: false);

        Assert.Equal([1, 5, 7, 17, 18], buggy.Failing.Select(r => r.Seed));
        Assert.Contains(" 4=-1!EIO ", buggy.Failing[0].Outcome, StringComparison.Ordinal);
        Assert.Equal(Budget, fixedSummary.Results.Count);
        Assert.Empty(fixedSummary.Failing);
        var bounded = Explorer.Explore(fixedUnmap, new ExploreOptions
        {
            Seeds = Enumerable.Range(1, 1000).ToArray(), Strategy = StrategyKind.Bounded, Depth = 1,
        });
        Assert.True(bounded.Complete);
        Assert.Equal(95, bounded.Results.Count);
        Assert.Empty(bounded.Failing);
    }

    [Theory]
    [InlineData("races/swap-fills-up-two-movers.conf", "v2-fixed", 76)]
    [InlineData("races/unpinned-page-between-walk-and-isolate.conf", "v2", 36)]
    public void Bounded_with_one_deviation_is_complete_and_finds_nothing_under_the_fixed_profile(string file, string profile, int schedules)
    {
        var summary = Explorer.Explore(ScenarioRun.Load(file).UnderProfile(profile), new ExploreOptions
        {
            Seeds = Enumerable.Range(1, 1000).ToArray(), Strategy = StrategyKind.Bounded, Depth = 1,
        });

        Assert.True(summary.Complete);
        Assert.Equal(schedules, summary.Results.Count);
        Assert.Empty(summary.Failing);
    }

    /// <summary>Issue #9 item 7: the Jan 2006 race has a file, which says why the model cannot express it.</summary>
    [Fact]
    public void The_catalogue_says_why_the_page_unpinned_between_walk_and_isolate_cannot_be_expressed()
    {
        var text = File.ReadAllText(ScenarioRun.PathOf("races/unpinned-page-between-walk-and-isolate.conf"));

        Assert.Contains("NOT EXPRESSIBLE IN THE MODEL", text, StringComparison.Ordinal);
        Assert.Contains("Why the model cannot express it:", text, StringComparison.Ordinal);
        Assert.Contains("mm: migration page refcounting fix", text, StringComparison.Ordinal);
    }

    [Fact]
    public void The_catalogue_holds_at_least_eight_races_each_stating_its_history_and_interleaving()
    {
        var files = Directory.GetFiles(ScenarioRun.PathOf("races"), "*.conf");

        Assert.True(files.Length >= 8, $"{files.Length} races");
        Assert.All(files, f => Assert.StartsWith("# Race", File.ReadAllText(f), StringComparison.Ordinal));
    }

    private static ExploreSummary Explore(string file, string profile, bool stopOnFirst) =>
        Explore(ScenarioRun.Load(file).UnderProfile(profile), stopOnFirst);

    private static ExploreSummary Explore(LoadedScenario scenario, bool stopOnFirst) =>
        Explorer.Explore(scenario, new ExploreOptions
        {
            Seeds = Enumerable.Range(1, Budget).ToArray(), Workers = 2, StopOnFirst = stopOnFirst,
        });
}

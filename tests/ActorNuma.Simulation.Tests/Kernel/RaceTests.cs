using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Races between two migrations of the same pages, under the seeded scheduler; each test names its seeds.</summary>
[Trait("kind", "race")]
public sealed class RaceTests
{
    private const string File = "race-two-movers-shared-pages.conf";
    private const string WarnSite = "mm/mempolicy.c:check_pte_range";

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Under_v2_each_shared_page_is_isolated_by_one_mover_and_the_other_warns_for_it(int seed)
    {
        var report = ScenarioRun.RunFile(File, seed);

        report.AssertExpectationsHeld();
        Assert.Empty(report.Violations);
        var isolated = report.Migration(4, "isolated") + report.Migration(5, "isolated");
        var elsewhere = report.Migration(4, "isolate_fail_isolated") + report.Migration(5, "isolate_fail_isolated");
        Assert.Equal(16, isolated);
        Assert.Equal(16, elsewhere);
        Assert.Equal(16, report.Warnings.Count);
        Assert.All(report.Warnings, w => Assert.Equal(WarnSite, w.Site));
        Assert.All(report.Warnings, w => Assert.Contains("IsolatedElsewhere", w.Message, StringComparison.Ordinal));
        report.AssertPages(7, [0, 0], swapped: 16);
        report.AssertPages(8, [0, 0], swapped: 16);
    }

    [Fact]
    public void Seeds_1_and_5_split_the_shared_pages_between_the_two_movers_differently()
    {
        var seed1 = ScenarioRun.RunFile(File, seed: 1);
        var seed5 = ScenarioRun.RunFile(File, seed: 5);

        Assert.NotEqual(seed1.TraceSha256, seed5.TraceSha256);
        Assert.NotEqual(seed1.Migration(4, "isolated"), seed5.Migration(4, "isolated"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Under_2_6_16_with_move_all_the_loser_skips_the_pages_silently(int seed)
    {
        var report = WithMoveAll().UnderProfile("2.6.16-swap").Run(seed);

        report.AssertClean();
        Assert.Equal(16, report.Migration(4, "isolated") + report.Migration(5, "isolated"));
        Assert.Empty(report.Warnings);
        report.AssertPages(7, [0, 0], swapped: 16);
        report.AssertPages(8, [0, 0], swapped: 16);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    public void Under_2_6_16_through_the_swap_cache_the_winner_moves_the_shared_pages_for_both_tasks_at_once(int seed)
    {
        var report = WithMoveAll().UnderProfile("2.6.16").Run(seed);

        Assert.Empty(report.Violations);
        Assert.Equal(16, report.Migration(4, "isolated") + report.Migration(5, "isolated"));
        Assert.Equal(16, report.Migration(4, "evicted") + report.Migration(5, "evicted"));
        // remove_from_swap rewrote the swap entries of both mappings: the pages are on node 1 for each, none in swap.
        report.AssertPages(7, [0, 16], swapped: 0);
        report.AssertPages(8, [0, 16], swapped: 0);
        Assert.Equal(0, report.Vmstat["pswpout"]);
    }

    /// <summary>The scenario with both movers asking for MPOL_MF_MOVE_ALL.</summary>
    private static LoadedScenario WithMoveAll() => ScenarioLoader.Parse(
        System.IO.File.ReadAllText(ScenarioRun.PathOf(File)).Replace("flags = [move]", "flags = [move_all]", StringComparison.Ordinal), File);
}

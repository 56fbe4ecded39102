namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>The V2 putback reference leak (Magnus Damm, 18 Oct 2005; reference §3.2, §11 item 2): pages that were
/// isolated but could not be evicted go back to the LRU still holding the reference isolate_lru_page took. The scenario
/// makes 16 pages fail eviction (swap too small) and then unmaps everything.</summary>
[Trait("kind", "scenario")]
public sealed class PutbackLeakTests
{
    private const string File = "migrate-swap-too-small.conf";
    private const int FreeFrames = 2 * 1024 - 1;   // both nodes' frames but the zero page

    [Fact]
    public void Under_v2_the_page_refcount_checker_reports_every_put_back_page_as_leaked_and_the_run_exits_3()
    {
        var report = ScenarioRun.RunFile(File, seed: 1, profile: "v2");

        // The kernel did what the scenario says; only the checker objects.
        report.AssertExpectationsHeld();
        Assert.NotEmpty(report.Violations);
        Assert.Equal(3, report.ExitCode);
        Assert.All(report.Violations, v => Assert.StartsWith("page-refcount: ", v));
        // 4 pages of the STRICT|MOVE call and 12 of the MOVE call were put back.
        Assert.Equal(16, report.RefcountViolationPfns().Count);
        Assert.Equal(16, report.Vmstat["emu_migrate_putback"]);
        // After both munmaps nothing maps them and nothing can free them.
        Assert.Equal(FreeFrames - 16, report.Vmstat["emu_nr_free"]);
        Assert.Equal(16, report.Violations.Count(v => v.Contains("it can never be freed", StringComparison.Ordinal)));
    }

    [Fact]
    public void Under_v2_fixed_the_same_run_is_clean_and_every_frame_is_freed()
    {
        var report = ScenarioRun.RunFile(File, seed: 1, profile: "v2-fixed");

        report.AssertClean();
        Assert.Equal(0, report.ExitCode);
        Assert.Equal(16, report.Vmstat["emu_migrate_putback"]);
        Assert.Equal(FreeFrames, report.Vmstat["emu_nr_free"]);
    }

    [Fact]
    public void Under_2_6_16_putback_through_the_pagevec_leaks_nothing_and_a_full_swap_area_counts_as_no_swap()
    {
        var report = ScenarioRun.RunFile(File, seed: 1, profile: "2.6.16-swap");

        Assert.Empty(report.Violations);
        // check_range's "Fail with error if swap not setup" tests nr_swap_pages <= 0, which a FULL swap area meets too:
        // the second mbind is ENODEV before any page is isolated, so only the first call's 4 pages are put back.
        report.AssertFailed(8, ActorNuma.Mm.Errno.ENODEV);
        Assert.All(report.Steps.Where(s => s.Index != 8), s => Assert.True(s.Ok, $"step {s.Index}: {s.Message}"));
        Assert.Equal(4, report.Vmstat["emu_migrate_putback"]);
        Assert.Equal(FreeFrames, report.Vmstat["emu_nr_free"]);
    }

    [Fact]
    public void Under_2_6_16_as_merged_eight_slots_move_all_twelve_pages_since_each_slot_is_freed_before_the_next_page()
    {
        var report = ScenarioRun.RunFile(File, seed: 1, profile: "2.6.16");

        Assert.Empty(report.Violations);
        // add_to_swap, the copy and remove_from_swap run page by page: the slot is free again before the next page asks.
        report.AssertReturned(4, 0);
        Assert.Equal(12, report.Migration(4, "evicted"));
        Assert.Equal(0, report.Migration(4, "failed"));
        report.AssertPages(5, [0, 12], swapped: 0);
        Assert.Equal(0, report.Vmstat["pswpout"]);
        Assert.Equal(FreeFrames, report.Vmstat["emu_nr_free"]);
    }

    [Fact]
    public void Under_v1_the_reference_leaks_too_since_the_fix_came_after_v2()
    {
        var report = ScenarioRun.RunFile(File, seed: 1, profile: "v1");

        Assert.Equal(3, report.ExitCode);
        Assert.NotEmpty(report.RefcountViolationPfns());
    }

    [Fact]
    public void Under_v2_the_pages_isolated_before_an_efault_for_a_hole_are_put_back_with_the_leaked_reference()
    {
        var fixedRun = ScenarioRun.RunFile("migrate-move-over-a-hole.conf", seed: 1);
        var v2 = ScenarioRun.RunFile("migrate-move-over-a-hole.conf", seed: 1, profile: "v2");

        fixedRun.AssertClean();
        v2.AssertExpectationsHeld();
        v2.AssertFailed(4, ActorNuma.Mm.Errno.EFAULT);
        Assert.Equal(8, v2.RefcountViolationPfns().Count);
        Assert.Equal(3, v2.ExitCode);
    }
}

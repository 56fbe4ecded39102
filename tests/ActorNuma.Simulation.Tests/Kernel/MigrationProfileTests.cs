using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Issue 3 §5: the same migration scenarios under the kernel profiles v1, v2, v2-fixed and 2.6.16, showing
/// what each version of the swap-migration patches does with pagevec pages, shared pages and a short swap area.</summary>
[Trait("kind", "scenario")]
public sealed class MigrationProfileTests
{
    private const ulong Base = 0x10000000;
    private const string WarnSite = "mm/mempolicy.c:check_pte_range";

    [Fact]
    public void Under_v1_the_pages_still_in_the_callers_own_pagevec_stay_behind_and_each_fires_the_warn_on()
    {
        int[] stuck = [];
        var report = ScenarioRun.RunFile("migrate-own-pagevec.conf", seed: 1, profile: "v1",
            atEnd: m => stuck = ScenarioRun.MappedPfns(m, "a", Base + 14 * 4096, 6));

        report.AssertClean();
        // mbind(STRICT|MOVE) returned 0: the six were never isolated, so nothing on the page list failed.
        report.AssertReturned(3, 0);
        report.AssertPages(4, [6, 0], swapped: 14);
        report.AssertPages(7, [6, 14], swapped: 0);
        Assert.Equal(6, report.Migration(3, "isolate_fail_pagevec"));
        Assert.Equal(14, report.Migration(3, "evicted"));
        Assert.Equal(6, report.Warnings.Count);
        Assert.All(report.Warnings, w => Assert.Equal(WarnSite, w.Site));
        // The warnings name exactly the pfns of the last six pages written, which are still mapped on node 0.
        Assert.Equal(stuck.Order(), report.Warnings.Select(w => w.Pfn).Order());
        Assert.All(stuck, pfn => Assert.True(pfn < 1024, $"pfn {pfn} is not on node 0"));
        Assert.Equal(6, report.Vmstat["emu_warn_on"]);
    }

    [Theory]
    [InlineData("v2")]
    [InlineData("v2-fixed")]
    [InlineData("2.6.16-swap")]
    public void After_v1_every_profile_moves_the_callers_own_pagevec_pages_without_a_warning(string profile)
    {
        var report = ScenarioRun.RunFile("migrate-own-pagevec.conf", seed: 1, profile: profile);

        report.AssertClean();
        report.AssertReturned(3, 0);
        report.AssertPages(4, [0, 0], swapped: 20);
        report.AssertPages(7, [0, 20], swapped: 0);
        Assert.Equal(20, report.Migration(3, "evicted"));
        Assert.Empty(report.Warnings);
        Assert.Equal(20, report.Vmstat["pswpout"]);
        Assert.Equal(20, report.Vmstat["pswpin"]);
    }

    [Fact]
    public void Under_v1_after_sched_setaffinity_the_old_cpus_pagevec_is_drained_as_remote_and_only_the_new_cpus_pages_stay()
    {
        var report = ScenarioRun.RunFile("migrate-other-cpu-pagevec.conf", seed: 1, profile: "v1");

        report.AssertClean();
        report.AssertPages(6, [5, 0], swapped: 20);
        report.AssertPages(8, [5, 20], swapped: 0);
        Assert.Equal(5, report.Warnings.Count);
        Assert.Equal(5, report.Migration(5, "isolate_fail_pagevec"));
    }

    [Theory]
    [InlineData("v2")]
    [InlineData("v2-fixed")]
    [InlineData("2.6.16-swap")]
    public void After_v1_pages_in_the_old_and_the_new_cpus_pagevecs_all_move(string profile)
    {
        var report = ScenarioRun.RunFile("migrate-other-cpu-pagevec.conf", seed: 1, profile: profile);

        report.AssertClean();
        report.AssertPages(6, [0, 0], swapped: 25);
        report.AssertPages(8, [0, 25], swapped: 0);
        Assert.Empty(report.Warnings);
    }

    [Theory]
    [InlineData("migrate-own-pagevec.conf", 3, 20)]
    [InlineData("migrate-other-cpu-pagevec.conf", 5, 25)]
    public void Under_2_6_16_the_drained_pages_are_copied_to_the_new_node_at_once_without_swap_io(string file, int mbind, int pages)
    {
        var report = ScenarioRun.RunFile(file, seed: 1, profile: "2.6.16");

        Assert.Empty(report.Violations);
        report.AssertReturned(mbind, 0);
        Assert.Equal(pages, report.Migration(mbind, "evicted"));
        report.AssertPages(mbind + 1, [0, pages], swapped: 0);
        Assert.Equal(0, report.Vmstat["pswpout"]);
        Assert.Equal(0, report.Vmstat["pswpin"]);
        Assert.Equal(report.Vmstat["emu_swap_total"], report.Vmstat["emu_swap_free"]);   // every slot free again
        Assert.Empty(report.Warnings);
    }

    // ---- swap too small -----------------------------------------------------------------------------------------

    [Fact]
    public void With_too_little_swap_the_pages_that_do_not_fit_stay_on_the_old_node_and_only_strict_makes_it_eio()
    {
        var report = ScenarioRun.RunFile("migrate-swap-too-small.conf", seed: 1);

        Assert.Equal("v2-fixed", report.Profile);
        report.AssertClean();
        // STRICT|MOVE: 8 of 12 fit, 4 failed add_to_swap and stay; EIO, yet the policy is in place.
        report.AssertFailed(4, Errno.EIO);
        Assert.Equal(8, report.Migration(4, "evicted"));
        Assert.Equal(4, report.Migration(4, "failed"));
        Assert.Equal(4, report.Migration(4, "put_back"));
        report.AssertPages(5, [4, 0], swapped: 8);
        // MOVE alone with no slot left: nothing moves, and still 0.
        report.AssertReturned(8, 0);
        Assert.Equal(12, report.Migration(8, "failed"));
        report.AssertPages(9, [12, 0], swapped: 0);
        report.AssertPages(11, [4, 8], swapped: 0);
        Assert.Empty(report.Warnings);
    }

    // ---- shared pages after fork -------------------------------------------------------------------------------

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v2-fixed")]
    public void Before_2_6_16_move_evicts_pages_shared_with_a_forked_child_and_move_all_is_no_flag_yet(string profile)
    {
        var report = ScenarioRun.RunFile("migrate-shared-pages.conf", seed: 1, profile: profile);

        report.AssertClean();
        report.AssertReturned(5, 0);
        Assert.Equal(16, report.Migration(5, "evicted"));
        report.AssertPages(6, [0, 0], swapped: 16);
        report.AssertPages(7, [0, 0], swapped: 16);     // gone from the child as well
        report.AssertFailed(8, Errno.EINVAL);           // MPOL_MF_MOVE_ALL came with V3
        report.AssertPages(9, [16, 0], swapped: 0);
        report.AssertFailed(13, Errno.EINVAL);
        report.AssertPages(17, [0, 16], swapped: 0);    // a faults R1 back under its BIND {1}
        report.AssertPages(18, [16, 0], swapped: 0);
        report.AssertPages(21, [0, 16], swapped: 0);    // c finds a's pages in the swap cache: same node, no new copy
        report.AssertPages(22, [16, 0], swapped: 0);
    }

    [Fact]
    public void Under_2_6_16_move_leaves_shared_pages_and_move_all_moves_them_with_sys_nice_and_is_eperm_without()
    {
        var report = ScenarioRun.RunFile("migrate-shared-pages.conf", seed: 1, profile: "2.6.16");

        report.AssertClean();
        report.AssertReturned(5, 0);
        Assert.Equal(16, report.Migration(5, "shared_skipped"));
        Assert.Equal(0, report.Migration(5, "isolated"));
        report.AssertPages(6, [16, 0], swapped: 0);
        report.AssertPages(7, [16, 0], swapped: 0);
        report.AssertReturned(8, 0);                    // MOVE_ALL, and a holds CAP_SYS_NICE
        Assert.Equal(16, report.Migration(8, "evicted"));
        report.AssertPages(9, [0, 16], swapped: 0);     // copied through the swap cache, both mappings rewritten
        report.AssertFailed(13, Errno.EPERM);           // u has no CAP_SYS_NICE
        report.AssertPages(14, [16, 0], swapped: 0);
        report.AssertPages(17, [16, 0], swapped: 0);
        report.AssertPages(18, [0, 16], swapped: 0);
        report.AssertPages(21, [16, 0], swapped: 0);
        report.AssertPages(22, [0, 16], swapped: 0);
    }

    // ---- no swap at all ----------------------------------------------------------------------------------------

    [Fact]
    public void Under_2_6_16_move_without_any_swap_fails_with_enodev_before_the_policy_is_installed()
    {
        var report = ScenarioRun.RunFile("migrate-without-swap.conf", seed: 1);

        Assert.Equal("2.6.16", report.Profile);
        report.AssertClean();
        report.AssertFailed(3, Errno.ENODEV);
        Assert.Equal("default", report.Syscall(4).Mode);
        report.AssertFailed(6, Errno.ENODEV);
        Assert.Equal("default", report.Syscall(7).Mode);
        // migrate_to_node() ignores what check_range() returns: its -ENODEV leaves the list empty, and migrate_pages(2)
        // returns 0 pages not moved.
        report.AssertReturned(9, 0);
        report.AssertPages(10, [16, 0], swapped: 0);
    }

    [Fact]
    public void Under_2_6_16s_swap_form_migrate_pages_without_swap_fails_with_enodev_too()
    {
        var report = ScenarioRun.RunFile("migrate-without-swap.conf", seed: 1, profile: "2.6.16-swap");

        report.AssertClean();
        report.AssertFailed(3, Errno.ENODEV);
        report.AssertFailed(9, Errno.ENODEV);
        report.AssertPages(10, [16, 0], swapped: 0);
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v2-fixed")]
    public void Before_2_6_16_move_without_any_swap_fails_silently_and_installs_the_policy(string profile)
    {
        var report = ScenarioRun.RunFile("migrate-without-swap.conf", seed: 1, profile: profile);

        report.AssertExpectationsHeld();
        report.AssertReturned(3, 0);
        Assert.Equal("bind", report.Syscall(4).Mode);
        report.AssertFailed(6, Errno.EIO);              // only STRICT turns the failure into an error
        Assert.Equal("interleave", report.Syscall(7).Mode);
        // migrate_pages(2) came with 2.6.16-rc1: before it the syscall number is unassigned.
        report.AssertFailed(9, Errno.ENOSYS);
        report.AssertPages(10, [16, 0], swapped: 0);
        Assert.DoesNotContain(report.Steps, s => s.Errno == Errno.ENODEV);
        if (profile == "v2-fixed")
        {
            Assert.Empty(report.Violations);
        }
    }

    // ---- the zero page in the walk -----------------------------------------------------------------------------

    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v2-fixed")]
    public void Before_2_6_16_the_zero_page_counts_in_the_walk_strict_fails_and_move_warns_for_it(string profile)
    {
        var report = ScenarioRun.RunFile("zero-page-in-the-walk.conf", seed: 1, profile: profile);

        report.AssertClean();
        report.AssertFailed(3, Errno.EIO);
        Assert.Equal("default", report.Syscall(4).Mode);
        report.AssertReturned(5, 0);
        Assert.Equal(4, report.Migration(5, "isolate_fail_other"));
        Assert.Equal(4, report.Warnings.Count);
        Assert.All(report.Warnings, w => Assert.Equal((WarnSite, 0), (w.Site, w.Pfn)));
    }

    [Fact]
    public void Under_2_6_16_the_walk_skips_the_zero_page()
    {
        var report = ScenarioRun.RunFile("zero-page-in-the-walk.conf", seed: 1, profile: "2.6.16");

        report.AssertClean();
        report.AssertReturned(3, 0);
        Assert.Equal("bind", report.Syscall(4).Mode);
        Assert.Equal(0, report.Migration(5, "scanned"));
        Assert.Empty(report.Warnings);
    }
}

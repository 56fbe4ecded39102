using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>LTP's mbind03 and migrate_pages01/02 (reference §10) in their swap-based form, under profile 2.6.16: after
/// the move and a touch, the page is on the target node.</summary>
[Trait("kind", "scenario")]
public sealed class LtpMigrationTests
{
    [Fact]
    public void Mbind03_moves_one_page_to_the_target_node_for_each_mode_with_move_and_with_move_all()
    {
        var report = ScenarioRun.RunFile("ltp-mbind03.conf", seed: 1);

        Assert.Equal("2.6.16", report.Profile);
        report.AssertClean();
        // Six cases of seven steps: right after mbind the page is in swap, on no node; the readback faults it in on 1.
        for (var c = 0; c < 6; c++)
        {
            var first = c * 7;
            report.AssertReturned(first + 3, 0);
            report.AssertPages(first + 4, [0, 0], swapped: 1);
            Assert.Equal(1, report.Syscall(first + 5).Node);
            report.AssertPages(first + 6, [0, 1], swapped: 0);
        }
    }

    [Fact]
    public void Mbind03_under_v2_moves_with_move_but_has_no_move_all_flag()
    {
        var report = ScenarioRun.RunFile("ltp-mbind03.conf", seed: 1, profile: "v2");

        // The three MPOL_MF_MOVE cases hold; the three MPOL_MF_MOVE_ALL ones are EINVAL (V3 added the flag).
        for (var c = 0; c < 3; c++)
        {
            report.AssertPages(c * 7 + 6, [0, 1], swapped: 0);
        }

        for (var c = 3; c < 6; c++)
        {
            report.AssertFailed(c * 7 + 3, Errno.EINVAL);
        }

        Assert.Empty(report.Violations);
    }

    [Fact]
    public void Migrate_pages01_checks_its_arguments_in_the_kernels_order()
    {
        var report = ScenarioRun.RunFile("ltp-migrate-pages01.conf", seed: 1);

        report.AssertClean();
        report.AssertReturned(2, 0);
        report.AssertFailed(3, Errno.ESRCH);
        report.AssertFailed(4, Errno.ESRCH);
        report.AssertFailed(5, Errno.EINVAL);
        report.AssertFailed(6, Errno.EFAULT);
        report.AssertFailed(7, Errno.EINVAL);
        report.AssertFailed(8, Errno.EPERM);
    }

    [Fact]
    public void Migrate_pages02_moves_a_private_page_there_and_back_and_a_shared_one_only_for_a_sys_nice_caller()
    {
        var report = ScenarioRun.RunFile("ltp-migrate-pages02.conf", seed: 1);

        Assert.Equal("2.6.16", report.Profile);
        report.AssertClean();
        Assert.Equal(1, report.Migration(7, "evicted"));          // the private page
        Assert.Equal(1, report.Migration(7, "shared_skipped"));   // the shared one, MOVE without CAP_SYS_NICE
        Assert.Equal(1, report.Migration(12, "evicted"));         // the shared one, MOVE_ALL
        report.AssertPages(17, [0, 1], swapped: 0);
        report.AssertPages(18, [0, 1], swapped: 0);
        report.AssertPages(22, [1, 0], swapped: 0);
    }

    [Fact]
    public void Mbind03_under_2_6_16_as_merged_finds_the_page_on_the_target_node_right_after_mbind()
    {
        var report = ScenarioRun.RunFile("ltp-mbind03.conf", seed: 1, profile: "2.6.16");

        Assert.Empty(report.Violations);
        for (var c = 0; c < 6; c++)
        {
            var first = c * 7;
            report.AssertReturned(first + 3, 0);
            report.AssertPages(first + 4, [0, 1], swapped: 0);
            Assert.Equal(1, report.Syscall(first + 5).Node);
        }
        Assert.Equal(0, report.Vmstat["pswpout"]);
        Assert.Equal(0, report.Vmstat["pgmajfault"]);
    }

    [Fact]
    public void Migrate_pages_without_swap_fails_with_enodev_and_not_with_a_negative_count_in_the_swap_form()
    {
        var report = ScenarioRun.RunFile("migrate-without-swap.conf", seed: 1, profile: "2.6.16-swap");

        var step = report.Step(9);
        Assert.Equal("migrate_pages", step.Op);
        Assert.Equal(-1, step.Ret);
        Assert.Equal(Errno.ENODEV, step.Errno);
    }
}

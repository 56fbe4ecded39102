using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>move_pages(2) and the direct migration of 2.6.18 (mm/migrate.c): LTP move_pages01–07 and 09–11 as they
/// run on 2.6.18, the call-level errno order, per-page statuses, the ENOSYS of earlier kernels, and a fault that meets a
/// migration entry.</summary>
[Trait("kind", "scenario")]
public sealed class MovePagesTests
{
    [Theory]
    [InlineData("ltp/move_pages01.conf")]
    [InlineData("ltp/move_pages02.conf")]
    [InlineData("ltp/move_pages03.conf")]
    [InlineData("ltp/move_pages04.conf")]
    [InlineData("ltp/move_pages05.conf")]
    [InlineData("ltp/move_pages06.conf")]
    [InlineData("ltp/move_pages07.conf")]
    [InlineData("ltp/move_pages09.conf")]
    [InlineData("ltp/move_pages10.conf")]
    [InlineData("ltp/move_pages11.conf")]
    [InlineData("move-pages.conf")]
    [InlineData("move-pages-enosys.conf")]
    [InlineData("migrate-direct-2.6.18.conf")]
    public void Every_expectation_of_the_move_pages_scenarios_holds_and_no_checker_fires(string file) =>
        ScenarioRun.RunFile(file, seed: 1).AssertClean();

    [Fact]
    public void Move_pages02_moves_the_pages_with_no_swap_io_and_no_fault()
    {
        var report = ScenarioRun.RunFile("ltp/move_pages02.conf", seed: 1);

        report.AssertReturned(3, 0);
        Assert.Equal([1, 1, 1, 1], report.Syscall(3).Status!.Pages!);
        report.AssertPages(4, [0, 4], swapped: 0);
        Assert.Equal(0, report.Vmstat["pswpout"]);
        Assert.Equal(4, report.Vmstat["pgfault"]);   // the first touch only: the moved pages are mapped already
        Assert.Equal(4, report.Trace.Count(e => e.Name == "mm_migrate_page_copy"));
    }

    [Fact]
    public void Under_2_6_16_the_move_pages_scenario_gets_enosys_for_every_call()
    {
        var report = ScenarioRun.RunFile("ltp/move_pages02.conf", seed: 1, profile: "2.6.16");

        report.AssertFailed(3, Errno.ENOSYS);
        report.AssertPages(4 - 0, [4, 0], swapped: 0);
    }

    [Fact]
    public void Another_users_task_cannot_move_pages_without_cap_sys_nice_and_with_it_can()
    {
        const string hocon = """
            actornuma { topology { nodes = 2, cpus-per-node = 2, pages-per-node = 1024 }, kernel { profile = "2.6.18" } }
            scenario {
              name = perm
              tasks = [ { name = a, cpu = 0, uid = 1000 }, { name = b, cpu = 1, uid = 2000 }, { name = r, cpu = 2, uid = 2000, caps = [sys_nice] } ]
              steps = [
                { task = a, op = mmap, addr = "0x10000000", pages = 2 }
                { task = a, op = touch, addr = "0x10000000", pages = 2, write = on }
                { task = b, op = move_pages, pid = a, addrs = ["0x10000000", "0x10001000"], to = [1, 1], flags = [move] }
                { task = r, op = move_pages, pid = a, addrs = ["0x10000000", "0x10001000"], to = [1, 1], flags = [move] }
                { op = expect-pages, task = a, addr = "0x10000000", pages = 2 }
              ]
            }
            """;
        var report = ScenarioRun.RunText(hocon, seed: 1);

        report.AssertFailed(2, Errno.EPERM);
        report.AssertReturned(3, 0);
        report.AssertPages(4, [0, 2], swapped: 0);
        Assert.Empty(report.Violations);
    }

    [Fact]
    public void A_shared_page_without_move_all_reports_eacces_and_nothing_isolated_is_enoent_without_statuses()
    {
        var report = ScenarioRun.RunFile("ltp/move_pages05.conf", seed: 1);

        report.AssertFailed(3, Errno.ENOENT);
        Assert.Null(report.Syscall(3).Status);
        Assert.Equal([1, -(int)Errno.EACCES], report.Syscall(6).Status!.Pages!);
    }

    [Fact]
    public void An_unwritable_status_array_is_efault_after_the_page_moved()
    {
        var report = ScenarioRun.RunFile("move-pages.conf", seed: 1);

        report.AssertFailed(15, Errno.EFAULT);
        Assert.Equal(1, report.Migration(15, "evicted"));
        report.AssertPages(16, [2, 2], swapped: 0);
    }

    [Fact]
    public void Seed_9_has_stores_waiting_on_migration_entries_and_every_load_after_sees_the_last_store()
    {
        var report = ScenarioRun.RunFile("race-fault-on-migration-entry.conf", seed: 9);

        report.AssertClean();
        Assert.Equal(16, report.Trace.Count(e => e.Name == "migration_entry_wait"));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(9)]
    [InlineData(17)]
    public void Stores_racing_move_pages_never_lose_data_whatever_the_schedule(int seed) =>
        ScenarioRun.RunFile("race-fault-on-migration-entry.conf", seed).AssertClean();

    [Fact]
    public void Direct_mbind_move_needs_no_swap_where_2_6_16_fails_with_enodev()
    {
        var direct = ScenarioRun.RunFile("migrate-direct-2.6.18.conf", seed: 1);
        direct.AssertReturned(6, 0);
        direct.AssertPages(7, [0, 8], swapped: 0);
        direct.AssertPages(9, [8, 0], swapped: 0);

        var swap = ScenarioRun.RunFile("migrate-direct-2.6.18.conf", seed: 1, profile: "2.6.16");
        swap.AssertFailed(6, Errno.ENODEV);
    }
}

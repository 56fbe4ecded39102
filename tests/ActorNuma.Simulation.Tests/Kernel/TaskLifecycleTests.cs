using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Zombies, waitpid and user ids as sys_migrate_pages sees them, and migrate_pages before it existed.</summary>
[Trait("kind", "scenario")]
public sealed class TaskLifecycleTests
{
    [Fact]
    public void A_zombie_is_found_but_has_no_mm_and_a_reaped_pid_is_gone()
    {
        var report = ScenarioRun.RunFile("task-zombie-waitpid.conf", seed: 1);

        report.AssertClean();
        report.AssertFailed(4, Errno.EINVAL);
        report.AssertReturned(5, 4);
        Assert.Equal(3 << 8, report.Step(5).Value?["status"]);
        Assert.Equal(3, report.Step(5).Value?["exit_status"]);
        report.AssertFailed(6, Errno.ESRCH);
        report.AssertFailed(7, Errno.ECHILD);
    }

    [Fact]
    public void Migrate_pages_compares_uids_unless_the_caller_has_cap_sys_nice()
    {
        var report = ScenarioRun.RunFile("task-zombie-waitpid.conf", seed: 1);

        report.AssertFailed(8, Errno.EPERM);     // uid 1000 -> uid 0
        report.AssertReturned(9, 0);              // uid 1000 -> uid 1000
        report.AssertReturned(10, 0);             // CAP_SYS_NICE
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public void Waitpid_returns_zero_with_wnohang_and_a_sleeping_parent_reaps_the_child_when_it_exits(int seed)
    {
        var report = ScenarioRun.RunFile("task-zombie-waitpid.conf", seed);

        report.AssertReturned(12, 0);
        report.AssertReturned(13, 5);
        Assert.Equal(7, report.Step(13).Value?["exit_status"]);
        report.AssertFailed(17, Errno.ESRCH);     // a scenario task is init's child: reaped at exit
    }

    [Fact]
    public void A_task_killed_by_the_oom_killer_is_reaped_with_sigkill_as_its_status()
    {
        var text = """
            actornuma {
              topology { nodes = 1, cpus-per-node = 1, pages-per-node = 256 }
              swap { slots = 0 }
              kernel { profile = "2.6.16" }
              kswapd { enabled = off }
            }
            scenario {
              name = "oom child"
              tasks = [ { name = p, cpu = 0 } ]
              steps = [
                { task = p, op = fork, child = c }
                { task = c, op = mmap, addr = "0x10000000", pages = 512 }
                { task = c, op = touch, addr = "0x10000000", pages = 512, write = on, expect { errno = ENOMEM } }
                { task = p, op = waitpid, pid = c }
              ]
            }
            """;

        var report = ScenarioRun.RunText(text, seed: 1);

        report.AssertReturned(3, 2);
        Assert.Equal(9, report.Step(3).Value?["signal"]);
    }

    [Theory]
    [InlineData("2.6.14")]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v2-fixed")]
    public void Before_2_6_16_migrate_pages_is_enosys_whatever_its_arguments(string profile)
    {
        var report = ScenarioRun.RunFile("migrate-pages-enosys.conf", seed: 1, profile: profile);

        report.AssertClean();
        foreach (var step in new[] { 2, 3, 4, 5 }) report.AssertFailed(step, Errno.ENOSYS);
    }

    [Fact]
    public void Under_2_6_16_the_same_calls_reach_the_checks()
    {
        var report = ScenarioRun.RunFile("migrate-pages-enosys.conf", seed: 1, profile: "2.6.16");

        report.AssertFailed(2, Errno.ESRCH);
        report.AssertFailed(3, Errno.EINVAL);
        report.AssertFailed(4, Errno.EFAULT);
        report.AssertReturned(5, 0);
    }
}

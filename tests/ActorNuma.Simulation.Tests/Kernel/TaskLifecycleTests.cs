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
        Assert.Equal(3 << 8, report.Syscall(5).Status?.Wait);
        Assert.Equal(3, report.Syscall(5).ExitStatus);
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
        Assert.Equal(7, report.Syscall(13).ExitStatus);
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
        Assert.Equal(9, report.Syscall(3).Signal);
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
        foreach (var step in new[] { 2, 3, 4, 5 })
        {
            report.AssertFailed(step, Errno.ENOSYS);
        }
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

    [Fact]
    public void A_parent_sleeping_in_waitpid_that_the_oom_killer_picks_stops_waiting_and_exits()
    {
        var text = """
            actornuma {
              topology { nodes = 1, cpus-per-node = 2, pages-per-node = 256 }
              swap { slots = 0 }
              kernel { profile = "2.6.16" }
              kswapd { enabled = off }
            }
            scenario {
              name = "oom kill in waitpid"
              tasks = [ { name = p, cpu = 0 }, { name = b, cpu = 1 } ]
              steps = [
                { task = p, op = mmap, addr = "0x10000000", pages = 150 }
                { task = p, op = touch, addr = "0x10000000", pages = 150, write = on }
                { task = p, op = fork, child = c }
                { task = c, op = munmap, addr = "0x10000000", pages = 150 }
                { task = p, op = waitpid, pid = c, async = on }
                { task = b, op = mmap, addr = "0x20000000", pages = 120 }
                { task = b, op = touch, addr = "0x20000000", pages = 120, write = on }
                { op = wait }
                { task = c, op = exit }
              ]
            }
            """;

        var report = ScenarioRun.RunText(text, seed: 1);

        report.AssertFailed(4, Errno.EINTR);      // do_wait ends on the SIGKILL; p is the largest task
        report.AssertReturned(6, 120);            // b's allocation goes on once p has exited
        Assert.Empty(report.Violations);          // no stall: nobody waits for a waiter that never wakes
    }

    [Fact]
    public void Migrate_pages_on_a_task_that_has_begun_to_exit_finds_no_mm_or_an_mm_it_still_holds()
    {
        var text = """
            actornuma {
              topology { nodes = 2, cpus-per-node = 1, pages-per-node = 1024 }
              swap { slots = 64 }
              kernel { profile = "2.6.16" }
            }
            scenario {
              name = "migrate_pages during exit"
              tasks = [ { name = r, cpu = 0, caps = [sys_nice] }, { name = t, cpu = 1 } ]
              steps = [
                { task = t, op = mmap, addr = "0x10000000", pages = 64 }
                { task = t, op = touch, addr = "0x10000000", pages = 64, write = on }
                { task = t, op = exit, async = on }
                { task = r, op = migrate_pages, pid = t, old-nodes = [1], new-nodes = [0], async = on }
                { op = wait }
              ]
            }
            """;
        var errnos = new HashSet<Errno?>();

        for (var seed = 1; seed <= 30; seed++)
        {
            var report = ScenarioRun.RunText(text, seed);
            Assert.Empty(report.Violations);
            var step = report.Step(3);
            Assert.True(step.Errno is Errno.EINVAL or Errno.ESRCH || step.Ret >= 0, $"seed {seed}: {step.Ret} {step.Errno}");
            errnos.Add(step.Errno);
        }
        Assert.Contains(Errno.EINVAL, errnos);     // exit_mm ran before get_task_mm, the task not yet reaped
    }
}

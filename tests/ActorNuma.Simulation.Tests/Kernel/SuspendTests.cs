using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Suspending an application by swapping it out (the seed's third use of migration) and resuming it.</summary>
[Trait("kind", "scenario")]
public sealed class SuspendTests
{
    [Theory]
    [InlineData("suspend-resume.conf")]
    [InlineData("suspend-swap-too-small.conf")]
    public void The_suspend_scenarios_hold_every_expectation_with_no_checker_firing(string file) =>
        ScenarioRun.RunFile(file, seed: 1).AssertClean();

    [Fact]
    public void A_suspended_task_holds_its_syscalls_until_resume_and_then_faults_back_under_the_policy_in_force()
    {
        var report = ScenarioRun.RunFile("suspend-resume.conf", seed: 1);

        report.AssertReturned(4, 0);
        report.AssertPages(5, [0, 0], swapped: 16);
        report.AssertPages(8, [0, 0], swapped: 16);          // 10 ms later the queued load has not run
        Assert.True(report.Step(6).Ended > report.Step(9).Ended, "the load finished only after the resume");
        report.AssertPages(11, [8, 8], swapped: 0);          // interleave, installed after the pages were placed
        Assert.Equal(16, report.Vmstat["pgmajfault"]);
    }

    [Fact]
    public void Suspend_with_too_little_swap_returns_the_pages_left_resident_and_still_stops_the_task()
    {
        var report = ScenarioRun.RunFile("suspend-swap-too-small.conf", seed: 1);

        report.AssertReturned(2, 10);
        Assert.Equal(10, report.Migration(2, "failed"));
        Assert.Equal(6, report.Migration(2, "evicted"));
        report.AssertPages(3, [10, 0], swapped: 6);
        Assert.Contains(report.Trace, e => e.Name == "task_suspend" && e.Fields.Contains("resident=10", StringComparison.Ordinal));
        report.AssertFailed(8, Errno.EINVAL);                // resuming a running task
    }

    [Fact]
    public void Suspend_without_swap_under_2_6_16_is_enodev_and_leaves_the_task_running()
    {
        const string hocon = """
            actornuma { topology { nodes = 2, cpus-per-node = 2, pages-per-node = 1024 }, swap { slots = 0 }, kernel { profile = "2.6.16" } }
            scenario {
              name = nosw
              tasks = [ { name = a, cpu = 0 } ]
              steps = [
                { task = a, op = mmap, addr = "0x10000000", pages = 4 }
                { task = a, op = touch, addr = "0x10000000", pages = 4, write = on }
                { task = a, op = suspend }
                { task = a, op = touch, addr = "0x10000000", pages = 4, write = off }
                { task = a, op = resume }
              ]
            }
            """;
        var report = ScenarioRun.RunText(hocon, seed: 1);

        report.AssertFailed(2, Errno.ENODEV);
        report.AssertReturned(3, 4);
        report.AssertFailed(4, Errno.EINVAL);
        Assert.Empty(report.Violations);
    }
}

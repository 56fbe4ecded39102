using ActorNuma.Kernel;
using ActorNuma.Mm;
using Xunit.Abstractions;

namespace ActorNuma.TestKit.Tests;

/// <summary>A failing assertion says what was expected, what was found, and under which schedule.</summary>
public sealed class AssertionMessageSpec(ITestOutputHelper output) : KernelTestKit(output)
{
    private static readonly PageRange Range = PageRange.At(0x10000000, 16);

    private async Task<(EmulatedMachine, TaskHandle)> Faulted()
    {
        var machine = Boot(m => m.Task("app", cpu: 0), new KernelSchedule(5));
        var app = machine.Task("app");
        await Kernel.Mmap(app, Range);
        await Kernel.Touch(app, Range);
        return (machine, app);
    }

    [Fact]
    public async Task AssertPages_shows_expected_and_found_placement_and_the_schedule()
    {
        var (machine, app) = await Faulted();
        var e = Assert.Throws<KernelTestException>(() => machine.AssertPages(app, Range, node1: 16));
        var lines = e.Message.Split(Environment.NewLine);
        Assert.Equal("AssertPages: pages of app (pid 1) in 0x10000000+16 pages differ", lines[0]);
        Assert.Equal("  expected: node1=16", lines[1]);
        Assert.Equal("  found:    node0=16 swapped=0 not present=0", lines[2]);
        Assert.StartsWith("  (seed 5, strategy random, virtual time 0 ms, step ", lines[3]);
    }

    [Fact]
    public async Task AssertVmstat_lists_every_counter_that_differs()
    {
        var (machine, _) = await Faulted();
        var e = Assert.Throws<KernelTestException>(() => machine.AssertVmstat(("pgfault", 16), ("pswpout", 3), ("pgmajfault", 1)));
        var lines = e.Message.Split(Environment.NewLine);
        Assert.Equal("AssertVmstat: 2 of 3 counters differ", lines[0]);
        Assert.Equal("  pswpout: expected 3, found 0", lines[1]);
        Assert.Equal("  pgmajfault: expected 1, found 0", lines[2]);
    }

    [Fact]
    public async Task AssertVmstat_names_an_unknown_counter()
    {
        var (machine, _) = await Faulted();
        var e = Assert.Throws<KernelTestException>(() => machine.AssertVmstat(("pswpot", 0)));
        Assert.Contains("  pswpot: no such counter (known: pswpin, pswpout)", e.Message);
    }

    [Fact]
    public async Task AssertNumaMaps_shows_the_file()
    {
        var (machine, app) = await Faulted();
        var e = Assert.Throws<KernelTestException>(() => machine.AssertNumaMaps(app, "bind=1"));
        var lines = e.Message.Split(Environment.NewLine);
        Assert.Equal("AssertNumaMaps: no line of app (pid 1)'s numa_maps contains all of [\"bind=1\"]", lines[0]);
        Assert.Equal("  numa_maps:", lines[1]);
        Assert.StartsWith("    10000000 default anon=16 dirty=16 ", lines[2]);
        Assert.EndsWith(" N0=16", lines[2]);
    }

    [Fact]
    public async Task A_failed_syscall_names_its_errno()
    {
        var (_, app) = await Faulted();
        var r = await Kernel.Mbind(app, Range, MpolMode.Bind, nodes: [7]);
        var e = Assert.Throws<KernelTestException>(() => r.ShouldSucceed("mbind to node 7"));
        Assert.Equal("mbind to node 7 failed: ret -1, errno EINVAL", e.Message);
        r.ShouldFailWith(Errno.EINVAL);
    }

    [Fact]
    public async Task The_clean_checkers_and_a_quiet_kernel_pass()
    {
        var (machine, _) = await Faulted();
        machine.AssertCheckersClean();
        machine.AssertNoWarnings();
        Assert.Empty(machine.CheckerViolations());
    }

    [Fact]
    public void A_task_that_was_never_spawned_is_named_with_the_known_ones()
    {
        var machine = Boot(m => m.Task("app", cpu: 0).Task("db", cpu: 1));
        var e = Assert.Throws<KeyNotFoundException>(() => machine.Task("web"));
        Assert.Equal("no task named 'web' (tasks: app, db)", e.Message);
    }

    [Fact]
    public void A_spawn_on_a_cpu_the_machine_lacks_fails_on_one_line()
    {
        var machine = Boot();
        var e = Assert.Throws<KernelTestException>(() => machine.SpawnTask("app", cpu: 9).Result);
        Assert.StartsWith("task app could not be spawned: EINVAL: no cpu 9 (the machine has 4) (seed 1", e.Message);
    }
}

using ActorNuma.Kernel;
using ActorNuma.Mm;
using Akka.Actor;
using Akka.TestKit;
using Xunit.Abstractions;

namespace ActorNuma.TestKit.Sample;

/// <summary>
/// The balancer against the kernel under seeded schedules: its decisions hold on every schedule, and one test finds
/// the race with kswapd that broke its first version.
/// </summary>
/// <remarks>
/// The workload: app faults 24 pages on node 0, then moves to CPU 2 (node 1), so its pages are remote; hog, bound to
/// node 0, faults 20 pages there, which takes node 0 below pages_low and wakes its kswapd. The balancer, on the kernel
/// dispatcher like the kernel itself, looks every millisecond of virtual time and calls migrate_pages from the numad task.
/// Then app touches its range twice, 60 ms apart, which brings the evicted pages back on its home node.
/// </remarks>
public sealed class BalancerSpec : KernelTestKit
{
    private readonly ITestOutputHelper _output;

    public BalancerSpec(ITestOutputHelper output) : base(output) => _output = output;

    private static readonly PageRange AppRange = PageRange.At(0x10000000, 24);
    private static readonly PageRange HogRange = PageRange.At(0x20000000, 20);
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(30);

    private sealed record Run(EmulatedMachine Machine, TaskHandle App, TestProbe Decisions, TestProbe Events);

    /// <summary>Boots the machine and plays the workload with the balancer watching app (home node
    /// <paramref name="homeCpu"/>'s).</summary>
    private async Task<Run> PlayWorkload(bool finishStartedMigrations, int homeCpu = 2, KernelSchedule? schedule = null)
    {
        // 2.6.16's swap form (direct-via-swap-cache = off): the race below is told in terms of pages evicted through swap.
        var machine = Boot(m => m.Profile(KernelProfile.Linux2616 with { DirectViaSwapCache = false }).Kswapd().FaultBatch(1).Swap(slots: 128)
            .Task("app", cpu: 0).Task("hog", cpu: 1).Task("numad", cpu: 3, sysNice: true), schedule);
        var (app, hog, numad) = (machine.Task("app"), machine.Task("hog"), machine.Task("numad"));
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(IsolationFailed));
        Sys.EventStream.Subscribe(events.Ref, typeof(KswapdWoke));

        (await Kernel.Mmap(app, AppRange)).ShouldSucceed("mmap");
        (await Kernel.Touch(app, AppRange)).ShouldSucceed("touch");
        (await Kernel.SchedSetaffinity(app, homeCpu)).ShouldSucceed("sched_setaffinity");
        (await Kernel.Mmap(hog, HogRange)).ShouldSucceed("mmap");
        (await Kernel.Mbind(hog, HogRange, MpolMode.Bind, nodes: [0])).ShouldSucceed("mbind");
        (await Kernel.Touch(hog, HogRange)).ShouldSucceed("touch");

        var decisions = CreateTestProbe();
        var homeNode = machine.State.Topology.CpuToNode(homeCpu);
        machine.ActorOf(NumaBalancer.Props(new NumaBalancer.Settings(numad.Ref, app.Pid, app.Ref, AppRange.Addr, AppRange.Pages,
            homeNode, TimeSpan.FromMilliseconds(2), finishStartedMigrations), decisions.Ref), "balancer");
        machine.Advance(Settle);
        (await Kernel.Touch(app, AppRange)).ShouldSucceed("touch");
        machine.Advance(Settle);
        (await Kernel.Touch(app, AppRange)).ShouldSucceed("touch");
        return new Run(machine, app, decisions, events);
    }

    private static List<T> Drain<T>(TestProbe probe)
    {
        var all = new List<T>();
        while (probe.HasMessages)
        {
            if (probe.ReceiveOne(TimeSpan.Zero) is T m)
            {
                all.Add(m);
            }
        }

        return all;
    }

    [KernelTheory, Seeds(1, 200)]
    public async Task The_balancer_brings_every_page_home_on_every_schedule(int seed)
    {
        var run = await PlayWorkload(finishStartedMigrations: true);
        Assert.Equal(seed, run.Machine.Schedule.Seed);

        run.Machine.AssertPages(run.App, AppRange, node1: 24);
        Assert.All(Drain<NumaBalancer.Migrated>(run.Decisions), m => Assert.Equal(Errno.None, m.Errno));
        run.Machine.AssertCheckersClean();
    }

    [KernelTheory, Seeds(1, 200)]
    public async Task The_balancer_never_moves_a_task_whose_pages_are_home(int seed)
    {
        // app stays on CPU 1 (node 0, where its pages are) while kswapd reclaims node 0 under it.
        var run = await PlayWorkload(finishStartedMigrations: true, homeCpu: 1);
        Assert.Equal(seed, run.Machine.Schedule.Seed);

        var decisions = Drain<NumaBalancer.Decision>(run.Decisions);
        Assert.NotEmpty(decisions);
        Assert.DoesNotContain(decisions, d => d.Migrated);
        run.Machine.AssertPages(run.App, AppRange, node0: 24);
        run.Machine.AssertCheckersClean();
    }

    /// <summary>The first version decided by majority at every look. On the schedules where kswapd holds some of app's
    /// pages isolated at the instant migrate_pages isolates them, those pages stay on node 0, migrate_pages still returns
    /// 0, and the remote minority is never moved.</summary>
    [Fact]
    public async Task The_majority_rule_loses_pages_to_kswapd_on_some_schedules()
    {
        var lost = new List<int>();
        for (var seed = 1; seed <= 200; seed++)
        {
            var run = await PlayWorkload(finishStartedMigrations: false, schedule: new KernelSchedule(seed));
            var placement = await run.Machine.QueryPages(run.App, AppRange);
            var isolationFailed = Drain<IsolationFailed>(run.Events).Count > 0;
            if (placement.PerNode.GetValueOrDefault(0) > 0)
            {
                // Every loss is the race: the migration's isolation came back short because kswapd held pages.
                Assert.True(isolationFailed, $"seed {seed}: pages left on node 0 without a failed isolation");
                Assert.All(Drain<NumaBalancer.Migrated>(run.Decisions), m => Assert.Equal(0, m.NotMoved));
                lost.Add(seed);
            }
            // One system serves the 200 schedules: unsubscribe and stop this schedule's probes, or every later event
            // would be delivered to all of them.
            Sys.EventStream.Unsubscribe(run.Events.Ref);
            Sys.Stop(run.Events.Ref);
            Sys.Stop(run.Decisions.Ref);
        }
        _output.WriteLine($"the majority rule left pages on node 0 under {lost.Count} of 200 schedules: seeds {string.Join(", ", lost)}");
        Assert.NotEmpty(lost);
        Assert.True(lost.Count < 200, "the race needs a particular interleaving: some schedules must be clean");
    }

    /// <summary>Seed 2 replays one losing schedule exactly: 6 pages stay on node 0 with the first version, and the fix
    /// brings them home under the very same schedule.</summary>
    [KernelTheory, Seeds(2)]
    public async Task Seed_2_replays_the_race_and_the_fix_wins_it(int seed)
    {
        var buggy = await PlayWorkload(finishStartedMigrations: false);
        Assert.NotEmpty(Drain<IsolationFailed>(buggy.Events));
        buggy.Machine.AssertPages(buggy.App, AppRange, node0: 6, node1: 18);

        var fixedRun = await PlayWorkload(finishStartedMigrations: true, schedule: new KernelSchedule(seed));
        fixedRun.Machine.AssertPages(fixedRun.App, AppRange, node1: 24);
    }
}

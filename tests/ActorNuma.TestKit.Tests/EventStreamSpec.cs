using ActorNuma.Kernel;
using ActorNuma.Mm;
using Xunit.Abstractions;

namespace ActorNuma.TestKit.Tests;

public sealed class EventStreamSpec(ITestOutputHelper output) : KernelTestKit(output)
{
    private static readonly PageRange Range = PageRange.At(0x10000000, 16);

    private async Task<EmulatedMachine> MbindMove()
    {
        var machine = Boot(m => m.Task("app", cpu: 0));
        var app = machine.Task("app");
        await Kernel.Mmap(app, Range);
        await Kernel.Touch(app, Range);
        (await Kernel.Mbind(app, Range, MpolMode.Bind, nodes: [1], MpolFlags.Move)).ShouldSucceed("mbind");
        await Kernel.Touch(app, Range);
        machine.Settle();
        return machine;
    }

    [Fact]
    public async Task Every_trace_event_arrives_on_the_event_stream_in_trace_order()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(KernelEvent));

        var machine = await MbindMove();

        var received = new List<KernelEvent>();
        while (probe.HasMessages)
        {
            received.Add(probe.ExpectMsg<KernelEvent>());
        }

        var trace = machine.State.Trace.Snapshot();
        Assert.Equal(trace.Select(e => e.Seq), received.Select(e => e.Seq).Distinct());
        Assert.Equal(trace.Select(e => e.Time), received.DistinctBy(e => e.Seq).Select(e => e.Time));
    }

    [Fact]
    public async Task A_probe_expects_typed_events_of_one_kind_in_order()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(PageSwappedOut));
        Sys.EventStream.Subscribe(probe.Ref, typeof(PageSwappedIn));

        await MbindMove();

        // mbind's eviction writes all 16 pages from node 0, then the touch brings them back onto node 1: read from the
        // device (with readahead), the read-ahead ones found in the swap cache by the faults that follow.
        var outs = Enumerable.Range(0, 16).Select(_ => probe.ExpectMsg<PageSwappedOut>(e => e.Node == 0)).ToList();
        Assert.Equal(16, outs.Select(e => e.Slot).Distinct().Count());
        var ins = new List<PageSwappedIn>();
        while (probe.HasMessages)
        {
            ins.Add(probe.ExpectMsg<PageSwappedIn>());
        }

        Assert.All(ins, e => Assert.Equal(1, e.Node));
        Assert.True(outs[^1].Seq < ins[0].Seq);
        Assert.Equal(16, ins.Where(e => !e.FromSwapCache).Sum(e => e.Pages));
    }

    [Fact]
    public async Task Faults_name_the_task_the_node_and_the_cpu()
    {
        var probe = CreateTestProbe();
        Sys.EventStream.Subscribe(probe.Ref, typeof(PageFaulted));
        var machine = Boot(m => m.Task("app", cpu: 2));
        var app = machine.Task("app");
        await Kernel.Mmap(app, Range);
        await Kernel.Touch(app, Range);

        var faults = new List<PageFaulted>();
        while (probe.HasMessages)
        {
            faults.Add(probe.ExpectMsg<PageFaulted>());
        }

        Assert.Equal(16, faults.Sum(f => f.Pages));
        Assert.All(faults, f => Assert.Equal((app.Pid, 1, 2, false), (f.Task, f.Node, f.Cpu, f.CopyOnWrite)));
    }

    [Fact]
    public void Trace_lines_become_typed_records()
    {
        var t = TimeSpan.FromMilliseconds(3);
        Assert.Equal(new KswapdWoke(7, t, 1, 0, 19), KernelEvents.From(new TraceEvent(7, t, "mm_vmscan_kswapd_wake", "nid=1 order=0 free=19")).Single());
        Assert.Equal(new WarnOn(8, t, "mm/mempolicy.c:check_pte_range", 12, "WARN_ON(rc == 0): isolate_lru_page failed (NotLru) task=1"),
            KernelEvents.From(new TraceEvent(8, t, "kernel_warn", "site=mm/mempolicy.c:check_pte_range pfn=12 WARN_ON(rc == 0): isolate_lru_page failed (NotLru) task=1")).Single());
        Assert.Equal([new PageIsolated(9, t, 0, "migration", 16, 12), new IsolationFailed(9, t, 0, 16, 12)],
            KernelEvents.From(new TraceEvent(9, t, "mm_vmscan_lru_isolate", "node=0 isolator=migration nr_requested=16 nr_taken=12")));
        Assert.Equal(new OomKill(10, t, 3, "hog", "oom_killer"), KernelEvents.From(new TraceEvent(10, t, "oom_kill_process", "task=3 name=hog reason=oom_killer")).Single());
        Assert.Equal(new OtherKernelEvent(11, t, "lru_add_drain", "cpu=0 pages=3"), KernelEvents.From(new TraceEvent(11, t, "lru_add_drain", "cpu=0 pages=3")).Single());
    }
}

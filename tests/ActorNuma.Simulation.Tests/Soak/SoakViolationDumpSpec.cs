using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;
using ActorNuma.Simulation.Soak;

namespace ActorNuma.Simulation.Tests.Soak;

/// <summary>The dump a soak prints at its first violation, against a hand-built machine whose PTE and reverse map
/// disagree: the finding, the frame it names, the PTE that maps the frame, the task, and the events of the trace's tail
/// that touched them (and none of the others).</summary>
[Trait("kind", "unit")]
public sealed class SoakViolationDumpSpec
{
    [Fact]
    public void The_dump_shows_the_frame_the_pte_the_task_and_only_the_events_that_touched_them()
    {
        var topology = new Topology(1, 1, 16);
        var trace = new KernelTrace(() => TimeSpan.FromMilliseconds(2), keep: 0) { Tail = new TraceTail(1 << 12) };
        var machine = new KernelMachine(new KernelSettings { Topology = topology, Profile = KernelProfile.V2 }, trace);
        var node = new NodeMemory(0, topology.FirstPfn(0), topology.PagesPerNode, new Watermarks(0, 0, 0), holdsZeroPage: true);
        machine.Register(new NodeState(node, []));
        var task = new TaskState(1, "t1");
        machine.Register(task);
        var idx = node.AllocFrame();
        var pfn = node.PfnOf(idx);
        node.AddRmap(idx, 2, 0x100);
        task.OwnPageTable.Set(0x100, Pte.Present(pfn, write: false));
        trace.Emit("mm_page_alloc", $"node=0 task=1 pfn={pfn}");
        trace.Emit("mm_page_alloc", $"node=0 task=9 pfn={pfn + 1}");
        trace.Emit("mm_vmscan_writepage", $"pfn={pfn} slot=3");
        trace.Emit("sched_migrate_task", "task=1 orig_cpu=0 dest_cpu=0");
        trace.Emit("sched_migrate_task", "task=9 orig_cpu=0 dest_cpu=0");
        var violations = new List<string>();
        new PteChecker().Check(machine, violations);
        var violation = $"pte: {Assert.Single(violations)}";

        var dump = SoakViolationDump.Write(machine, violation, seed: 7, trace.Tail!.Lines());

        var lines = dump.Split('\n');
        Assert.Equal("SOAK VIOLATION (seed 7)", lines[0]);
        Assert.Equal($"checker: pte: pfn {pfn}: rmap names tasks 2, ptes in 1", lines[1]);
        Assert.Contains(lines, l => l.StartsWith($"  pfn {pfn} node 0: place ", StringComparison.Ordinal) && l.Contains("mapcount 1 rmap_vpn 100 mappers [2]"));
        Assert.Contains($"  task 1 (t1) vpn 100: {Pte.Present(pfn, write: false)}", lines);
        Assert.Contains(lines, l => l.StartsWith("  task 1 (t1) cpu 0 exited=False reaped=False", StringComparison.Ordinal));
        string[] Section(string title) =>
            lines.SkipWhile(l => !l.StartsWith(title, StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.Length > 0).ToArray();
        var events = Section("last kernel events that touched those frames or slots");
        Assert.Equal(2, events.Length);
        Assert.EndsWith($"mm_page_alloc node=0 task=1 pfn={pfn}", events[0]);
        Assert.EndsWith($"mm_vmscan_writepage pfn={pfn} slot=3", events[1]);
        Assert.EndsWith("sched_migrate_task task=1 orig_cpu=0 dest_cpu=0", Assert.Single(Section("last other events of those tasks")));
    }

    /// <summary>A stall names no frame: the dump lists every task still in a syscall or waiting for an answer, which is
    /// what a reader needs to see what waits for what.</summary>
    [Fact]
    public void A_stall_dump_names_every_task_still_in_a_syscall()
    {
        var topology = new Topology(1, 1, 16);
        var trace = new KernelTrace(() => TimeSpan.Zero, keep: 0) { Tail = new TraceTail(1 << 12) };
        var machine = new KernelMachine(new KernelSettings { Topology = topology, Profile = KernelProfile.V2 }, trace);
        var node = new NodeMemory(0, topology.FirstPfn(0), topology.PagesPerNode, new Watermarks(0, 0, 0), holdsZeroPage: true);
        machine.Register(new NodeState(node, []));
        machine.Register(new TaskState(1, "idle"));
        machine.Register(new TaskState(2, "waiting") { Busy = "Touch { Addr = 4096, Pages = 1, Write = True }", PendingReplies = 1 });
        const string stall = "liveness: the soak stalled at round 9: no kernel message for 10 s, no I/O or timer pending (seed 3)";

        var quiet = SoakViolationDump.Write(machine, stall, seed: 3, [], deterministic: false);
        var dump = SoakViolationDump.Write(machine, stall, seed: 3, [], deterministic: false, busyTasks: true);

        Assert.Contains("tasks (0):", quiet);
        Assert.Contains("tasks (1):", dump);
        Assert.Contains("  task 2 (waiting) cpu 0 exited=False reaped=False busy=Touch { Addr = 4096, Pages = 1, Write = True } pending_replies=1", dump);
        Assert.DoesNotContain("task 1 (idle)", dump);
    }
}

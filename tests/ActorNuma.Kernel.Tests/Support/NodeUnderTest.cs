using ActorNuma.Mm;
using Akka.Actor;
using Akka.TestKit;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel.Tests.Support;

/// <summary>
/// One real <see cref="NumaNodeActor"/> among probes, with the recipes that bring its frames into the states specs
/// start from (in a CPU's pagevec, on the LRU, isolated), each through the node's own protocol, and a read-only view
/// of its frames for the assertions.
/// </summary>
internal sealed class NodeUnderTest
{
    public NodeUnderTest(KernelRig rig, int node = 0)
    {
        Rig = rig;
        Id = node;
        Actor = rig.SpawnNode(node);
        Replies = rig.NewProbe($"node{node}-replies");
    }

    public KernelRig Rig { get; }

    public int Id { get; }

    public IActorRef Actor { get; }

    /// <summary>The ReplyTo of the requests the recipes and specs make.</summary>
    public TestProbe Replies { get; }

    public NodeState State => Rig.Node(Id);

    public NodeMemory Memory => State.OwnMemory;

    /// <summary>This node's zonelist: itself first.</summary>
    public int[] Zonelist => Rig.Machine.Zonelists[Id];

    /// <summary>A CPU of this node, by its index on the node (0 or 1).</summary>
    public int Cpu(int k = 0) => Rig.Topology.CpusOf(Id).ElementAt(k);

    public IReadOnlyCpuPagevecs Pagevecs(int cpu) => State.Pagevecs.Single(p => p.Cpu == cpu);

    public void Send(object message) => Rig.Send(Actor, message);

    // ---- frame view ------------------------------------------------------------------------------------------------

    public PageFlags Flags(int pfn) => Memory.Flags(Memory.Index(pfn));
    public bool Test(int pfn, PageFlags flag) => Memory.Test(Memory.Index(pfn), flag);
    public int Count(int pfn) => Memory.Count(Memory.Index(pfn));
    public int Mapcount(int pfn) => Memory.Mapcount(Memory.Index(pfn));
    public FramePlace Place(int pfn) => Memory.Place(Memory.Index(pfn));
    public int Owner(int pfn) => Memory.Owner(Memory.Index(pfn));
    public int SwapEntry(int pfn) => Memory.SwapEntry(Memory.Index(pfn));
    public uint Contents(int pfn) => Memory.Contents(Memory.Index(pfn));
    public long Stat(VmEvent e) => Memory.Stat[e];

    // ---- recipes -----------------------------------------------------------------------------------------------------

    /// <summary>The contents a recipe's fault stores at <paramref name="vpn"/>.</summary>
    public static uint ContentsFor(uint vpn) => 0xC0DE0000u + vpn;

    public static AllocItem[] Items(int pages, uint firstVpn = 0x100) =>
        Enumerable.Range(0, pages).Select(k => new AllocItem(firstVpn + (uint)k, ContentsFor(firstVpn + (uint)k), 0)).ToArray();

    /// <summary><c>do_anonymous_page</c> for <paramref name="pages"/> pages of <paramref name="task"/> faulting on
    /// <paramref name="cpu"/> (one of this node's): the pages are mapped once and sit in that CPU's active pagevec.</summary>
    public int[] Fault(int task, int cpu, int pages, uint firstVpn = 0x100)
    {
        var token = Rig.NextToken();
        Send(new AllocPages(token, Replies.Ref, task, cpu, Items(pages, firstVpn), Zonelist, 0, AllocPass.Low,
            Interleave: false, AllocPurpose.AnonFault));
        var reply = Replies.ExpectMsg<PagesAllocated>(m => m.Token == token);
        Assert.Equal(pages, reply.Pages.Length);
        return reply.Pages.Select(p => p.Pfn).ToArray();
    }

    /// <summary><c>lru_add_drain()</c> on <paramref name="cpu"/>, waiting for this node's acknowledgement.</summary>
    public void Drain(int cpu)
    {
        var token = Rig.NextToken();
        Send(new LruAddDrain(cpu, token, Replies.Ref, [Id]));
        Replies.ExpectMsg<LruAddDrained>(m => m.Token == token && m.Node == Id);
    }

    /// <summary>Faulted pages drained onto the active list: PG_lru|PG_active, count 1 (the mapping's), mapcount 1.</summary>
    public int[] FaultOntoLru(int task, int cpu, int pages, uint firstVpn = 0x100)
    {
        var pfns = Fault(task, cpu, pages, firstVpn);
        Drain(cpu);
        return pfns;
    }

    /// <summary><c>isolate_lru_page</c> on each page, as a migration does.</summary>
    public IsolateLruPagesResult Isolate(int[] pfns, bool skipShared = false)
    {
        var token = Rig.NextToken();
        Send(new IsolateLruPages(token, Replies.Ref, pfns, skipShared));
        return Replies.ExpectMsg<IsolateLruPagesResult>(m => m.Token == token);
    }

    /// <summary>fork's <c>page_dup_rmap</c>: <paramref name="child"/> maps the pages too.</summary>
    public void DupRmap(int child, params int[] pfns)
    {
        var token = Rig.NextToken();
        Send(new PageDupRmap(token, Replies.Ref, child, pfns));
        Replies.ExpectMsg<PageDupRmapDone>(m => m.Token == token);
    }

    /// <summary>Faulted, drained and isolated by a migration: PG_lru clear, count 2 (mapping + isolation).</summary>
    public int[] FaultAndIsolate(int task, int cpu, int pages, uint firstVpn = 0x100)
    {
        var pfns = FaultOntoLru(task, cpu, pages, firstVpn);
        Assert.All(Isolate(pfns).Outcomes, o => Assert.Equal(IsolateOutcome.Isolated, o));
        return pfns;
    }
}

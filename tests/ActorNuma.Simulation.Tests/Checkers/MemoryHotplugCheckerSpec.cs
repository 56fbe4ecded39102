using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;

namespace ActorNuma.Simulation.Tests.Checkers;

/// <summary>The memory-hotplug checker against a hand-built node: pages on a node going offline are legal (offline_pages
/// is moving them); on an offline node, or on a retired frame, they are a kernel bug.</summary>
[Trait("kind", "unit")]
public sealed class MemoryHotplugCheckerSpec
{
    private readonly KernelMachine _machine;
    private readonly NodeMemory _node;
    private readonly NodeState _state;

    public MemoryHotplugCheckerSpec()
    {
        var topology = new Topology(1, 1, 16);
        _machine = new KernelMachine(new KernelSettings { Topology = topology, Profile = KernelProfile.V2 }, new KernelTrace(() => TimeSpan.Zero));
        _node = new NodeMemory(0, topology.FirstPfn(0), topology.PagesPerNode, new Watermarks(0, 0, 0), holdsZeroPage: false);
        _state = new NodeState(_node, []);
        _machine.Register(_state);
    }

    private List<string> Check()
    {
        var violations = new List<string>();
        new MemoryHotplugChecker().Check(_machine, violations);
        return violations;
    }

    [Fact]
    public void Pages_in_use_on_a_node_going_offline_are_legal()
    {
        var idx = _node.AllocFrame();
        _node.AddToLru(idx, active: true);
        _state.MemoryState = NumaNode.MemoryState.GoingOffline;

        Assert.Empty(Check());
    }

    [Fact]
    public void A_page_in_use_on_an_offline_node_is_reported_with_its_place()
    {
        var idx = _node.AllocFrame();
        _node.AddToLru(idx, active: true);
        _node.RetireFree(_node.FreeList().First());
        _state.MemoryState = NumaNode.MemoryState.Offline;

        var v = Assert.Single(Check());
        Assert.Equal($"node 0 is offline but pfn {_node.PfnOf(idx)} is on the active list", v);
    }

    [Fact]
    public void Retired_frames_on_an_offline_node_are_legal()
    {
        _node.RetireFree(3);
        _state.MemoryState = NumaNode.MemoryState.Offline;

        Assert.Empty(Check());
    }

    [Fact]
    public void A_retired_frame_that_a_pte_maps_is_reported_with_the_task_and_address()
    {
        var m = new CheckedMachine();
        m.Node(1).RetireFree(3);
        var pfn = m.Node(1).PfnOf(3);
        m.Task(1).OwnPageTable.Set(0x100, Pte.Present(pfn, write: false));
        m.Map(0, m.LruPage(0), pid: 1, vpn: 0x101);

        Assert.Equal([$"task 1 maps retired pfn {pfn} at vpn 100"], m.Check(new MemoryHotplugChecker()));
    }

    [Fact]
    public void A_retired_frame_with_a_reference_is_reported_in_use()
    {
        var m = new CheckedMachine();
        m.Node(1).RetireFree(3);
        m.Node(1).GetPage(3);

        Assert.Equal([$"retired pfn {m.Node(1).PfnOf(3)} (node 1) is in use: count 1, mapcount 0, flags {PageFlagNames.Format(PageFlags.HwPoison)}"],
            m.Check(new MemoryHotplugChecker()));
    }
}

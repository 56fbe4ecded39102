using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;

namespace ActorNuma.Simulation.Tests.Checkers;

/// <summary>The page-refcount checker against a hand-built node: references held across a wait by work in progress are
/// legal users, and a report names where the page is and who holds it.</summary>
[Trait("kind", "unit")]
public sealed class PageRefcountCheckerSpec
{
    private readonly KernelMachine _machine;
    private readonly NodeMemory _node;

    public PageRefcountCheckerSpec()
    {
        var topology = new Topology(1, 1, 16);
        _machine = new KernelMachine(new KernelSettings { Topology = topology, Profile = KernelProfile.V2 }, new KernelTrace(() => TimeSpan.Zero));
        _node = new NodeMemory(0, topology.FirstPfn(0), topology.PagesPerNode, new Watermarks(0, 0, 0), holdsZeroPage: true);
        _machine.Register(new NodeState(_node, []));
    }

    private List<string> Check()
    {
        var violations = new List<string>();
        new PageRefcountChecker().Check(_machine, violations);
        return violations;
    }

    /// <summary>A swap-cache page on the LRU, locked under read, whose fault holds the allocation's reference.</summary>
    private int PageUnderRead()
    {
        var idx = _node.AllocFrame();
        _node.AddToSwapCache(idx, entry: 3, forWrite: false);
        _node.Set(idx, PageFlags.Locked);
        _node.AddToLru(idx, active: true);
        return idx;
    }

    [Fact]
    public void A_reference_held_by_a_fault_waiting_for_its_read_is_a_legal_user()
    {
        var idx = PageUnderRead();
        _node.Hold(idx, new NodeMemory.PageHold(7, "do_swap_page waiting for the read"));

        Assert.Empty(Check());
    }

    [Fact]
    public void Without_the_hold_the_same_reference_is_reported_as_leaked_with_the_place_named()
    {
        var idx = PageUnderRead();

        var v = Assert.Single(Check());
        Assert.StartsWith($"pfn {_node.PfnOf(idx)} (node 0, on the active list, ", v);
        Assert.EndsWith("count 2, users 1 (mapcount 0): a leaked reference", v);
    }

    [Fact]
    public void A_missing_reference_names_the_holder_the_checker_counted()
    {
        var idx = PageUnderRead();
        _node.Hold(idx, new NodeMemory.PageHold(7, "do_swap_page sleeping in lock_page"));
        _node.Hold(idx, new NodeMemory.PageHold(8, "do_swap_page sleeping in lock_page"));

        var v = Assert.Single(Check());
        Assert.Contains("users 3 (mapcount 0, 2 held by task 8's do_swap_page sleeping in lock_page): a missing reference", v);
    }
}

using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;

namespace ActorNuma.Simulation.Tests.Checkers;

/// <summary>The frame-placement checker against a hand-built two-node machine: pages on the LRU, in a CPU's pagevec or
/// isolated by a migration are each in one place, and every disagreement between the places, the lists, the pagevecs
/// and the counters is reported, in the checker's order.</summary>
[Trait("kind", "unit")]
public sealed class FramePlacementCheckerSpec
{
    private readonly CheckedMachine _m = new();
    private readonly FramePlacementChecker _checker = new();

    /// <summary>A new page of node <paramref name="n"/> in its CPU's lru_add pagevec, as lru_cache_add leaves it.</summary>
    private int PagevecPage(int n)
    {
        var i = _m.Node(n).AllocFrame();
        _m.Node(n).SetPlace(i, FramePlace.Pagevec, owner: _m.Cpu(n).Cpu);
        _m.Cpu(n).LruAdd.Add(_m.Node(n).PfnOf(i));
        return i;
    }

    [Fact]
    public void Pages_on_the_lists_in_a_pagevec_and_isolated_by_a_migration_are_clean()
    {
        _m.LruPage(0, active: true);
        _m.LruPage(1, active: false);
        PagevecPage(1);
        var isolated = _m.LruPage(1);
        Assert.Equal(IsolateRc.Isolated, _m.Node(1).IsolateLruPage(isolated, Isolator.Migration));
        _m.Task(1).OwnIsolated.Add(_m.Node(1).PfnOf(isolated));

        Assert.Empty(_m.Check(_checker));
    }

    [Fact]
    public void A_page_left_in_flight_is_reported()
    {
        var i = _m.Node(1).AllocFrame();

        Assert.Equal([$"pfn {_m.Node(1).PfnOf(i)} (node 1) is in flight at a quiescent point: no list, no pagevec, not isolated"],
            _m.Check(_checker));
    }

    [Fact]
    public void A_page_in_two_cpus_pagevecs_is_reported_with_both()
    {
        var i = PagevecPage(1);
        var pfn = _m.Node(1).PfnOf(i);
        _m.Cpu(0).LruAddActive.Add(pfn);

        Assert.Equal([$"pfn {pfn} is in the pagevecs of cpu 0 and cpu 1", $"pfn {pfn} is marked in cpu 1's pagevec, but cpu 0's holds it"],
            _m.Check(_checker));
    }

    [Fact]
    public void A_page_on_the_lru_and_in_a_pagevec_is_reported()
    {
        var i = _m.LruPage(0);
        var pfn = _m.Node(0).PfnOf(i);
        _m.Cpu(0).LruAdd.Add(pfn);

        Assert.Equal([$"pfn {pfn} is in cpu 0's pagevec but marked Lru"], _m.Check(_checker));
    }

    [Fact]
    public void A_page_isolated_for_migration_that_no_migration_holds_is_reported()
    {
        var i = _m.LruPage(1);
        Assert.Equal(IsolateRc.Isolated, _m.Node(1).IsolateLruPage(i, Isolator.Migration));

        Assert.Equal([$"pfn {_m.Node(1).PfnOf(i)} is isolated for migration, but no migration holds it"], _m.Check(_checker));
    }

    [Fact]
    public void A_frame_on_the_free_list_marked_in_flight_is_reported_from_the_list_the_counts_and_the_frame()
    {
        var node = _m.Node(1);
        var i = node.FreeList().First();
        node.SetPlace(i, FramePlace.InFlight);
        var pfn = node.PfnOf(i);

        Assert.Equal([
            $"pfn {pfn} is on node 1's free list but in InFlight",
            $"node 1: {node.FreePages - 1} frames marked free, {node.FreePages} on the free list",
            $"pfn {pfn} (node 1) is in flight at a quiescent point: no list, no pagevec, not isolated",
        ], _m.Check(_checker));
    }

    [Fact]
    public void A_frame_marked_on_the_lru_but_on_no_list_is_reported_from_the_counts()
    {
        _m.LruPage(0);
        var unlinked = _m.Node(0).AllocFrame();
        _m.Node(0).SetPlace(unlinked, FramePlace.Lru);

        Assert.Equal(["node 0: 2 frames marked on an LRU list, the lists hold 1"], _m.Check(_checker));
    }
}

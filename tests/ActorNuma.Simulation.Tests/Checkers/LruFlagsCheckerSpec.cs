using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;

namespace ActorNuma.Simulation.Tests.Checkers;

/// <summary>The LRU-flags checker against a hand-built two-node machine: PG_lru and PG_active must say which list a page
/// is on; each disagreement is reported, node by node and frame by frame.</summary>
[Trait("kind", "unit")]
public sealed class LruFlagsCheckerSpec
{
    private readonly CheckedMachine _m = new();
    private readonly LruFlagsChecker _checker = new();

    [Fact]
    public void Pages_on_the_active_and_inactive_lists_of_both_nodes_are_clean()
    {
        _m.LruPage(0, active: true);
        _m.LruPage(0, active: false);
        _m.LruPage(1, active: true);
        _m.LruPage(1, active: false);

        Assert.Empty(_m.Check(_checker));
    }

    [Fact]
    public void PG_lru_on_a_page_on_no_list_is_reported()
    {
        var i = _m.Node(1).AllocFrame();
        _m.Node(1).Set(i, PageFlags.Lru);

        Assert.Equal([$"pfn {_m.Node(1).PfnOf(i)}: PG_lru is set but the page is not on an LRU list"], _m.Check(_checker));
    }

    [Fact]
    public void A_page_on_a_list_without_PG_lru_is_reported()
    {
        var i = _m.LruPage(1, active: false);
        _m.Node(1).Clear(i, PageFlags.Lru);

        Assert.Equal([$"pfn {_m.Node(1).PfnOf(i)}: PG_lru is clear but the page is on an LRU list"], _m.Check(_checker));
    }

    [Fact]
    public void PG_active_that_disagrees_with_the_list_is_reported_on_each_node_in_order()
    {
        var onActive = _m.LruPage(0, active: true);
        _m.Node(0).Clear(onActive, PageFlags.Active);
        var onInactive = _m.LruPage(1, active: false);
        _m.Node(1).Set(onInactive, PageFlags.Active);

        Assert.Equal([
            $"pfn {_m.Node(0).PfnOf(onActive)}: PG_active is clear on the active list",
            $"pfn {_m.Node(1).PfnOf(onInactive)}: PG_active is set on the inactive list",
        ], _m.Check(_checker));
    }
}

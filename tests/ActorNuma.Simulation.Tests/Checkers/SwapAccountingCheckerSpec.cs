using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;

namespace ActorNuma.Simulation.Tests.Checkers;

/// <summary>The swap-accounting checker against a hand-built two-node machine: slots held by swap PTEs and by the swap
/// cache balance their counts, and each way the slots, the swap cache and the frames' PG_swapcache can disagree is
/// reported, in the checker's order (PTEs, then slot by slot, then nr_swap_pages, then frames).</summary>
[Trait("kind", "unit")]
public sealed class SwapAccountingCheckerSpec
{
    private readonly CheckedMachine _m = new(swapSlots: 32);
    private readonly SwapAccountingChecker _checker = new();

    private SwapMap Swap => _m.Swap!;

    /// <summary>A page of node <paramref name="n"/> in the swap cache for a new slot, on the LRU: add_to_swap's result.</summary>
    private (int Index, int Slot) SwapCachePage(int n)
    {
        var i = _m.LruPage(n);
        var slot = Swap.GetSwapPage();
        Assert.Equal(Errno.None, Swap.AddToSwapCache(slot, _m.Node(n).PfnOf(i)));
        _m.Node(n).AddToSwapCache(i, slot, forWrite: true);
        return (i, slot);
    }

    /// <summary>A slot that only a swap PTE of <paramref name="pid"/> at <paramref name="vpn"/> holds: a page swapped out.</summary>
    private int SwappedOut(int pid, uint vpn)
    {
        var slot = Swap.GetSwapPage();
        _m.Task(pid).OwnPageTable.Set(vpn, Pte.Swap(slot));
        return slot;
    }

    [Fact]
    public void Slots_held_by_swap_ptes_and_by_the_swap_cache_on_both_nodes_are_clean()
    {
        SwapCachePage(0);
        SwapCachePage(1);
        var slot = SwappedOut(pid: 1, vpn: 0x100);
        Assert.True(Swap.SwapDuplicate(slot));
        _m.Task(2).OwnPageTable.Set(0x100, Pte.Swap(slot));

        Assert.Empty(_m.Check(_checker));
    }

    [Fact]
    public void A_slot_count_without_its_pte_is_reported_with_its_references()
    {
        var (_, cached) = SwapCachePage(1);
        var slot = SwappedOut(pid: 1, vpn: 0x100);
        Assert.True(Swap.SwapDuplicate(slot));
        Assert.True(Swap.SwapDuplicate(cached));

        Assert.Equal([$"slot {cached}: swap_map 2, references 1 (0 ptes + swap cache)", $"slot {slot}: swap_map 2, references 1 (1 ptes)"],
            _m.Check(_checker));
    }

    [Fact]
    public void A_swap_pte_to_a_slot_outside_the_swap_area_is_reported()
    {
        SwappedOut(pid: 1, vpn: 0x100);
        _m.Task(1).OwnPageTable.Set(0x200, Pte.Swap(33));

        Assert.Equal(["task 1 vpn 200: swap pte to invalid slot 33"], _m.Check(_checker));
    }

    [Fact]
    public void A_slot_cached_by_a_frame_no_longer_in_the_swap_cache_is_reported()
    {
        var (i, slot) = SwapCachePage(1);
        _m.Node(1).DeleteFromSwapCache(i);

        Assert.Equal([$"slot {slot} is cached by pfn {_m.Node(1).PfnOf(i)}, which is not PG_swapcache for it"], _m.Check(_checker));
    }

    [Fact]
    public void A_frame_moved_to_another_slot_is_reported_from_the_slots_then_from_the_frames()
    {
        var (i, slot) = SwapCachePage(0);
        var other = Swap.GetSwapPage();
        _m.Node(0).DeleteFromSwapCache(i);
        _m.Node(0).AddToSwapCache(i, other, forWrite: false);
        var pfn = _m.Node(0).PfnOf(i);

        Assert.Equal([
            $"slot {slot} is cached by pfn {pfn}, which is not PG_swapcache for it",
            $"slot {other}: swap_map 1, references 0 (0 ptes)",
            $"pfn {pfn} is PG_swapcache for slot {other}, which the swap cache does not map to it",
        ], _m.Check(_checker));
    }

    [Fact]
    public void Frames_that_all_agree_with_the_swap_cache_do_not_hide_a_cached_slot_none_of_them_holds()
    {
        SwapCachePage(1);
        // A second slot says node 1's frame 5 caches it; that frame is free.
        var stray = Swap.GetSwapPage();
        var pfn = _m.Node(1).PfnOf(5);
        Assert.Equal(Errno.None, Swap.AddToSwapCache(stray, pfn));

        Assert.Equal([$"slot {stray} is cached by pfn {pfn}, which is not PG_swapcache for it"], _m.Check(_checker));
    }
}

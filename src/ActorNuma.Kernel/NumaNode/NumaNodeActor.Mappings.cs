using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

// What tasks do to the node's pages through their PTEs: accesses, do_wp_page's reuse test, fork's page_dup_rmap,
// zap_pte_range, and the node side of remove_exclusive_swap_page.
public sealed partial class NumaNodeActor
{
    /// <summary>Loads and stores through present PTEs. Anonymous accesses do not call mark_page_accessed in 2.6.14:
    /// the hardware sets the PTE's young bit (the task does that), and reclaim reads it with page_referenced().</summary>
    private void HandleAccess(AccessPages m)
    {
        var values = new uint[m.Items.Length];
        for (var k = 0; k < m.Items.Length; k++)
        {
            var (pfn, write, value) = m.Items[k];
            var idx = Idx(pfn);
            if (_m.Place(idx) is FramePlace.Free or FramePlace.Retired)
            {
                throw new InvalidOperationException($"access to {_m.Place(idx).ToString().ToLowerInvariant()} pfn {pfn} on node {_node}");
            }

            if (write && !_m.Test(idx, PageFlags.Reserved))
            {
                _m.SetContents(idx, value);
            }

            values[k] = _m.Contents(idx);
        }
        m.ReplyTo.Tell(new PagesAccessed(m.Token, values));
    }

    /// <summary>The reuse test of 2.6.14 <c>do_wp_page</c>: if the page lock is free and <c>can_share_swap_page</c>
    /// says this is the only user, the PTE just becomes writable; otherwise the fault copies.</summary>
    private void HandleWpPage(WpPage m)
    {
        var idx = Idx(m.Pfn);
        var reuse = false;
        if (!_m.Test(idx, PageFlags.Reserved) && !_m.Test(idx, PageFlags.Locked))
        {
            if (_m.Test(idx, PageFlags.SwapCache) && _m.Mapcount(idx) <= 1)
            {
                // The slot's other references are the swap device's to count: it answers the task.
                Directory.Swap.Tell(new SwapDevice.CanShareSwapPage(m.Token, m.ReplyTo, _m.SwapEntry(idx), m.Pfn,
                    _m.Mapcount(idx), _m.Contents(idx)));
                return;
            }
            reuse = _m.Mapcount(idx) == 1;
        }
        m.ReplyTo.Tell(new WpPageReply(m.Token, m.Pfn, reuse, _m.Contents(idx)));
    }

    /// <summary>fork's <c>copy_one_pte</c> for present anon pages: <c>get_page</c> + <c>page_dup_rmap</c>.</summary>
    private void HandlePageDupRmap(PageDupRmap m)
    {
        foreach (var pfn in m.Pfns)
        {
            var idx = Idx(pfn);
            if (_m.Test(idx, PageFlags.Reserved))
            {
                continue;
            }

            _m.GetPage(idx);
            _m.AddRmap(idx, m.ChildTask, _m.RmapVpn(idx));
        }
        m.ReplyTo.Tell(new PageDupRmapDone(m.Token));
    }

    /// <summary><c>zap_pte_range</c> + <c>free_pages_and_swap_cache</c>: each present page loses this mapping and its
    /// reference; a swap-cache page left with only the cache's reference is offered back to the swap device
    /// (<c>free_swap_cache</c> → <c>remove_exclusive_swap_page</c>).</summary>
    private void HandleZap(ZapPages m)
    {
        foreach (var pfn in m.Pfns)
        {
            var idx = Idx(pfn);
            if (_m.Test(idx, PageFlags.Reserved))
            {
                continue;
            }

            _m.RemoveRmap(idx, m.Task);
            PutPage(idx);
            if (_m.Place(idx) is not (FramePlace.Free or FramePlace.Retired))
            {
                OfferExclusiveSwapPage(idx, expectedCount: 1);
            }
        }
        m.ReplyTo?.Tell(new ZapPagesDone(m.Token));
    }

    private void OfferExclusiveSwapPage(int idx, int expectedCount)
    {
        if (!_m.Test(idx, PageFlags.SwapCache) || _m.Count(idx) != expectedCount)
        {
            return;
        }

        if (_m.Test(idx, PageFlags.Locked) || _m.Test(idx, PageFlags.Writeback))
        {
            return;
        }

        Directory.Swap.Tell(new SwapDevice.OfferSwapCache(_m.SwapEntry(idx), Pfn(idx), expectedCount));
    }

    /// <summary>The node side of <c>remove_exclusive_swap_page</c>: the swap device saw that only the cache holds the
    /// slot; if the page has no other user either, it leaves the swap cache (dirty, since the slot goes away).</summary>
    private void HandleTryRemoveExclusive(TryRemoveExclusive m)
    {
        var removed = _exclusiveRemoved;
        var refused = _exclusiveRefused;
        removed.Clear();
        refused.Clear();
        for (var k = 0; k < m.Slots.Length; k++)
        {
            (RemoveExclusiveSwapPage(m.Slots[k], m.Pfns[k], m.ExpectedCount, m.EvenIfShared) ? removed : refused).Add(k);
        }
        if (refused.Count > 0)
        {
            Directory.Swap.Tell(new SwapDevice.ExclusiveRefused(Pick(m.Slots, refused), Pick(m.Pfns, refused)));
        }

        if (removed.Count > 0)
        {
            Directory.Swap.Tell(new SwapDevice.ExclusiveRemoved(Pick(m.Slots, removed), Pick(m.Pfns, removed)));
        }
    }

    /// <summary>One page of <c>remove_exclusive_swap_page</c> at the node: if it still caches the slot, has the
    /// references expected (or the caller takes it even if shared) and is neither locked nor under writeback, it leaves
    /// the swap cache dirty (the slot goes away) and the cache's reference is dropped.</summary>
    private bool RemoveExclusiveSwapPage(int slot, int pfn, int expectedCount, bool evenIfShared)
    {
        var idx = Idx(pfn);
        var ok = _m.Test(idx, PageFlags.SwapCache) && _m.SwapEntry(idx) == slot
                 && (_m.Count(idx) == expectedCount || evenIfShared)
                 && !_m.Test(idx, PageFlags.Writeback) && !_m.Test(idx, PageFlags.Locked);
        if (!ok)
        {
            return false;
        }

        _m.DeleteFromSwapCache(idx);
        _m.Set(idx, PageFlags.Dirty);
        PutPage(idx);
        return true;
    }

    /// <summary>Positions of the request being answered that were removed or refused (per-actor scratch, emptied for
    /// each request: do_swap_page asks one page at a time, so a fresh pair of lists per request was most of its cost).</summary>
    private readonly List<int> _exclusiveRemoved = new();
    private readonly List<int> _exclusiveRefused = new();

    /// <summary>The elements of <paramref name="source"/> at <paramref name="positions"/> (ascending). When they are all
    /// of it, the array itself: a request's arrays are the receiver's, and every kernel message treats its arrays as
    /// read-only, so an answer may pass them on instead of copying.</summary>
    private static int[] Pick(int[] source, List<int> positions)
    {
        if (positions.Count == source.Length)
        {
            return source;
        }

        var picked = new int[positions.Count];
        for (var k = 0; k < picked.Length; k++)
        {
            picked[k] = source[positions[k]];
        }

        return picked;
    }
}

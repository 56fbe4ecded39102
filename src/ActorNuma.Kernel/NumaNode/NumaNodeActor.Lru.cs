using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

public sealed partial class NumaNodeActor
{
    /// <summary>The locked part of <c>isolate_lru_page</c> for each page, with the reason of every failure.</summary>
    /// <remarks>Kernel: V2 1/2 mm/vmscan.c isolate_lru_page(); 2.6.16-rc2 migrate_page_add() for the sharing test.</remarks>
    private void HandleIsolate(IsolateLruPages m)
    {
        var outcomes = new IsolateOutcome[m.Pfns.Length];
        var isolated = 0;
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            outcomes[k] = IsolateOne(idx, m.SkipShared);
            if (outcomes[k] == IsolateOutcome.Isolated)
            {
                isolated++;
            }
        }
        Trace.Emit("mm_vmscan_lru_isolate", $"node={_node} isolator=migration nr_requested={m.Pfns.Length} nr_taken={isolated}");
        m.ReplyTo.Tell(new IsolateLruPagesResult(m.Token, _node, m.Pfns, outcomes));
    }

    private IsolateOutcome IsolateOne(int idx, bool skipShared)
    {
        if (skipShared && _m.Mapcount(idx) > 1)
        {
            return IsolateOutcome.Shared;
        }

        var place = _m.Place(idx);
        return _m.IsolateLruPage(idx, Isolator.Migration) switch
        {
            IsolateRc.Isolated => IsolateOutcome.Isolated,
            IsolateRc.BeingFreed => IsolateOutcome.BeingFreed,
            _ => place switch
            {
                FramePlace.Pagevec => IsolateOutcome.InPagevec,
                FramePlace.Isolated => IsolateOutcome.IsolatedElsewhere,
                _ => IsolateOutcome.NotLru,
            },
        };
    }

    /// <summary><c>putback_lru_pages</c> as the profile has it: V2 straight onto the lists keeping the isolation
    /// reference (the leak), the fix with <c>put_page</c>, 2.6.16 through the caller's pagevec (<c>move_to_lru</c>).</summary>
    private void HandlePutback(PutbackLruPages m)
    {
        var putBack = 0;
        if (m.PagevecCpu >= 0)
        {
            putBack = PutbackThroughPagevec(m);
        }
        else
        {
            foreach (var pfn in m.Pfns)
            {
                var idx = Idx(pfn);
                if (_m.PutbackLruPage(idx))
                {
                    putBack++;
                }
                else
                {
                    throw new InvalidOperationException($"putback_lru_pages: pfn {pfn} already PG_lru (BUG)");
                }

                if (m.DropReference)
                {
                    PutPage(idx);
                }
            }
        }

        Trace.Emit("mm_migrate_putback", $"node={_node} nr={putBack} drop_ref={(m.DropReference ? 1 : 0)} pagevec_cpu={m.PagevecCpu}");
        m.ReplyTo?.Tell(new PutbackDone(m.Token, _node, putBack));
    }

    /// <summary>2.6.16 <c>move_to_lru</c>: PG_active cleared and the page handed to <c>lru_cache_add[_active]</c> (which
    /// takes the pagevec's reference), then <c>put_page</c> of the isolation reference.</summary>
    private int PutbackThroughPagevec(PutbackLruPages m)
    {
        var active = new List<int>();
        var inactive = new List<int>();
        foreach (var pfn in m.Pfns)
        {
            var idx = Idx(pfn);
            (_m.TestAndClear(idx, PageFlags.Active) ? active : inactive).Add(pfn);
            _m.SetPlace(idx, FramePlace.Pagevec, m.PagevecCpu);
            _m.GetPage(idx);
            PutPage(idx);
        }
        var cpuNode = NodeRef(Topology.CpuToNode(m.PagevecCpu));
        if (inactive.Count > 0)
        {
            cpuNode.Tell(new LruCacheAdd(m.PagevecCpu, inactive.ToArray(), false, null, null));
        }

        if (active.Count > 0)
        {
            cpuNode.Tell(new LruCacheAdd(m.PagevecCpu, active.ToArray(), true, null, null));
        }

        return m.Pfns.Length;
    }

    // ---- accesses, COW and rmap changes from tasks ------------------------------------------------------------

    /// <summary>Loads and stores through present PTEs. Anonymous accesses do not call mark_page_accessed in 2.6.14:
    /// the hardware sets the PTE's young bit (the task does that), and reclaim reads it with page_referenced().</summary>
    private void HandleAccess(AccessPages m)
    {
        var values = new uint[m.Items.Length];
        for (var k = 0; k < m.Items.Length; k++)
        {
            var (pfn, write, value) = m.Items[k];
            var idx = Idx(pfn);
            if (_m.Place(idx) == FramePlace.Free)
            {
                throw new InvalidOperationException($"access to free pfn {pfn} on node {_node}");
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
            if (_m.Place(idx) != FramePlace.Free)
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
        List<int>? removed = null, refused = null;
        for (var k = 0; k < m.Slots.Length; k++)
        {
            var (slot, pfn) = (m.Slots[k], m.Pfns[k]);
            var idx = Idx(pfn);
            var ok = _m.Test(idx, PageFlags.SwapCache) && _m.SwapEntry(idx) == slot
                     && (_m.Count(idx) == m.ExpectedCount || m.EvenIfShared)
                     && !_m.Test(idx, PageFlags.Writeback) && !_m.Test(idx, PageFlags.Locked);
            if (!ok)
            {
                (refused ??= new()).Add(k);
                continue;
            }
            _m.DeleteFromSwapCache(idx);
            _m.Set(idx, PageFlags.Dirty);
            (removed ??= new()).Add(k);
            PutPage(idx);
        }
        if (refused is not null)
        {
            Directory.Swap.Tell(new SwapDevice.ExclusiveRefused(refused.Select(k => m.Slots[k]).ToArray(), refused.Select(k => m.Pfns[k]).ToArray())
                { FromSwapIn = m.FromSwapIn });
        }

        if (removed is not null)
        {
            Directory.Swap.Tell(new SwapDevice.ExclusiveRemoved(removed.Select(k => m.Slots[k]).ToArray(), removed.Select(k => m.Pfns[k]).ToArray())
                { FromSwapIn = m.FromSwapIn });
        }
    }
}

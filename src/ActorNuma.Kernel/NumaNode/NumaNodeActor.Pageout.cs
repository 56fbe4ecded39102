using System.Globalization;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>The one pageout path of a locked, isolated anonymous page, which V2 <c>swapout_pages()</c> (migration) and
/// <c>shrink_list()</c> (reclaim) both drive, as the kernel shares <c>add_to_swap</c>, <c>try_to_unmap</c>,
/// <c>pageout</c> and the free under tree_lock between them:
/// <code>
///   add_to_swap ─► try_to_unmap ─► pageout ─► free_it
///   no slot        young / again   dirty: write (PAGE_SUCCESS: keep, under writeback)
/// </code>
/// The steps that need another actor (a swap slot, the mapping tasks' PTEs, the disk) are batched per peer into one
/// message per round (<see cref="FlushPageout"/>). What the two callers make of an outcome is a
/// <see cref="PageoutMode"/>: swapout_pages retries young pages in its next pass and fails pages without a slot,
/// shrink_list activates both; swapout_pages drops the isolation reference of a freed page at once, shrink_list
/// releases its freed pages together at the end (<c>__pagevec_release_nonlru</c>).</summary>
/// <remarks>Kernel: V2 1/2 mm/vmscan.c swapout_pages(); 2.6.14 mm/vmscan.c shrink_list(), pageout();
/// mm/swap_state.c add_to_swap(); mm/rmap.c try_to_unmap(); mm/page_io.c swap_writepage().</remarks>
public sealed partial class NumaNodeActor
{
    /// <summary>Swap slots of pages freed from the swap cache, told to the swap device with the next flush.</summary>
    private readonly List<(int Slot, int Pfn)> _cacheDeleted = new();

    /// <summary>Registers a batch: its token names it in every request its pages make.</summary>
    private PageoutBatch OpenPageout(PageoutBatch batch)
    {
        batch.Token = _replies.Open(batch);
        return batch;
    }

    /// <summary>Ends one page of a batch. An activated page gets PG_active (it goes back to the active list); an
    /// unlocked one wakes its lock's sleepers. The last page ends the batch for its caller.</summary>
    private void ResolvePage(PageoutBatch batch, int idx, PageoutVerdict verdict, bool unlock)
    {
        batch.Verdicts[batch.PositionOf(idx)] = verdict;
        if (verdict == PageoutVerdict.Activate)
        {
            _m.Set(idx, PageFlags.Active);
            _m.Stat.Count(VmEvent.Pgactivate);
        }
        if (unlock)
        {
            UnlockPage(idx);
        }

        if (--batch.Pending > 0)
        {
            return;
        }

        _replies.Close(batch.Token);
        _endedPageouts.Add(batch);
        if (batch.Swapout is not null)
        {
            FinishSwapoutPass(batch);
        }
        else
        {
            FinishShrinkList(batch);
        }
    }

    /// <summary><c>add_to_swap</c> unless the page is in the swap cache already.</summary>
    private void PageoutAddToSwap(PageoutBatch batch, int idx)
    {
        if (_m.Test(idx, PageFlags.SwapCache))
        {
            PageoutUnmap(batch, idx);
        }
        else
        {
            RoundOf(batch).NeedSlot.Add(idx);
        }
    }

    /// <summary><c>try_to_unmap</c>: asks every mapping task to turn its PTE into the swap entry.</summary>
    private void PageoutUnmap(PageoutBatch batch, int idx)
    {
        if (_m.Mapcount(idx) == 0) { Pageout(batch, idx); return; }
        var mappers = 0;
        var round = RoundOf(batch);
        foreach (var task in _m.Mappers(idx))
        {
            mappers++;
            round.UnmapList(task).Add(new NumaTask.UnmapItem(Pfn(idx), _m.RmapVpn(idx), _m.SwapEntry(idx)));
        }
        batch.Unmaps[batch.PositionOf(idx)] = (mappers, false, false);
    }

    /// <summary><c>pageout()</c> of a dirty page: only one that nobody but the swap cache and the isolator holds is
    /// written (and shrink_list keeps one that was referenced); a clean page goes on to free_it.</summary>
    private void Pageout(PageoutBatch batch, int idx)
    {
        if (!_m.Test(idx, PageFlags.Dirty)) { PageoutFree(batch, idx); return; }
        var referenced = batch.Referenced is { } r && r[batch.PositionOf(idx)] > 0;
        if (referenced || _m.Count(idx) != 2) { ResolvePage(batch, idx, PageoutVerdict.Keep, unlock: true); return; }   // PAGE_KEEP
        _m.Clear(idx, PageFlags.Dirty);                                       // clear_page_dirty_for_io
        _m.Set(idx, PageFlags.Reclaim);
        RoundOf(batch).NeedWrite.Add(new SwapDevice.WriteItem(_m.SwapEntry(idx), Pfn(idx), _m.Contents(idx), PageCountIsTwo: true));
    }

    /// <summary>The end of the loop body: <c>page_count == 2 &amp;&amp; !PageDirty</c> under tree_lock, then
    /// <c>__delete_from_swap_cache</c>, <c>swap_free</c> and the cache's <c>put_page</c>; <c>free_it</c> unlocks the
    /// page and drops the isolation reference (swapout_pages at once, shrink_list with the others at the end).</summary>
    /// <remarks>Kernel: V2 swapout_pages() free_it; 2.6.14 shrink_list() free_it (remove_mapping() from 2.6.17).</remarks>
    private void PageoutFree(PageoutBatch batch, int idx)
    {
        if (_m.Count(idx) != 2 || _m.Test(idx, PageFlags.Dirty) || !_m.Test(idx, PageFlags.SwapCache))
        {
            ResolvePage(batch, idx, PageoutVerdict.Keep, unlock: true);
            return;
        }
        var slot = _m.SwapEntry(idx);
        _m.DeleteFromSwapCache(idx);
        _cacheDeleted.Add((slot, Pfn(idx)));
        PutPage(idx);                           // the swap cache's reference
        if (!batch.Mode.ReleaseAtOnce)
        {
            ResolvePage(batch, idx, PageoutVerdict.Freed, unlock: true);
            return;
        }
        _m.Clear(idx, PageFlags.Active);        // "ClearPageActive(page)": the free path checks it
        UnlockPage(idx);                        // free_it: unlock_page() wakes whoever sleeps on the lock, then put_page()
        PutPage(idx);                           // the isolation reference: the frame is free now
        ResolvePage(batch, idx, PageoutVerdict.Freed, unlock: false);
    }

    /// <summary>Sends what the pages of a batch wait for, one message per peer.</summary>
    private void FlushPageout(PageoutBatch batch)
    {
        if (batch.Round is { } round)
        {
            if (round.NeedSlot.Count > 0)
            {
                Directory.Swap.Tell(new SwapDevice.AddToSwap(batch.Token, Self, PfnsOf(round.NeedSlot)));
            }
            foreach (var (task, items) in round.NeedUnmap)
            {
                var target = Directory.Task(task) ?? throw new InvalidOperationException($"rmap of node {_node} names task {task}, which is gone");
                target.Tell(new NumaTask.TryToUnmap(batch.Token, Self, items.ToArray(), batch.Mode.IgnoreYoung));
            }
            if (round.NeedWrite.Count > 0)
            {
                Directory.Swap.Tell(new SwapDevice.SwapWritepage(batch.Token, Self, round.NeedWrite.ToArray()));
            }
            ReleaseRound(batch);
        }
        FlushCacheDeleted();
    }

    /// <summary>The flush at the end of an answer's handling. A swapout pass flushes even when the answer ended it
    /// (what it sends then is the swap-cache deletions); a shrink_list that ended has flushed them already.</summary>
    private void AfterPageoutAnswer(PageoutBatch batch)
    {
        if (batch.Mode.Caller == PageoutCaller.SwapoutPages || _replies.IsOpen(batch.Token))
        {
            FlushPageout(batch);
        }
    }

    private void FlushCacheDeleted()
    {
        if (_cacheDeleted.Count == 0)
        {
            return;
        }

        var slots = new int[_cacheDeleted.Count];
        var pfns = new int[_cacheDeleted.Count];
        for (var k = 0; k < slots.Length; k++)
        {
            (slots[k], pfns[k]) = _cacheDeleted[k];
        }
        Directory.Swap.Tell(new SwapDevice.SwapCacheDeleted(slots, pfns));
        _cacheDeleted.Clear();
    }

    /// <summary>The pfns of frames named by index, as a message's array.</summary>
    private int[] PfnsOf(List<int> idxs)
    {
        var pfns = new int[idxs.Count];
        for (var k = 0; k < pfns.Length; k++)
        {
            pfns[k] = Pfn(idxs[k]);
        }

        return pfns;
    }

    /// <summary>add_to_swap's answer: a page without a slot stays in RAM (<see cref="PageoutMode.NoSlot"/>); the others
    /// are in the swap cache now and go on to try_to_unmap.</summary>
    private void HandleAddedToSwap(SwapDevice.AddedToSwap m)
    {
        if (_replies.State(m) is SwapCacheMigration migration) { SwapCacheSlots(migration, m); return; }
        var batch = _replies.State<PageoutBatch>(m);
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            if (m.Slots[k] == 0) { ResolvePage(batch, idx, batch.Mode.NoSlot, unlock: true); continue; }
            _m.AddToSwapCache(idx, m.Slots[k], forWrite: true);
            PageoutUnmap(batch, idx);
        }
        if (batch.Mode.Caller == PageoutCaller.SwapoutPages)
        {
            Trace.Emit("mm_add_to_swap", $"node={_node} nr={m.Pfns.Length} got={m.Slots.Count(s => s != 0)} first_slot={m.Slots.FirstOrDefault(s => s != 0)}");
        }

        AfterPageoutAnswer(batch);
    }

    /// <summary>try_to_unmap's answer from one mapping task: each unmapped PTE drops its mapping and reference (and
    /// passes on its dirty bit). Once every mapper answered: SWAP_FAIL (a young PTE) is <see cref="PageoutMode.Young"/>,
    /// SWAP_AGAIN (a PTE that no longer mapped the page, or a mapping left) keeps the page, SWAP_SUCCESS goes on to
    /// pageout.</summary>
    private void HandleUnmapResult(NumaTask.UnmapResult m)
    {
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            if (m.Outcomes[k] == NumaTask.UnmapOutcome.Unmapped)
            {
                _m.RemoveRmap(idx, m.Task);
                if (m.Dirty[k])
                {
                    _m.Set(idx, PageFlags.Dirty);   // set_page_dirty from the PTE's dirty bit
                }

                PutPage(idx);
            }
        }
        var batch = _replies.State<PageoutBatch>(m);
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            var pos = batch.PositionOf(idx);
            var (waiting, young, again) = batch.Unmaps[pos];
            if (waiting == 0)
            {
                throw new KeyNotFoundException($"try_to_unmap answer for pfn {m.Pfns[k]}, which awaits none");
            }

            young |= m.Outcomes[k] == NumaTask.UnmapOutcome.Young;
            again |= m.Outcomes[k] == NumaTask.UnmapOutcome.NotMapped;
            batch.Unmaps[pos] = (waiting - 1, young, again);
            if (waiting > 1)
            {
                continue;
            }

            if (young)
            {
                ResolvePage(batch, idx, batch.Mode.Young, unlock: true);                          // SWAP_FAIL
            }
            else if (again || _m.Mapcount(idx) > 0)
            {
                ResolvePage(batch, idx, PageoutVerdict.Keep, unlock: true);   // SWAP_AGAIN
            }
            else
            {
                Pageout(batch, idx);
            }
        }
        AfterPageoutAnswer(batch);
    }

    /// <summary>One line per page written: <c>node pfn slot</c>.</summary>
    private static readonly TraceLayout WritepageTrace = new("mm_vmscan_writepage", "node", "pfn", "slot");

    /// <summary>swap_writepage's answer. A written page is under writeback and unlocked; a page whose slot only the cache
    /// held left the swap cache without I/O (remove_exclusive_swap_page), is dirty again and unlocked. Either way
    /// PAGE_SUCCESS with the page kept (already unlocked): swapout_pages retries it next pass; shrink_list leaves a
    /// written page to be rotated to the inactive tail when the write completes and freed by a later scan, and the
    /// other one with only the isolation reference, freed when it is put back.</summary>
    /// <remarks>Kernel: 2.6.14 mm/vmscan.c shrink_list() on PAGE_SUCCESS; mm/page_io.c swap_writepage(). A swapout pass
    /// ends each page as it is handled, a shrink_list once the whole answer is: the order each had before they shared
    /// this code, which decides whether the pass's end is traced before the wake-ups of the later pages.</remarks>
    private void HandleSwapWriteStarted(SwapDevice.SwapWriteStarted m)
    {
        var batch = _replies.State<PageoutBatch>(m);
        var atOnce = batch.Mode.Caller == PageoutCaller.SwapoutPages;
        foreach (var pfn in m.Written)
        {
            Idx(pfn);   // a foreign pfn is a BUG before anything is traced
        }

        Trace.EmitEach(WritepageTrace, m.Written.Length, (Node: _node, Pfns: m.Written, Memory: _m),
            static (s, k) => new TraceValues(s.Node, s.Pfns[k], s.Memory.SwapEntry(s.Memory.Index(s.Pfns[k]))));
        foreach (var pfn in m.Written)
        {
            var idx = Idx(pfn);
            _m.Set(idx, PageFlags.Writeback);
            UnlockPage(idx);
            if (atOnce)
            {
                ResolvePage(batch, idx, PageoutVerdict.Keep, unlock: false);
            }
        }
        foreach (var pfn in m.Exclusive)
        {
            var idx = Idx(pfn);
            _m.DeleteFromSwapCache(idx);
            _m.Set(idx, PageFlags.Dirty);
            _m.Clear(idx, PageFlags.Reclaim);   // pageout(): not under writeback after ->writepage
            PutPage(idx);
            UnlockPage(idx);
            if (atOnce)
            {
                ResolvePage(batch, idx, PageoutVerdict.Keep, unlock: false);
            }
        }
        if (atOnce)
        {
            return;
        }

        foreach (var pfn in m.Written.Concat(m.Exclusive))
        {
            ResolvePage(batch, Idx(pfn), PageoutVerdict.Keep, unlock: false);
        }
    }

    /// <summary><c>end_page_writeback</c>: PG_writeback cleared, waiters woken, and a PG_reclaim page that sits clean and
    /// unlocked on the inactive list rotated to its tail (<c>rotate_reclaimable_page</c>, pgrotated).</summary>
    private void HandleEndSwapWrite(SwapDevice.EndSwapWrite m)
    {
        foreach (var pfn in m.Pfns)
        {
            var idx = Idx(pfn);
            if (_m.TestAndClear(idx, PageFlags.Reclaim) && _m.Test(idx, PageFlags.Lru) && !_m.Test(idx, PageFlags.Active)
                && !_m.Test(idx, PageFlags.Locked) && !_m.Test(idx, PageFlags.Dirty))
            {
                _m.MoveToInactiveTail(idx);
                _m.Stat.Count(VmEvent.Pgrotated);
            }
            _m.Clear(idx, PageFlags.Writeback);
            Wake(idx, PageFlags.Writeback);
        }
    }
}

using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>2.6.16 direct migration through the swap cache at the node: one pass of <c>migrate_pages()</c> over this
/// node's pages in two halves, because the target of a page is the tail of the task's list of new pages at the moment
/// the page gets that far (<c>newpage = lru_to_page(to)</c>), which depends on how the pages before it fared:
/// <code>
///   page_count == 1? ─► lock ─► writeback? ─► add_to_swap ─► remove_references ─► Ready ┄┄► copy ─► remove_from_swap
///   freed under us     busy before pass 3: -EAGAIN    no slot: -ENOMEM   count / still mapped: -EAGAIN
/// </code>
/// <see cref="MigrateSwapCachePass"/> runs up to <see cref="MigrateVerdict.Ready"/>; <see cref="MigrateSwapCacheCopy"/>
/// does the rest once the task has paired the ready pages with their targets. An anonymous page's mapping is
/// swapper_space, whose <c>a_ops-&gt;migratepage</c> is <c>migrate_page</c> (mm/swap_state.c, "Direct Migration V9"), so
/// no anonymous page ever reaches the <c>pass &gt; 4</c> fallback to <c>swap_page()</c>: that branch is for file pages
/// whose buffers cannot be dropped, and the emulator has only anonymous memory.</summary>
/// <remarks>Kernel: 2.6.16 mm/vmscan.c migrate_pages(), migrate_page(), migrate_page_remove_references(),
/// migrate_page_copy(); mm/rmap.c remove_from_swap(); mm/swapfile.c unuse_pte(); mm/swap_state.c add_to_swap().</remarks>
public sealed partial class NumaNodeActor
{
    private sealed class SwapCacheMigration(MigrateSwapCachePass request)
    {
        public MigrateSwapCachePass Request { get; } = request;
        public MigrateVerdict[] Verdicts { get; } = new MigrateVerdict[request.Pfns.Length];
        public int[] Results { get; } = new int[request.Pfns.Length];
        public Dictionary<int, int> PositionOf { get; } = new();
        /// <summary>Pages that wait for <c>add_to_swap</c>, sent with the next flush.</summary>
        public List<int> NeedSlot { get; } = new();
        public long Token;
        public int Pending;
    }

    /// <summary>Per page on a 2.6.16 migration list: the mappings whose PTE <c>try_to_unmap(page, 1)</c> turned into the
    /// page's swap entry. A pass that fails after the unmap leaves them so (migrate_page_remove_references restores
    /// nothing), and <c>remove_from_swap</c> of a later pass rewrites them too, as its anon_vma walk does. Forgotten when
    /// the page is copied or put back.</summary>
    private readonly Dictionary<int, List<MigratedMapper>> _swapPtesOf = new();

    private void HandleMigrateSwapCachePass(MigrateSwapCachePass m)
    {
        var run = new SwapCacheMigration(m);
        run.Token = _replies.Open(run);
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            if (_m.Place(idx) != FramePlace.Isolated)
            {
                throw new InvalidOperationException($"migrate_pages: pfn {m.Pfns[k]} is not isolated ({_m.Place(idx)})");
            }

            run.PositionOf.Add(idx, k);
            run.Pending++;
        }
        Trace.Emit("mm_migrate_swapcache_pass", $"node={_node} pass={m.Pass} nr={m.Pfns.Length}");
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            SwapCacheMigrateStart(run, k);
        }

        FlushSwapCacheMigration(run);
    }

    /// <summary>The head of the loop body: a page only we hold was freed under us (rc 0, it goes to the moved list
    /// without a target); the page lock, by <c>TestSetPageLocked</c> in passes 0 to 2 and <c>lock_page</c> after.</summary>
    private void SwapCacheMigrateStart(SwapCacheMigration run, int pos)
    {
        var idx = Idx(run.Request.Pfns[pos]);
        if (_m.Count(idx) == 1) { ResolveSwapCache(run, pos, MigrateVerdict.FreedUnderUs, 0); return; }
        if (!_m.TestAndSet(idx, PageFlags.Locked)) { SwapCacheMigrateLocked(run, pos); return; }
        if (run.Request.Pass <= 2) { ResolveSwapCache(run, pos, MigrateVerdict.Retry, -(int)Errno.EAGAIN); return; }
        SleepThenResume(idx, PageFlags.Locked, run, () => SwapCacheMigrateRelock(run, pos));
    }

    private void SwapCacheMigrateRelock(SwapCacheMigration run, int pos)
    {
        var idx = Idx(run.Request.Pfns[pos]);
        if (_m.TestAndSet(idx, PageFlags.Locked)) { SleepThenResume(idx, PageFlags.Locked, run, () => SwapCacheMigrateRelock(run, pos)); return; }
        SwapCacheMigrateLocked(run, pos);
    }

    /// <summary>A sleep on a page bit whose wake-up goes on with the page and then sends what it asked for.</summary>
    private void SleepThenResume(int idx, PageFlags bit, SwapCacheMigration run, Action resume) =>
        Sleep(idx, bit, new Waiter(() =>
        {
            resume();
            FlushSwapCacheMigration(run);
        }));

    /// <summary>Writeback: pass 0 skips a page under writeback, later passes wait for it; then an anonymous page not in
    /// the swap cache gets a slot (<c>add_to_swap</c>), without which it fails for good with -ENOMEM.</summary>
    private void SwapCacheMigrateLocked(SwapCacheMigration run, int pos)
    {
        var idx = Idx(run.Request.Pfns[pos]);
        if (_m.Test(idx, PageFlags.Writeback))
        {
            if (run.Request.Pass == 0) { UnlockSwapCache(run, pos, MigrateVerdict.Retry, -(int)Errno.EAGAIN); return; }
            SleepThenResume(idx, PageFlags.Writeback, run, () => SwapCacheMigrateLocked(run, pos));
            return;
        }
        if (!_m.Test(idx, PageFlags.SwapCache)) { run.NeedSlot.Add(idx); return; }
        MigratePageRemoveReferences(run, pos);
    }

    private void FlushSwapCacheMigration(SwapCacheMigration run)
    {
        if (run.NeedSlot.Count == 0)
        {
            return;
        }

        Directory.Swap.Tell(new SwapDevice.AddToSwap(run.Token, Self, PfnsOf(run.NeedSlot)));
        run.NeedSlot.Clear();
    }

    /// <summary>add_to_swap's answer for a 2.6.16 pass: without a slot <c>rc = -ENOMEM</c> (a permanent failure, the
    /// page goes to the failed list); with one the page is in the swap cache, dirty, and goes on to migrate_page.</summary>
    private void SwapCacheSlots(SwapCacheMigration run, SwapDevice.AddedToSwap m)
    {
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            var pos = run.PositionOf[idx];
            if (m.Slots[k] == 0) { UnlockSwapCache(run, pos, MigrateVerdict.Failed, -(int)Errno.ENOMEM); continue; }
            _m.AddToSwapCache(idx, m.Slots[k], forWrite: true);
            MigratePageRemoveReferences(run, pos);
        }
        Trace.Emit("mm_add_to_swap", $"node={_node} nr={m.Pfns.Length} got={m.Slots.Count(s => s != 0)} first_slot={m.Slots.FirstOrDefault(s => s != 0)}");
        FlushSwapCacheMigration(run);
    }

    /// <summary><c>migrate_page_remove_references(newpage, page, 2)</c>: a page with a reference besides its mappings,
    /// the swap cache's and ours is busy (-EAGAIN, before any unmap); then <c>try_to_unmap(page, 1)</c> turns every PTE
    /// into the swap entry, and a page still mapped or still referenced is -EAGAIN with those PTEs left as they are.</summary>
    private void MigratePageRemoveReferences(SwapCacheMigration run, int pos)
    {
        var idx = Idx(run.Request.Pfns[pos]);
        if (_m.Mapcount(idx) + 2 != _m.Count(idx)) { UnlockSwapCache(run, pos, MigrateVerdict.Retry, -(int)Errno.EAGAIN); return; }
        if (_m.Mapcount(idx) == 0) { RemoveReferencesChecked(run, pos); return; }
        TryToUnmapMigration(idx,
            mapper =>
            {
                if (!_swapPtesOf.TryGetValue(idx, out var holders))
                {
                    _swapPtesOf[idx] = holders = new();
                }

                if (!holders.Contains(mapper))
                {
                    holders.Add(mapper);
                }
            },
            _ => RemoveReferencesChecked(run, pos));
    }

    /// <summary>The end of <c>migrate_page_remove_references</c>: no mapping left and <c>page_count == 2</c> (the swap
    /// cache and the isolation), else -EAGAIN. A page that passes waits, locked, for its target.</summary>
    private void RemoveReferencesChecked(SwapCacheMigration run, int pos)
    {
        var idx = Idx(run.Request.Pfns[pos]);
        if (_m.Mapcount(idx) > 0 || _m.Count(idx) != 2) { UnlockSwapCache(run, pos, MigrateVerdict.Retry, -(int)Errno.EAGAIN); return; }
        ResolveSwapCache(run, pos, MigrateVerdict.Ready, 0);
    }

    private void UnlockSwapCache(SwapCacheMigration run, int pos, MigrateVerdict verdict, int result)
    {
        UnlockPage(Idx(run.Request.Pfns[pos]));
        ResolveSwapCache(run, pos, verdict, result);
    }

    private void ResolveSwapCache(SwapCacheMigration run, int pos, MigrateVerdict verdict, int result)
    {
        run.Verdicts[pos] = verdict;
        run.Results[pos] = result;
        if (--run.Pending > 0)
        {
            return;
        }

        _replies.Close(run.Token);
        var r = run.Request;
        r.ReplyTo.Tell(new MigratePassResult(r.Token, _node, r.Pfns, run.Verdicts, run.Results));
    }

    /// <summary>The rest of <c>migrate_page()</c> for ready pages: the radix-tree slot and the swap cache's reference move
    /// to the new page, <c>migrate_page_copy</c>, and at the new page's node <c>remove_from_swap(newpage)</c> (every swap
    /// entry of the slot becomes a PTE of the new page, each dropping its swap_map reference) and
    /// <c>delete_from_swap_cache</c>, which frees the slot; no I/O. Then the old page is unlocked and stays isolated for
    /// the caller's <c>putback_lru_pages(&amp;moved)</c>; the new page goes to the migrating CPU's pagevec.</summary>
    private void HandleMigrateSwapCacheCopy(MigrateSwapCacheCopy m)
    {
        var verdicts = new MigrateVerdict[m.Items.Length];
        var results = new int[m.Items.Length];
        var pending = m.Items.Length;
        for (var k = 0; k < m.Items.Length; k++)
        {
            var (oldPfn, newPfn) = m.Items[k];
            var idx = Idx(oldPfn);
            if (!_m.Test(idx, PageFlags.Locked) || !_m.Test(idx, PageFlags.SwapCache))
            {
                throw new InvalidOperationException($"migrate_page: pfn {oldPfn} is not a locked swap-cache page");
            }

            var holders = _swapPtesOf.Remove(idx, out var list) ? list.ToArray() : [];
            var pos = k;
            var installToken = _replies.NextToken();
            _migrateReplies[installToken] = _ =>
            {
                _migrateReplies.Remove(installToken);
                UnlockPage(idx);
                verdicts[pos] = MigrateVerdict.Moved;
                results[pos] = Topology.PfnToNid(newPfn);
                if (--pending == 0)
                {
                    m.ReplyTo.Tell(new MigratePassResult(m.Token, _node, m.Items.Select(i => i.OldPfn).ToArray(), verdicts, results));
                }
            };
            CopyToNewPage(idx, newPfn, installToken, holders, m.Cpu, fromSwap: true);
        }
    }

    /// <summary>The end of <c>remove_from_swap(newpage)</c>: <c>delete_from_swap_cache</c> drops the cache entry, its
    /// swap_map reference and its page reference, unless another swap PTE still holds the slot (see
    /// <see cref="SwapDevice.MigratedLeaveSwapCache"/>); then <c>unlock_page(newpage)</c>. The page stays locked until the
    /// swap device has answered, so neither reclaim nor a fault can take it out of the cache meanwhile.</summary>
    private void LeaveSwapCacheAfterMigration(int idx, int slot) =>
        Directory.Swap.Tell(new SwapDevice.MigratedLeaveSwapCache(Self, slot, Pfn(idx)));

    private void HandleMigratedSwapCacheLeft(SwapDevice.MigratedSwapCacheLeft m)
    {
        var idx = Idx(m.Pfn);
        if (m.Deleted)
        {
            _m.DeleteFromSwapCache(idx);
            PutPage(idx);
        }

        UnlockPage(idx);
    }

    /// <summary>A page put back leaves its migration with its swap PTEs as they are: they are ordinary swap-cache
    /// mappings now, which faults map again.</summary>
    private void ForgetSwapPtes(int[] pfns)
    {
        if (_swapPtesOf.Count == 0)
        {
            return;
        }

        foreach (var pfn in pfns)
        {
            _swapPtesOf.Remove(Idx(pfn));
        }
    }
}

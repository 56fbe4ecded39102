using System.Globalization;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>One pass of V2 <c>swapout_pages()</c> over the pages of this node. The kernel handles the list one page at a
/// time in the caller's context; here each page walks the same steps, and the steps that need another actor (a swap
/// slot, the mapping tasks' PTEs, the disk) are batched into one message per pass and peer:
/// <code>
///   lock ─► writeback? ─► add_to_swap ─► try_to_unmap ─► pageout ─► free
///   busy/pass 0: retry   no slot: failed  young: retry   I/O started: retry
/// </code></summary>
/// <remarks>Kernel: V2 1/2 mm/vmscan.c swapout_pages(); mm/vmscan.c pageout(); mm/page_io.c swap_writepage().</remarks>
public sealed partial class NumaNodeActor
{
    private enum SwapoutVerdict : byte { Pending, Freed, Retry, Failed }

    /// <summary>One pass's pages and where each stands. Per-page state lives in arrays indexed by the page's position
    /// in the request (the order the verdicts are reported in); <see cref="PositionOf"/> maps a frame back to it for
    /// the answers of the swap device and the mapping tasks, which name pages by pfn.</summary>
    private sealed class SwapoutBatch
    {
        public SwapoutBatch(SwapoutPass request, int[] idxs)
        {
            Request = request;
            NeedSlot = new(idxs.Length);
            NeedWrite = new(idxs.Length);
            Idxs = idxs;
            Verdicts = new SwapoutVerdict[idxs.Length];
            Unmaps = new (int Waiting, bool Young, bool Again)[idxs.Length];
            PositionOf = new Dictionary<int, int>(idxs.Length);
        }

        public long Token { get; set; }
        public SwapoutPass Request { get; }
        /// <summary>The frame index of each page, in request order.</summary>
        public int[] Idxs { get; }
        public SwapoutVerdict[] Verdicts { get; }
        /// <summary>Mapper replies still awaited per page, and whether any said young or not mapped.</summary>
        public (int Waiting, bool Young, bool Again)[] Unmaps { get; }
        public Dictionary<int, int> PositionOf { get; }
        public int Pending;
        // Sized for the whole pass up front (in the constructor): they refill once per round of the pass, and growing
        // them each time was copying.
        public List<int> NeedSlot { get; }
        public Dictionary<int, List<NumaTask.UnmapItem>> NeedUnmap { get; } = new();
        public List<SwapDevice.WriteItem> NeedWrite { get; }

        /// <summary>Lists of NeedUnmap go back here after a flush: a pass flushes many times (once per page the lock
        /// or writeback woke), and growing a fresh list each time cost more than the unmapping itself.</summary>
        private readonly Stack<List<NumaTask.UnmapItem>> _spareUnmapLists = new();

        public List<NumaTask.UnmapItem> UnmapList() => _spareUnmapLists.TryPop(out var list) ? list : new(Idxs.Length);

        /// <summary>Empties NeedUnmap, keeping its lists for the next round (the dictionary itself is cleared, so the
        /// tasks are told in the order they first appear in each round, as before).</summary>
        public void ClearNeedUnmap()
        {
            foreach (var list in NeedUnmap.Values)
            {
                list.Clear();
                _spareUnmapLists.Push(list);
            }
            NeedUnmap.Clear();
        }
    }

    private readonly List<(int Slot, int Pfn)> _cacheDeleted = new();

    private void HandleSwapoutPass(SwapoutPass m)
    {
        var idxs = new int[m.Pfns.Length];
        for (var k = 0; k < idxs.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            if (_m.Place(idx) != FramePlace.Isolated)
                throw new InvalidOperationException($"swapout_pages: pfn {m.Pfns[k]} is not isolated ({_m.Place(idx)})");
            idxs[k] = idx;
        }
        var batch = new SwapoutBatch(m, idxs);
        var token = batch.Token = _replies.Open(batch);
        for (var k = 0; k < idxs.Length; k++)
        {
            // A pfn named twice is one page (as the dictionary of verdicts this replaced had it).
            if (!batch.PositionOf.TryAdd(idxs[k], k)) { idxs[k] = -1; continue; }
            batch.Pending++;
        }
        foreach (var idx in idxs)
            if (idx >= 0) StepLock(token, batch, idx);
        Flush(token, batch);
    }

    private void Resolve(long token, SwapoutBatch batch, int idx, SwapoutVerdict verdict)
    {
        batch.Verdicts[batch.PositionOf[idx]] = verdict;
        if (--batch.Pending > 0) return;
        _replies.Close(token);
        var r = batch.Request;
        // One walk in request order sorts the pages by verdict.
        var counts = new int[4];
        foreach (var v in batch.Verdicts) counts[(int)v]++;
        var byVerdict = new int[4][];
        for (var v = 0; v < 4; v++) byVerdict[v] = new int[counts[v]];
        Array.Clear(counts);
        for (var k = 0; k < batch.Idxs.Length; k++)
        {
            if (batch.Idxs[k] < 0) continue;
            var v = (int)batch.Verdicts[k];
            byVerdict[v][counts[v]++] = Pfn(batch.Idxs[k]);
        }
        var result = new SwapoutPassResult(r.Token, _node, byVerdict[(int)SwapoutVerdict.Freed],
            byVerdict[(int)SwapoutVerdict.Retry], byVerdict[(int)SwapoutVerdict.Failed]);
        Trace.Emit("mm_migrate_swapout_pass", $"node={_node} pass={r.Pass} freed={result.Freed.Length} retry={result.Retry.Length} failed={result.Failed.Length}");
        r.ReplyTo.Tell(result);
    }

    private void RetryLater(long token, SwapoutBatch batch, int idx)
    {
        UnlockPage(idx);
        Resolve(token, batch, idx, SwapoutVerdict.Retry);
    }

    /// <summary>Passes below the profile's threshold only try the lock; later ones wait for it.</summary>
    private void StepLock(long token, SwapoutBatch batch, int idx)
    {
        if (batch.Request.Pass < batch.Request.BlockingLockFromPass)
        {
            if (_m.TestAndSet(idx, PageFlags.Locked)) { Resolve(token, batch, idx, SwapoutVerdict.Retry); return; }
            StepWriteback(token, batch, idx);
            return;
        }
        SwapoutLocked(batch, idx);
    }

    /// <summary>lock_page in a blocking pass, and where a page woken on the lock goes on from.</summary>
    private void SwapoutLocked(SwapoutBatch batch, int idx)
    {
        if (_m.TestAndSet(idx, PageFlags.Locked)) { Sleep(idx, PageFlags.Locked, new Waiter(null, batch)); return; }
        StepWriteback(batch.Token, batch, idx);
        FlushAfterMessage(batch.Token, batch);
    }

    /// <summary>wait_on_page_writeback, and where a page woken by end_page_writeback goes on from.</summary>
    private void SwapoutWritebackDone(SwapoutBatch batch, int idx)
    {
        if (_m.Test(idx, PageFlags.Writeback)) { Sleep(idx, PageFlags.Writeback, new Waiter(null, batch)); return; }
        StepAddToSwap(batch.Token, batch, idx);
        FlushAfterMessage(batch.Token, batch);
    }

    private void StepWriteback(long token, SwapoutBatch batch, int idx)
    {
        if (!_m.Test(idx, PageFlags.Writeback)) { StepAddToSwap(token, batch, idx); return; }
        if (batch.Request.Pass == 0) { RetryLater(token, batch, idx); return; }
        Sleep(idx, PageFlags.Writeback, new Waiter(null, batch));
    }

    private void StepAddToSwap(long token, SwapoutBatch batch, int idx)
    {
        if (_m.Test(idx, PageFlags.SwapCache)) StepUnmap(token, batch, idx);
        else batch.NeedSlot.Add(idx);
    }

    private void StepUnmap(long token, SwapoutBatch batch, int idx)
    {
        if (_m.Mapcount(idx) == 0) { StepPageout(token, batch, idx); return; }
        var mappers = 0;
        foreach (var task in _m.Mappers(idx))
        {
            mappers++;
            if (!batch.NeedUnmap.TryGetValue(task, out var list)) batch.NeedUnmap[task] = list = batch.UnmapList();
            list.Add(new NumaTask.UnmapItem(Pfn(idx), _m.RmapVpn(idx), _m.SwapEntry(idx)));
        }
        batch.Unmaps[batch.PositionOf[idx]] = (mappers, false, false);
    }

    /// <summary><c>pageout()</c>: only a page that nobody but the swap cache and the isolator holds is written.</summary>
    private void StepPageout(long token, SwapoutBatch batch, int idx)
    {
        if (!_m.Test(idx, PageFlags.Dirty)) { StepFree(token, batch, idx); return; }
        if (_m.Count(idx) != 2) { RetryLater(token, batch, idx); return; }   // PAGE_KEEP
        _m.Clear(idx, PageFlags.Dirty);                                       // clear_page_dirty_for_io
        _m.Set(idx, PageFlags.Reclaim);
        batch.NeedWrite.Add(new SwapDevice.WriteItem(_m.SwapEntry(idx), Pfn(idx), _m.Contents(idx), PageCountIsTwo: true));
    }

    /// <summary>The end of the loop body: <c>page_count == 2 &amp;&amp; !PageDirty</c> under tree_lock, then
    /// <c>__delete_from_swap_cache</c>, <c>swap_free</c>, and the last <c>put_page</c>.</summary>
    private void StepFree(long token, SwapoutBatch batch, int idx)
    {
        if (_m.Count(idx) != 2 || _m.Test(idx, PageFlags.Dirty)) { RetryLater(token, batch, idx); return; }
        var slot = _m.SwapEntry(idx);
        _m.DeleteFromSwapCache(idx);
        _cacheDeleted.Add((slot, Pfn(idx)));
        PutPage(idx);                       // the swap cache's reference
        _m.Clear(idx, PageFlags.Active);   // "ClearPageActive(page)": the free path checks it
        UnlockPage(idx);                    // free_it: unlock_page() wakes whoever sleeps on the lock, then put_page()
        PutPage(idx);                       // the isolation reference: the frame is free now
        Resolve(token, batch, idx, SwapoutVerdict.Freed);
    }

    /// <summary>Sends what the pages of a batch wait for, one message per peer.</summary>
    private void Flush(long token, SwapoutBatch batch)
    {
        if (batch.NeedSlot.Count > 0)
        {
            Directory.Swap.Tell(new SwapDevice.AddToSwap(token, Self, batch.NeedSlot.Select(Pfn).ToArray()));
            batch.NeedSlot.Clear();
        }
        foreach (var (task, items) in batch.NeedUnmap)
        {
            var target = Directory.Task(task);
            if (target is null) throw new InvalidOperationException($"rmap of node {_node} names task {task}, which is gone");
            target.Tell(new NumaTask.TryToUnmap(token, Self, items.ToArray(), batch.Request.UnmapIgnoresYoung));
        }
        batch.ClearNeedUnmap();
        if (batch.NeedWrite.Count > 0)
        {
            Directory.Swap.Tell(new SwapDevice.SwapWritepage(token, Self, batch.NeedWrite.ToArray()));
            batch.NeedWrite.Clear();
        }
        FlushCacheDeleted();
    }

    /// <summary>Batches that pages woken from lock_page or wait_on_page_writeback moved on: one message (end_page_writeback
    /// of a whole write, an unlock) wakes many pages, and flushing after each sent a message per page to the swap device.
    /// They are flushed once, in the order first woken, when the message that woke them is handled; other actors
    /// cannot tell, since they see this node only between messages.</summary>
    private readonly List<(long Token, SwapoutBatch Batch)> _wokenBatches = new();

    private void FlushAfterMessage(long token, SwapoutBatch batch)
    {
        foreach (var (t, _) in _wokenBatches)
            if (t == token) return;
        _wokenBatches.Add((token, batch));
    }

    /// <summary>Runs at the end of every message: the flushes <see cref="FlushAfterMessage"/> put off.</summary>
    private void FlushWokenBatches()
    {
        if (_wokenBatches.Count == 0) return;
        // A flush does not wake pages (it only sends), so the list cannot grow while it is walked.
        foreach (var (token, batch) in _wokenBatches) Flush(token, batch);
        _wokenBatches.Clear();
    }

    private void FlushCacheDeleted()
    {
        if (_cacheDeleted.Count == 0) return;
        Directory.Swap.Tell(new SwapDevice.SwapCacheDeleted(_cacheDeleted.Select(c => c.Slot).ToArray(),
            _cacheDeleted.Select(c => c.Pfn).ToArray()));
        _cacheDeleted.Clear();
    }

    /// <summary>add_to_swap's answer: a page without a slot counts as failed and stays on the list.</summary>
    private void HandleAddedToSwap(SwapDevice.AddedToSwap m)
    {
        if (_replies.State(m) is ShrinkListBatch shrink) { HandleReclaimAddedToSwap(m, shrink); return; }
        var batch = _replies.State<SwapoutBatch>(m);
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            if (m.Slots[k] == 0)
            {
                UnlockPage(idx);
                Resolve(m.Token, batch, idx, SwapoutVerdict.Failed);
                continue;
            }
            _m.AddToSwapCache(idx, m.Slots[k], forWrite: true);
            StepUnmap(m.Token, batch, idx);
        }
        Trace.Emit("mm_add_to_swap", $"node={_node} nr={m.Pfns.Length} got={m.Slots.Count(s => s != 0)} first_slot={m.Slots.FirstOrDefault(s => s != 0)}");
        Flush(m.Token, batch);
    }

    /// <summary>try_to_unmap's answer from one mapping task. SWAP_SUCCESS only when no PTE maps the page any more.</summary>
    private void HandleUnmapResult(NumaTask.UnmapResult m)
    {
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            if (m.Outcomes[k] == NumaTask.UnmapOutcome.Unmapped)
            {
                _m.RemoveRmap(idx, m.Task);
                if (m.Dirty[k]) _m.Set(idx, PageFlags.Dirty);   // set_page_dirty from the PTE's dirty bit
                PutPage(idx);
            }
        }
        if (_replies.State(m) is ShrinkListBatch shrink) { HandleReclaimUnmapResult(m, shrink); return; }
        var batch = _replies.State<SwapoutBatch>(m);
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            var pos = batch.PositionOf[idx];
            var (waiting, young, again) = batch.Unmaps[pos];
            if (waiting == 0) throw new KeyNotFoundException($"try_to_unmap answer for pfn {m.Pfns[k]}, which awaits none");
            young |= m.Outcomes[k] == NumaTask.UnmapOutcome.Young;
            again |= m.Outcomes[k] == NumaTask.UnmapOutcome.NotMapped;
            batch.Unmaps[pos] = (waiting - 1, young, again);
            if (waiting > 1) continue;
            if (young || again || _m.Mapcount(idx) > 0) RetryLater(m.Token, batch, idx);   // SWAP_FAIL / SWAP_AGAIN
            else StepPageout(m.Token, batch, idx);
        }
        Flush(m.Token, batch);
    }

    /// <summary>swap_writepage's answer: a written page is under writeback and unlocked (PAGE_SUCCESS, retried next
    /// pass); a page whose slot only the cache held left the swap cache without I/O and is dirty again.</summary>
    private void HandleSwapWriteStarted(SwapDevice.SwapWriteStarted m)
    {
        var batch = _replies.State(m) as SwapoutBatch;
        var shrink = batch is null ? _replies.State<ShrinkListBatch>(m) : null;
        foreach (var pfn in m.Written) Idx(pfn);   // a foreign pfn is a BUG before anything is traced
        Trace.EmitEach("mm_vmscan_writepage", m.Written.Length, (Node: _node, Pfns: m.Written, Memory: _m),
            static (fields, s, k) => fields.Append(CultureInfo.InvariantCulture,
                $"node={s.Node} pfn={s.Pfns[k]} slot={s.Memory.SwapEntry(s.Memory.Index(s.Pfns[k]))}"));
        foreach (var pfn in m.Written)
        {
            var idx = Idx(pfn);
            _m.Set(idx, PageFlags.Writeback);
            UnlockPage(idx);
            if (batch is not null) Resolve(m.Token, batch, idx, SwapoutVerdict.Retry);
        }
        foreach (var pfn in m.Exclusive)
        {
            var idx = Idx(pfn);
            _m.DeleteFromSwapCache(idx);
            _m.Set(idx, PageFlags.Dirty);
            _m.Clear(idx, PageFlags.Reclaim);   // pageout(): not under writeback after ->writepage
            PutPage(idx);
            UnlockPage(idx);
            if (batch is not null) Resolve(m.Token, batch, idx, SwapoutVerdict.Retry);
        }
        if (shrink is not null) HandleReclaimWriteStarted(m, shrink);
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

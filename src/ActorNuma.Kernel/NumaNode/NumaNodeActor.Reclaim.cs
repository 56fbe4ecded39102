using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>Page reclaim on this node's zone, for kswapd and for direct reclaim: <c>shrink_zone</c>, its
/// <c>refill_inactive_zone</c> (aging the active list with swap_tendency) and <c>shrink_cache</c> (isolating up to 32
/// pages from the inactive tail and running <c>shrink_list</c> on them). The per-page steps that need another actor
/// (young bits of the mapping tasks, a swap slot, try_to_unmap, the write) are batched per peer as in swapout.</summary>
/// <remarks>Kernel: 2.6.14 mm/vmscan.c shrink_zone(), refill_inactive_zone(), shrink_cache(), shrink_list().</remarks>
public sealed partial class NumaNodeActor
{
    private IActorRef _kswapd = ActorRefs.Nobody;

    protected override void PreStart()
    {
        if (_machine.Settings.KswapdEnabled)
            _kswapd = Context.ActorOf(KswapdActor.Props(_machine, _node, Self), $"kswapd{_node}");
            Directory.AddKswapd(_node, _kswapd);
    }

    protected override SupervisorStrategy SupervisorStrategy() => KernelRootActor.KernelBugStrategy(_machine);

    private void HandleReclaim(object message)
    {
        switch (message)
        {
            case Kswapd.Wakeup m: WakeupKswapd(m); break;
            case Kswapd.BeginReclaimRun m: BeginReclaimRun(m); break;
            case ShrinkZone m: StartShrinkZone(m); break;
            case EndReclaimRun: _m.PrevPriority = _m.TempPriority; break;
            case NumaTask.PageReferencedResult m: HandlePageReferencedResult(m); break;
            case IKernelReply m: throw _replies.Unexpected(m);
            default: Unhandled(message); break;
        }
    }

    /// <summary><c>wakeup_kswapd()</c>: nothing to do while the zone is above pages_low.</summary>
    private void WakeupKswapd(Kswapd.Wakeup m)
    {
        if (_kswapd.IsNobody() || Watermarks.ZoneWatermarkOk(_m.FreePages, _m.Watermarks.PagesLow)) return;
        _kswapd.Tell(m with { FreePages = _m.FreePages });
    }

    // ---- shrink_zone ------------------------------------------------------------------------------------------

    /// <summary>kswapd's <c>sc.nr_mapped</c>, read at <c>loop_again</c> and used for the whole run.</summary>
    private int _kswapdNrMapped;

    /// <summary>The start of a reclaim run: <c>zone-&gt;temp_priority = DEF_PRIORITY</c> (balance_pgdat's loop_again,
    /// try_to_free_pages' first loop); kswapd reads nr_mapped once per run.</summary>
    private void BeginReclaimRun(Kswapd.BeginReclaimRun m)
    {
        _m.TempPriority = VmScan.DefPriority;
        if (m.IsKswapd) _kswapdNrMapped = _m.NrMapped();
    }

    private sealed class ShrinkZoneJob(ShrinkZone request, int nrMapped)
    {
        public ShrinkZone Request { get; } = request;
        /// <summary><c>sc-&gt;nr_mapped</c>: kswapd's snapshot of its run, or direct reclaim's of this priority.</summary>
        public int NrMapped { get; } = nrMapped;
        public long NrActive, NrInactive, NrToReclaim, Scanned, Reclaimed;
    }

    /// <summary>One zone's turn at a priority. kswapd (balance_pgdat) first looks for a zone to scan: above pages_high,
    /// or all_unreclaimable below DEF_PRIORITY, there is none; then temp_priority and prev_priority. Direct reclaim
    /// (shrink_caches) sets temp_priority and prev_priority first and then skips an all_unreclaimable zone below
    /// DEF_PRIORITY ("let kswapd poll it").</summary>
    /// <remarks>Kernel: 2.6.14 mm/vmscan.c balance_pgdat(), shrink_caches(), shrink_zone().</remarks>
    private void StartShrinkZone(ShrinkZone m)
    {
        if (m.SkipIfAboveHigh && Watermarks.ZoneWatermarkOk(_m.FreePages, _m.Watermarks.PagesHigh))
        {
            m.ReplyTo.Tell(new ShrinkZoneResult(m.Token, _node, 0, 0, AboveHigh: true, Skipped: false, _m.FreePages));
            return;
        }
        var skip = _m.AllUnreclaimable && m.Priority != VmScan.DefPriority;
        if (!(skip && m.IsKswapd))
        {
            _m.TempPriority = m.Priority;
            if (_m.PrevPriority > m.Priority) _m.PrevPriority = m.Priority;
        }
        if (skip)
        {
            m.ReplyTo.Tell(new ShrinkZoneResult(m.Token, _node, 0, 0, AboveHigh: false, Skipped: true, _m.FreePages));
            return;
        }
        var job = new ShrinkZoneJob(m, m.IsKswapd ? _kswapdNrMapped : _m.NrMapped()) { NrToReclaim = VmScan.SwapClusterMax };
        (job.NrActive, _m.NrScanActive) = VmScan.ShrinkZoneScan(_m.NrScanActive, _m.NrActive, m.Priority);
        (job.NrInactive, _m.NrScanInactive) = VmScan.ShrinkZoneScan(_m.NrScanInactive, _m.NrInactive, m.Priority);
        ShrinkZoneLoop(job);
    }

    private static string IsolatorName(ShrinkZoneJob job) => job.Request.IsKswapd ? "kswapd" : "direct";

    /// <summary>Alternates refill_inactive_zone and shrink_cache in batches of at most 32 until both amounts are used
    /// up, stopping early once 32 pages were freed (2.6.14's nr_to_reclaim).</summary>
    private void ShrinkZoneLoop(ShrinkZoneJob job)
    {
        if (job.NrActive == 0 && job.NrInactive == 0) { FinishShrinkZone(job); return; }
        void Inactive()
        {
            if (job.NrInactive == 0) { ShrinkZoneLoop(job); return; }
            var n = (int)Math.Min(job.NrInactive, VmScan.SwapClusterMax);
            job.NrInactive -= n;
            ShrinkCache(job, n, () =>
            {
                if (job.NrToReclaim <= 0) FinishShrinkZone(job);
                else ShrinkZoneLoop(job);
            });
        }
        if (job.NrActive == 0) { Inactive(); return; }
        var nr = (int)Math.Min(job.NrActive, VmScan.SwapClusterMax);
        job.NrActive -= nr;
        RefillInactiveZone(job, nr, Inactive);
    }

    private void FinishShrinkZone(ShrinkZoneJob job)
    {
        var m = job.Request;
        if (m.SetAllUnreclaimable && !_m.AllUnreclaimable && _m.PagesScanned >= (_m.NrActive + _m.NrInactive) * 4L)
        {
            _m.AllUnreclaimable = true;
            Trace.Emit("mm_vmscan_zone_unreclaimable", $"node={_node} pages_scanned={_m.PagesScanned}");
        }
        m.ReplyTo.Tell(new ShrinkZoneResult(m.Token, _node, job.Scanned, job.Reclaimed, AboveHigh: false, Skipped: false, _m.FreePages));
    }

    /// <summary><c>lru_add_drain()</c> on the reclaiming CPU, when this node owns it (the pagevecs of a CPU on another
    /// node were drained by the direct reclaimer before it asked).</summary>
    private void LocalLruAddDrain(int cpu)
    {
        if (cpu < 0 || !_pagevecs.TryGetValue(cpu, out var pvecs)) return;
        FlushPagevec(cpu, pvecs.LruAdd, active: false, 0, null, []);
        FlushPagevec(cpu, pvecs.LruAddActive, active: true, 0, null, []);
    }

    // ---- refill_inactive_zone ---------------------------------------------------------------------------------

    /// <summary><c>refill_inactive_zone</c>: takes up to <paramref name="nrPages"/> from the active tail; mapped pages
    /// stay active unless <c>reclaim_mapped</c> (swap_tendency = mapped_ratio/2 + distress + vm_swappiness &gt;= 100) and
    /// they were not referenced; anonymous pages stay active when there is no swap. The rest are deactivated. Both
    /// groups go back to the head of their list in the order they were taken.</summary>
    /// <remarks>Kernel: 2.6.14 mm/vmscan.c refill_inactive_zone(). mapped_ratio = sc-&gt;nr_mapped * 100 / total_memory,
    /// where total_memory = nr_free_pagecache_pages() = the sum over the zonelist of present_pages - pages_high.</remarks>
    private void RefillInactiveZone(ShrinkZoneJob job, int nrPages, Action then)
    {
        LocalLruAddDrain(job.Request.DrainCpu);
        var hold = new List<int>();
        _m.IsolateLruPages(nrPages, active: true, hold, out var scanned);
        _m.PagesScanned += scanned;
        _m.Stat.Count(VmEvent.Pgrefill, scanned);
        // The kernel reads the machine-wide nr_mapped over the machine's total_memory; a node only knows its own frames,
        // so it uses its own share of both, which is the same ratio when the workload is spread evenly (and exact on a
        // single node).
        var totalMemory = Math.Max(1, _m.Pages - _m.Watermarks.PagesHigh);
        var mappedRatio = (long)job.NrMapped * 100 / totalMemory;
        var swapTendency = VmScan.SwapTendency(mappedRatio, _m.PrevPriority, _machine.Settings.Swappiness);
        var reclaimMapped = VmScan.ReclaimMapped(swapTendency);
        var toCheck = new List<int>();
        foreach (var idx in hold)
            if (_m.Mapcount(idx) > 0 && reclaimMapped && _machine.Settings.SwapSlots > 0) toCheck.Add(idx);
        Trace.Emit("mm_vmscan_lru_isolate", $"node={_node} isolator={IsolatorName(job)} lru=active nr_requested={nrPages} nr_scanned={scanned} nr_taken={hold.Count}");
        PageReferenced(toCheck, referenced =>
        {
            var inactive = new List<int>();
            var active = new List<int>();
            foreach (var idx in hold)
            {
                // page_mapped: stays active unless reclaim_mapped, swap exists for the anon page and it was not referenced.
                var keep = _m.Mapcount(idx) > 0 && (!reclaimMapped || _machine.Settings.SwapSlots == 0 || referenced.GetValueOrDefault(idx) > 0);
                (keep ? active : inactive).Add(idx);
            }
            foreach (var idx in inactive) { _m.ReturnToLru(idx, active: false); PutPage(idx); }
            foreach (var idx in active) { _m.ReturnToLru(idx, active: true); PutPage(idx); }
            _m.Stat.Count(VmEvent.Pgdeactivate, inactive.Count);
            Trace.Emit("mm_vmscan_lru_shrink_active", $"node={_node} isolator={IsolatorName(job)} priority={job.Request.Priority} " +
                $"nr_taken={hold.Count} nr_active={active.Count} nr_deactivated={inactive.Count} swap_tendency={swapTendency} " +
                $"reclaim_mapped={(reclaimMapped ? 1 : 0)}");
            then();
        });
    }

    // ---- shrink_cache -----------------------------------------------------------------------------------------

    /// <summary><c>shrink_cache</c>: <c>lru_add_drain()</c>, then batches of up to 32 pages from the inactive tail
    /// through shrink_list until <paramref name="maxScan"/> pages were looked at or the list gives none; survivors go
    /// back to the list PG_active names.</summary>
    /// <remarks>Kernel: 2.6.14 mm/vmscan.c shrink_cache().</remarks>
    private void ShrinkCache(ShrinkZoneJob job, int maxScan, Action then)
    {
        LocalLruAddDrain(job.Request.DrainCpu);
        ShrinkCacheBatch(job, maxScan, then);
    }

    private void ShrinkCacheBatch(ShrinkZoneJob job, int maxScan, Action then)
    {
        if (maxScan <= 0) { then(); return; }
        var list = new List<int>();
        var taken = _m.IsolateLruPages(VmScan.SwapClusterMax, active: false, list, out var scanned);
        _m.PagesScanned += scanned;
        if (taken == 0) { then(); return; }
        var kswapd = job.Request.IsKswapd;
        _m.Stat.Count(kswapd ? VmEvent.PgscanKswapd : VmEvent.PgscanDirect, scanned);
        Trace.Emit("mm_vmscan_lru_isolate", $"node={_node} isolator={IsolatorName(job)} lru=inactive nr_requested={VmScan.SwapClusterMax} nr_scanned={scanned} nr_taken={taken}");
        ShrinkList(job, list, freed =>
        {
            Trace.Emit("mm_vmscan_lru_shrink_inactive", $"node={_node} isolator={IsolatorName(job)} priority={job.Request.Priority} " +
                $"nr_taken={taken} nr_reclaimed={freed}");
            if (kswapd) _m.Stat.Count(VmEvent.KswapdSteal, freed);
            _m.Stat.Count(VmEvent.Pgsteal, freed);
            job.NrToReclaim -= freed;
            job.Reclaimed += freed;
            ShrinkCacheBatch(job, maxScan - scanned, then);
        });
    }

    // ---- shrink_list ------------------------------------------------------------------------------------------

    private enum ShrinkVerdict : byte { Pending, Freed, Keep, Activate }

    private sealed class ShrinkListBatch(ShrinkZoneJob job, Action<int> done)
    {
        public long Token;
        public ShrinkZoneJob Job { get; } = job;
        public Action<int> Done { get; } = done;
        public Dictionary<int, ShrinkVerdict> Verdicts { get; } = new();
        public Dictionary<int, int> Referenced { get; } = new();
        public Dictionary<int, (int Waiting, bool Young, bool Again)> Unmaps { get; } = new();
        public int Pending;
        public List<int> NeedSlot { get; } = new();
        public Dictionary<int, List<NumaTask.UnmapItem>> NeedUnmap { get; } = new();
        public List<SwapDevice.WriteItem> NeedWrite { get; } = new();
    }

    private void ShrinkList(ShrinkZoneJob job, List<int> pages, Action<int> done)
    {
        var batch = new ShrinkListBatch(job, done) { Pending = pages.Count };
        var token = batch.Token = _replies.Open(batch);
        var locked = new List<int>();
        foreach (var idx in pages)
        {
            batch.Verdicts[idx] = ShrinkVerdict.Pending;
            if (_m.TestAndSet(idx, PageFlags.Locked)) { ShrinkResolve(token, batch, idx, ShrinkVerdict.Keep, unlock: false); continue; }
            if (_m.Test(idx, PageFlags.Active)) throw new InvalidOperationException($"shrink_list: pfn {Pfn(idx)} PG_active (BUG)");
            job.Scanned++;
            if (_m.Mapcount(idx) > 0 || _m.Test(idx, PageFlags.SwapCache)) job.Scanned++;
            if (_m.Test(idx, PageFlags.Writeback)) { ShrinkResolve(token, batch, idx, ShrinkVerdict.Keep, unlock: true); continue; }
            locked.Add(idx);
        }
        if (locked.Count == 0) return;
        PageReferenced(locked, referenced =>
        {
            foreach (var idx in locked)
            {
                batch.Referenced[idx] = referenced[idx];
                // In active use (referenced, and mapped or in the swap cache: page_mapping_inuse)? Activate.
                if (referenced[idx] > 0 && (_m.Mapcount(idx) > 0 || _m.Test(idx, PageFlags.SwapCache)))
                    ShrinkResolve(token, batch, idx, ShrinkVerdict.Activate, unlock: true);
                else if (!_m.Test(idx, PageFlags.SwapCache)) batch.NeedSlot.Add(idx);
                else ShrinkUnmap(token, batch, idx);
            }
            ShrinkFlush(token, batch);
        });
    }

    private void ShrinkUnmap(long token, ShrinkListBatch batch, int idx)
    {
        if (_m.Mapcount(idx) == 0) { ShrinkPageout(token, batch, idx); return; }
        var mappers = _m.Mappers(idx).ToArray();
        batch.Unmaps[idx] = (mappers.Length, false, false);
        foreach (var task in mappers)
        {
            if (!batch.NeedUnmap.TryGetValue(task, out var list)) batch.NeedUnmap[task] = list = new();
            list.Add(new NumaTask.UnmapItem(Pfn(idx), _m.RmapVpn(idx), _m.SwapEntry(idx)));
        }
    }

    /// <summary>Dirty: a referenced page is kept; else <c>pageout()</c> (only with nobody but the cache and us holding it).
    /// Clean: freed if the swap cache and we are its only users.</summary>
    private void ShrinkPageout(long token, ShrinkListBatch batch, int idx)
    {
        if (_m.Test(idx, PageFlags.Dirty))
        {
            if (batch.Referenced.GetValueOrDefault(idx) > 0 || _m.Count(idx) != 2)
            {
                ShrinkResolve(token, batch, idx, ShrinkVerdict.Keep, unlock: true);
                return;
            }
            _m.Clear(idx, PageFlags.Dirty);
            _m.Set(idx, PageFlags.Reclaim);
            batch.NeedWrite.Add(new SwapDevice.WriteItem(_m.SwapEntry(idx), Pfn(idx), _m.Contents(idx), PageCountIsTwo: true));
            return;
        }
        if (_m.Count(idx) != 2 || !_m.Test(idx, PageFlags.SwapCache))
        {
            ShrinkResolve(token, batch, idx, ShrinkVerdict.Keep, unlock: true);
            return;
        }
        var slot = _m.SwapEntry(idx);
        _m.DeleteFromSwapCache(idx);
        _cacheDeleted.Add((slot, Pfn(idx)));
        PutPage(idx);   // the swap cache's reference
        ShrinkResolve(token, batch, idx, ShrinkVerdict.Freed, unlock: true);
    }

    private void ShrinkResolve(long token, ShrinkListBatch batch, int idx, ShrinkVerdict verdict, bool unlock)
    {
        batch.Verdicts[idx] = verdict;
        if (verdict == ShrinkVerdict.Activate)
        {
            _m.Set(idx, PageFlags.Active);
            _m.Stat.Count(VmEvent.Pgactivate);
        }
        if (unlock) UnlockPage(idx);
        if (--batch.Pending > 0) return;
        _replies.Close(token);
        FlushCacheDeleted();
        var freed = 0;
        foreach (var (i, v) in batch.Verdicts)
        {
            if (v == ShrinkVerdict.Freed) { freed++; PutPage(i); continue; }    // __pagevec_release_nonlru
            _m.ReturnToLru(i, _m.Test(i, PageFlags.Active));                      // back by PG_active
            PutPage(i);
        }
        batch.Done(freed);
    }

    private void ShrinkFlush(long token, ShrinkListBatch batch)
    {
        if (batch.NeedSlot.Count > 0)
        {
            Directory.Swap.Tell(new SwapDevice.AddToSwap(token, Self, batch.NeedSlot.Select(Pfn).ToArray()));
            batch.NeedSlot.Clear();
        }
        foreach (var (task, items) in batch.NeedUnmap)
        {
            var target = Directory.Task(task) ?? throw new InvalidOperationException($"rmap of node {_node} names task {task}, which is gone");
            target.Tell(new NumaTask.TryToUnmap(token, Self, items.ToArray(), IgnoreYoung: false));
        }
        batch.NeedUnmap.Clear();
        if (batch.NeedWrite.Count > 0)
        {
            Directory.Swap.Tell(new SwapDevice.SwapWritepage(token, Self, batch.NeedWrite.ToArray()));
            batch.NeedWrite.Clear();
        }
        FlushCacheDeleted();
    }

    /// <summary>add_to_swap failed (no slot): activate; else on to try_to_unmap.</summary>
    private void HandleReclaimAddedToSwap(SwapDevice.AddedToSwap m, ShrinkListBatch batch)
    {
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            if (m.Slots[k] == 0) { ShrinkResolve(m.Token, batch, idx, ShrinkVerdict.Activate, unlock: true); continue; }
            _m.AddToSwapCache(idx, m.Slots[k], forWrite: true);
            ShrinkUnmap(m.Token, batch, idx);
        }
        if (_replies.IsOpen(m.Token)) ShrinkFlush(m.Token, batch);
    }

    /// <summary>try_to_unmap: SWAP_FAIL (a young PTE) activates, SWAP_AGAIN keeps, SWAP_SUCCESS goes on.</summary>
    private void HandleReclaimUnmapResult(NumaTask.UnmapResult m, ShrinkListBatch batch)
    {
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            var (waiting, young, again) = batch.Unmaps[idx];
            young |= m.Outcomes[k] == NumaTask.UnmapOutcome.Young;
            again |= m.Outcomes[k] == NumaTask.UnmapOutcome.NotMapped;
            if (--waiting > 0) { batch.Unmaps[idx] = (waiting, young, again); continue; }
            batch.Unmaps.Remove(idx);
            if (young) ShrinkResolve(m.Token, batch, idx, ShrinkVerdict.Activate, unlock: true);
            else if (again || _m.Mapcount(idx) > 0) ShrinkResolve(m.Token, batch, idx, ShrinkVerdict.Keep, unlock: true);
            else ShrinkPageout(m.Token, batch, idx);
        }
        if (_replies.IsOpen(m.Token)) ShrinkFlush(m.Token, batch);
    }

    /// <summary>pageout's answer, after <see cref="HandleSwapWriteStarted"/> did what every swap_writepage answer needs
    /// (PG_writeback and the unlock for a written page; for a page whose slot only the cache held,
    /// remove_exclusive_swap_page's work: out of the swap cache, dirty, unlocked). Either way PAGE_SUCCESS: a page
    /// under writeback, or one that is dirty again, is kept (<c>goto keep</c>: already unlocked). A written page is
    /// rotated to the inactive tail when the write completes and freed by a later scan; the other one has only the
    /// isolation reference left and is freed when it is put back.</summary>
    /// <remarks>Kernel: 2.6.14 mm/vmscan.c shrink_list() on PAGE_SUCCESS; mm/page_io.c swap_writepage().</remarks>
    private void HandleReclaimWriteStarted(SwapDevice.SwapWriteStarted m, ShrinkListBatch batch)
    {
        foreach (var pfn in m.Written.Concat(m.Exclusive))
            ShrinkResolve(m.Token, batch, Idx(pfn), ShrinkVerdict.Keep, unlock: false);
    }

    // ---- page_referenced --------------------------------------------------------------------------------------

    /// <summary>A page_referenced() waiting for the mapping tasks' young bits: one answer per task asked.</summary>
    private sealed class PageReferencedWait(Dictionary<int, int> counts, int waiting, Action<Dictionary<int, int>> then)
    {
        public Dictionary<int, int> Counts { get; } = counts;
        public int Waiting = waiting;
        public Action<Dictionary<int, int>> Then { get; } = then;
    }

    /// <summary><c>page_referenced()</c> for each page: <c>TestClearPageReferenced</c> plus one for each mapping PTE that
    /// was young (the tasks clear the bits they report).</summary>
    private void PageReferenced(List<int> pages, Action<Dictionary<int, int>> then)
    {
        var counts = new Dictionary<int, int>();
        var byTask = new Dictionary<int, List<int>>();
        foreach (var idx in pages)
        {
            counts[idx] = _m.TestAndClear(idx, PageFlags.Referenced) ? 1 : 0;
            foreach (var task in _m.Mappers(idx))
            {
                if (!byTask.TryGetValue(task, out var list)) byTask[task] = list = new();
                list.Add(idx);
            }
        }
        if (byTask.Count == 0) { then(counts); return; }
        var token = _replies.Open(new PageReferencedWait(counts, byTask.Count, then));
        foreach (var (task, list) in byTask)
        {
            var target = Directory.Task(task) ?? throw new InvalidOperationException($"rmap of node {_node} names task {task}, which is gone");
            target.Tell(new NumaTask.PageReferenced(token, Self, list.Select(Pfn).ToArray(), list.Select(i => _m.RmapVpn(i)).ToArray()));
        }
    }

    private void HandlePageReferencedResult(NumaTask.PageReferencedResult m)
    {
        var wait = _replies.State<PageReferencedWait>(m);
        for (var k = 0; k < m.Pfns.Length; k++)
            if (m.Young[k]) wait.Counts[Idx(m.Pfns[k])]++;
        if (--wait.Waiting > 0) return;
        _replies.Close(m.Token);
        wait.Then(wait.Counts);
    }
}

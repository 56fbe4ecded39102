using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>Page reclaim on this node's zone, for kswapd and for direct reclaim: <c>shrink_zone</c>, its
/// <c>refill_inactive_zone</c> (aging the active list with swap_tendency) and <c>shrink_cache</c> (isolating up to 32
/// pages from the inactive tail and running <c>shrink_list</c> on them). The per-page steps that need another actor
/// (young bits of the mapping tasks, a swap slot, try_to_unmap, the write) are batched per peer as in swapout.</summary>
/// <remarks>Kernel: 2.6.14 mm/vmscan.c shrink_zone(), refill_inactive_zone(), shrink_cache(), shrink_list().</remarks>
public sealed partial class NumaNodeActor
{
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
        if (_kswapd.IsNobody() || Watermarks.ZoneWatermarkOk(_m.FreePages, _m.Watermarks.PagesLow))
        {
            return;
        }

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
        if (m.IsKswapd)
        {
            _kswapdNrMapped = _m.NrMapped();
        }
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
        var skip = VmScan.SkipUnreclaimable(_m.AllUnreclaimable, m.Priority);
        if (!(skip && m.IsKswapd))
        {
            _m.TempPriority = m.Priority;
            if (_m.PrevPriority > m.Priority)
            {
                _m.PrevPriority = m.Priority;
            }
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
            var n = VmScan.ScanBatch(job.NrInactive);
            job.NrInactive -= n;
            ShrinkCache(job, n, () =>
            {
                if (job.NrToReclaim <= 0)
                {
                    FinishShrinkZone(job);
                }
                else
                {
                    ShrinkZoneLoop(job);
                }
            });
        }
        if (job.NrActive == 0) { Inactive(); return; }
        var nr = VmScan.ScanBatch(job.NrActive);
        job.NrActive -= nr;
        RefillInactiveZone(job, nr, Inactive);
    }

    private void FinishShrinkZone(ShrinkZoneJob job)
    {
        var m = job.Request;
        if (m.SetAllUnreclaimable && !_m.AllUnreclaimable && VmScan.ZoneUnreclaimable(_m.PagesScanned, _m.NrActive, _m.NrInactive))
        {
            _m.AllUnreclaimable = true;
            Trace.Emit("mm_vmscan_zone_unreclaimable", $"node={_node} pages_scanned={_m.PagesScanned}");
        }
        m.ReplyTo.Tell(new ShrinkZoneResult(m.Token, _node, job.Scanned, job.Reclaimed, AboveHigh: false, Skipped: false, _m.FreePages));
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
        var mappedRatio = VmScan.MappedRatio(job.NrMapped, _m.Pages, _m.Watermarks.PagesHigh);
        var swapTendency = VmScan.SwapTendency(mappedRatio, _m.PrevPriority, _machine.Settings.Swappiness);
        var reclaimMapped = VmScan.ReclaimMapped(swapTendency);
        var haveSwap = _machine.Settings.SwapSlots > 0;
        var toCheck = new List<int>();
        foreach (var idx in hold)
        {
            if (VmScan.CheckReferenced(_m.Mapcount(idx) > 0, reclaimMapped, haveSwap))
            {
                toCheck.Add(idx);
            }
        }

        Trace.Emit("mm_vmscan_lru_isolate", $"node={_node} isolator={IsolatorName(job)} lru=active nr_requested={nrPages} nr_scanned={scanned} nr_taken={hold.Count}");
        PageReferenced(toCheck, referenced =>
        {
            var inactive = new List<int>();
            var active = new List<int>();
            foreach (var idx in hold)
            {
                var keep = VmScan.KeepActive(_m.Mapcount(idx) > 0, reclaimMapped, haveSwap, referenced.GetValueOrDefault(idx) > 0);
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
            if (kswapd)
            {
                _m.Stat.Count(VmEvent.KswapdSteal, freed);
            }

            _m.Stat.Count(VmEvent.Pgsteal, freed);
            job.NrToReclaim -= freed;
            job.Reclaimed += freed;
            ShrinkCacheBatch(job, maxScan - scanned, then);
        });
    }

    // ---- shrink_list ------------------------------------------------------------------------------------------

    /// <summary><c>shrink_list</c>: the head of the loop body (TestSetPageLocked, the scan count, PageWriteback,
    /// page_referenced and the activation of a page in active use), then the pageout steps it shares with
    /// swapout_pages (NumaNodeActor.Pageout.cs). When every page is done, the freed ones are released and the others go
    /// back to the list PG_active names.</summary>
    /// <remarks>Kernel: 2.6.14 mm/vmscan.c shrink_list().</remarks>
    private void ShrinkList(ShrinkZoneJob job, List<int> pages, Action<int> done)
    {
        var scratch = RentPageoutScratch();
        pages.CopyTo(scratch.Begin(pages.Count));
        var batch = OpenPageout(new PageoutBatch(PageoutMode.ShrinkList, pages.Count, scratch) { Job = job, Done = done });
        var locked = new List<int>();
        foreach (var idx in pages)
        {
            if (_m.TestAndSet(idx, PageFlags.Locked)) { ResolvePage(batch, idx, PageoutVerdict.Keep, unlock: false); continue; }
            if (_m.Test(idx, PageFlags.Active))
            {
                throw new InvalidOperationException($"shrink_list: pfn {Pfn(idx)} PG_active (BUG)");
            }

            job.Scanned += VmScan.ShrinkListScanned(_m.Mapcount(idx) > 0 || _m.Test(idx, PageFlags.SwapCache));
            if (_m.Test(idx, PageFlags.Writeback)) { ResolvePage(batch, idx, PageoutVerdict.Keep, unlock: true); continue; }
            locked.Add(idx);
        }
        if (locked.Count == 0)
        {
            return;
        }

        PageReferenced(locked, referenced =>
        {
            batch.Referenced = new int[batch.Count];
            foreach (var idx in locked)
            {
                batch.Referenced[batch.PositionOf(idx)] = referenced[idx];
                // In active use (referenced, and mapped or in the swap cache: page_mapping_inuse)? Activate.
                if (referenced[idx] > 0 && (_m.Mapcount(idx) > 0 || _m.Test(idx, PageFlags.SwapCache)))
                {
                    ResolvePage(batch, idx, PageoutVerdict.Activate, unlock: true);
                }
                else
                {
                    PageoutAddToSwap(batch, idx);
                }
            }
            FlushPageout(batch);
        });
    }

    /// <summary>The list is done: the swap-cache deletions go out, freed pages are released
    /// (<c>__pagevec_release_nonlru</c>) and the others go back to their list by PG_active.</summary>
    private void FinishShrinkList(PageoutBatch batch)
    {
        FlushCacheDeleted();
        var freed = 0;
        for (var k = 0; k < batch.Count; k++)
        {
            var i = batch.Idxs[k];
            if (i < 0)
            {
                continue;
            }

            if (batch.Verdicts[k] == PageoutVerdict.Freed) { freed++; PutPage(i); continue; }
            _m.ReturnToLru(i, _m.Test(i, PageFlags.Active));
            PutPage(i);
        }
        batch.Done!(freed);
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
                if (!byTask.TryGetValue(task, out var list))
                {
                    byTask[task] = list = new();
                }

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
        {
            if (m.Young[k])
            {
                wait.Counts[Idx(m.Pfns[k])]++;
            }
        }

        if (--wait.Waiting > 0)
        {
            return;
        }

        _replies.Close(m.Token);
        wait.Then(wait.Counts);
    }
}

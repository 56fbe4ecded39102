namespace ActorNuma.Mm;

/// <summary>The constants and arithmetic of page reclaim, apart from the actors that run it (the node's shrink_zone,
/// kswapd's balance_pgdat, a task's try_to_free_pages), so that one definition serves all three.</summary>
/// <remarks>Kernel: 2.6.14 mm/vmscan.c; include/linux/swap.h SWAP_CLUSTER_MAX.</remarks>
public static class VmScan
{
    /// <summary><c>SWAP_CLUSTER_MAX</c>: the batch reclaim isolates and the pages a run aims to free.</summary>
    public const int SwapClusterMax = 32;

    /// <summary><c>DEF_PRIORITY</c>: scanning starts at 1/4096 of a list and doubles at each lower priority.</summary>
    public const int DefPriority = 12;

    /// <summary><c>blk_congestion_wait(WRITE, HZ/10)</c> between priorities once they are below DEF_PRIORITY - 2.</summary>
    public static readonly TimeSpan CongestionWait = TimeSpan.FromMilliseconds(100);

    /// <summary><c>blk_congestion_wait(WRITE, HZ/50)</c>: __alloc_pages' nap before it reclaims again (do_retry).</summary>
    /// <remarks>Kernel: 2.6.14 mm/page_alloc.c __alloc_pages() rebalance.</remarks>
    public static readonly TimeSpan RebalanceWait = TimeSpan.FromMilliseconds(20);

    /// <summary>shrink_zone's accumulator for one list: <c>nr_scan += (nr_pages &gt;&gt; priority) + 1</c>; only once it
    /// reaches SWAP_CLUSTER_MAX is it scanned (and reset), else this pass scans nothing from that list.</summary>
    /// <returns>The pages to scan now, and the accumulator's new value.</returns>
    public static (long Scan, long Accumulator) ShrinkZoneScan(long accumulator, int nrPages, int priority)
    {
        accumulator += (nrPages >> priority) + 1;
        return accumulator >= SwapClusterMax ? (accumulator, 0) : (0, accumulator);
    }

    /// <summary>refill_inactive_zone's <c>distress = 100 &gt;&gt; zone-&gt;prev_priority</c>.</summary>
    public static int Distress(int prevPriority) => 100 >> prevPriority;

    /// <summary><c>swap_tendency = mapped_ratio / 2 + distress + vm_swappiness</c>; mapped pages are reclaimed (moved
    /// to the inactive list when not referenced) once it reaches 100.</summary>
    public static long SwapTendency(long mappedRatio, int prevPriority, int swappiness) =>
        mappedRatio / 2 + Distress(prevPriority) + swappiness;

    public static bool ReclaimMapped(long swapTendency) => swapTendency >= 100;

    /// <summary>refill_inactive_zone's <c>mapped_ratio = (sc-&gt;nr_mapped * 100) / total_memory</c>, where total_memory
    /// is <c>nr_free_pagecache_pages()</c>: present pages less pages_high (at least 1 here, so an empty zone divides
    /// safely).</summary>
    public static long MappedRatio(int nrMapped, int presentPages, int pagesHigh) =>
        (long)nrMapped * 100 / Math.Max(1, presentPages - pagesHigh);

    /// <summary>refill_inactive_zone asks page_referenced() of a page only when it might deactivate it: a mapped page
    /// while mapped pages are reclaimed and swap exists for it.</summary>
    public static bool CheckReferenced(bool mapped, bool reclaimMapped, bool haveSwap) => mapped && reclaimMapped && haveSwap;

    /// <summary>refill_inactive_zone: a mapped page stays active unless reclaim_mapped, swap exists for the anonymous page
    /// and it was not referenced; an unmapped page is deactivated.</summary>
    public static bool KeepActive(bool mapped, bool reclaimMapped, bool haveSwap, bool referenced) =>
        mapped && (!reclaimMapped || !haveSwap || referenced);

    /// <summary>shrink_zone's batches: at most SWAP_CLUSTER_MAX of what is left to scan of a list.</summary>
    public static int ScanBatch(long left) => (int)Math.Min(left, SwapClusterMax);

    /// <summary>shrink_list counts a page it locked once, and a mapped or swap-cache page twice ("double the slab
    /// pressure for mapped and swapcache pages").</summary>
    public static int ShrinkListScanned(bool mappedOrSwapCache) => mappedOrSwapCache ? 2 : 1;

    /// <summary>balance_pgdat, after a zone's shrink: <c>zone-&gt;pages_scanned &gt;= (nr_active + nr_inactive) * 4</c>
    /// makes it all_unreclaimable (even 0 &gt;= 0 on empty lists).</summary>
    public static bool ZoneUnreclaimable(long pagesScanned, int nrActive, int nrInactive) =>
        pagesScanned >= (nrActive + nrInactive) * 4L;

    /// <summary>Below DEF_PRIORITY reclaim passes over an all_unreclaimable zone (kswapd polls it at DEF_PRIORITY).</summary>
    public static bool SkipUnreclaimable(bool allUnreclaimable, int priority) => allUnreclaimable && priority != DefPriority;

    /// <summary>balance_pgdat and try_to_free_pages stop once a run reclaimed SWAP_CLUSTER_MAX pages.</summary>
    public static bool ReclaimedEnough(long totalReclaimed) => totalReclaimed >= SwapClusterMax;

    /// <summary>balance_pgdat and try_to_free_pages nap after a priority that scanned something once the priority is
    /// below DEF_PRIORITY - 2.</summary>
    public static bool CongestionWaitAfter(long scanned, int priority) => scanned > 0 && priority < DefPriority - 2;
}

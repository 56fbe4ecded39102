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

    /// <summary>balance_pgdat and try_to_free_pages nap after a priority that scanned something once the priority is
    /// below DEF_PRIORITY - 2.</summary>
    public static bool CongestionWaitAfter(long scanned, int priority) => scanned > 0 && priority < DefPriority - 2;
}

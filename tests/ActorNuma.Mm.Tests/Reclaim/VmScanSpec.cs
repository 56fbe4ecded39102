namespace ActorNuma.Mm.Tests.Reclaim;

/// <summary>mm/vmscan.c's arithmetic: shrink_zone's scan accumulators, refill_inactive_zone's swap_tendency, and when
/// reclaim naps between priorities.</summary>
public sealed class VmScanSpec
{
    [Fact]
    public void A_list_is_not_scanned_until_its_accumulator_reaches_swap_cluster_max()
    {
        // 1000 pages at priority 12: 1000 >> 12 = 0, so each pass adds 1.
        var acc = 0L;
        for (var pass = 1; pass < 32; pass++)
        {
            (var scan, acc) = VmScan.ShrinkZoneScan(acc, 1000, 12);
            Assert.Equal((0L, (long)pass), (scan, acc));
        }
        Assert.Equal((32L, 0L), VmScan.ShrinkZoneScan(acc, 1000, 12));
    }

    [Fact]
    public void At_priority_zero_a_whole_list_is_scanned_at_once()
    {
        Assert.Equal((1001L, 0L), VmScan.ShrinkZoneScan(0, 1000, 0));
        Assert.Equal((33L, 0L), VmScan.ShrinkZoneScan(0, 1024, 5));   // 1024 >> 5 = 32, + 1
    }

    [Theory]
    [InlineData(0, 12, 60, 60)]       // no mapped pages, no distress: just vm_swappiness
    [InlineData(80, 12, 60, 100)]     // 80/2 + 0 + 60: reclaim_mapped
    [InlineData(0, 0, 60, 160)]       // distress 100 >> 0 at priority 0
    [InlineData(50, 3, 0, 37)]        // 25 + (100 >> 3 = 12) + 0
    public void Swap_tendency_is_half_the_mapped_ratio_plus_distress_plus_swappiness(long mappedRatio, int prevPriority, int swappiness, long expected)
    {
        Assert.Equal(expected, VmScan.SwapTendency(mappedRatio, prevPriority, swappiness));
        Assert.Equal(expected >= 100, VmScan.ReclaimMapped(expected));
    }

    [Theory]
    [InlineData(1, 10, false)]
    [InlineData(1, 9, true)]
    [InlineData(0, 0, false)]
    public void Reclaim_naps_after_a_priority_below_def_priority_minus_two_that_scanned(long scanned, int priority, bool naps)
    {
        Assert.Equal(naps, VmScan.CongestionWaitAfter(scanned, priority));
    }

    [Theory]
    [InlineData(0, 1000, 100, 0)]
    [InlineData(450, 1000, 100, 50)]       // 450 * 100 / (1000 - 100)
    [InlineData(899, 1000, 100, 99)]       // integer division, as the kernel's
    [InlineData(10, 100, 100, 1000)]       // no page above pages_high: total_memory counts as 1
    public void The_mapped_ratio_is_mapped_pages_per_hundred_of_present_pages_above_pages_high(int nrMapped, int present, int high, long expected)
    {
        Assert.Equal(expected, VmScan.MappedRatio(nrMapped, present, high));
    }

    [Theory]
    //          mapped reclaimMapped haveSwap referenced  keep  check
    [InlineData(false, false, false, false, false, false)]   // unmapped: always deactivated, never asked
    [InlineData(false, true, true, true, false, false)]
    [InlineData(true, false, true, false, true, false)]     // mapped, mapped pages not reclaimed yet
    [InlineData(true, true, false, false, true, false)]     // no swap for the anonymous page
    [InlineData(true, true, true, true, true, true)]        // referenced
    [InlineData(true, true, true, false, false, true)]      // the one mapped page that is deactivated
    public void Refill_inactive_zone_keeps_a_mapped_page_active_unless_it_may_and_does_go(
        bool mapped, bool reclaimMapped, bool haveSwap, bool referenced, bool keep, bool check)
    {
        Assert.Equal(keep, VmScan.KeepActive(mapped, reclaimMapped, haveSwap, referenced));
        Assert.Equal(check, VmScan.CheckReferenced(mapped, reclaimMapped, haveSwap));
    }

    [Fact]
    public void Shrink_zone_batches_at_most_swap_cluster_max_and_shrink_list_counts_mapped_pages_twice()
    {
        Assert.Equal([0, 5, 32, 32], new long[] { 0, 5, 32, 1000 }.Select(VmScan.ScanBatch));
        Assert.Equal((1, 2), (VmScan.ShrinkListScanned(false), VmScan.ShrinkListScanned(true)));
    }

    [Theory]
    [InlineData(0, 0, 0, true)]        // empty lists: 0 >= 0
    [InlineData(39, 5, 5, false)]
    [InlineData(40, 5, 5, true)]       // four times the LRU pages
    public void A_zone_is_all_unreclaimable_once_it_was_scanned_four_times_over(long scanned, int active, int inactive, bool unreclaimable)
    {
        Assert.Equal(unreclaimable, VmScan.ZoneUnreclaimable(scanned, active, inactive));
    }

    [Fact]
    public void An_all_unreclaimable_zone_is_skipped_below_def_priority_only_and_a_run_ends_at_swap_cluster_max_reclaimed()
    {
        Assert.Equal((false, true, false), (VmScan.SkipUnreclaimable(true, 12), VmScan.SkipUnreclaimable(true, 11), VmScan.SkipUnreclaimable(false, 0)));
        Assert.Equal((false, true), (VmScan.ReclaimedEnough(31), VmScan.ReclaimedEnough(32)));
    }

    [Fact]
    public void The_constants_are_the_kernels()
    {
        Assert.Equal((32, 12), (VmScan.SwapClusterMax, VmScan.DefPriority));
        Assert.Equal(TimeSpan.FromMilliseconds(100), VmScan.CongestionWait);
        Assert.Equal(TimeSpan.FromMilliseconds(20), VmScan.RebalanceWait);   // HZ/50
    }
}

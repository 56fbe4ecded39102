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

    [Fact]
    public void The_constants_are_the_kernels()
    {
        Assert.Equal((32, 12), (VmScan.SwapClusterMax, VmScan.DefPriority));
        Assert.Equal(TimeSpan.FromMilliseconds(100), VmScan.CongestionWait);
    }
}

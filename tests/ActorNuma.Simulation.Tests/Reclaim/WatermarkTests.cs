using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Tests.Reclaim;

/// <summary>Issue 4 §6: the watermarks each booted node carries, against 2.6.14 init_per_zone_pages_min() and
/// setup_per_zone_pages_min() computed here from scratch, for several machine sizes and under the min-free-kbytes
/// override; and the allocator and kswapd using them.</summary>
[Trait("kind", "scenario")]
public sealed class WatermarkTests
{
    /// <summary>2.6.14 mm/page_alloc.c, written out independently of the emulator: lowmem_kbytes = every present page
    /// (nr_free_buffer_pages() at boot, pages_high still 0) in KiB; min_free_kbytes = int_sqrt(lowmem_kbytes * 16)
    /// clamped to [128, 65536]; each zone's pages_min = (min_free_kbytes &gt;&gt; 2) * present / lowmem_pages,
    /// pages_low = pages_min * 5 / 4, pages_high = pages_min * 6 / 4.</summary>
    private static (int MinFreeKbytes, int Min, int Low, int High) Kernel(int nodes, int pagesPerNode, int? minFreeKbytes)
    {
        long lowmemPages = (long)nodes * pagesPerNode;
        var x = lowmemPages * 4 * 16;
        var root = (long)Math.Sqrt(x);
        while (root * root > x)
        {
            root--;
        }

        while ((root + 1) * (root + 1) <= x)
        {
            root++;
        }

        var minFree = minFreeKbytes ?? (int)Math.Clamp(root, 128, 65536);
        var min = (int)((minFree >> 2) * (long)pagesPerNode / lowmemPages);
        return (minFree, min, min * 5 / 4, min * 6 / 4);
    }

    private static string Machine(int nodes, int pagesPerNode, int? minFreeKbytes) => $$"""
        actornuma {
          topology { nodes = {{nodes}}, cpus-per-node = 1, pages-per-node = {{pagesPerNode}} }
          kswapd { enabled = on{{(minFreeKbytes is { } k ? $", min-free-kbytes = {k}" : "")}} }
        }
        scenario { name = watermarks, tasks = [], steps = [] }
        """;

    [Theory]
    [InlineData(1, 128, null)]      // 512 KiB: int_sqrt(8192) = 90, clamped up to 128 KiB
    [InlineData(1, 2048, null)]     // 8 MiB: int_sqrt(131072) = 362
    [InlineData(2, 1024, null)]     // 8 MiB over two nodes: half of pages_min each
    [InlineData(4, 1024, null)]     // 16 MiB: 512 KiB, the kernel comment's table
    [InlineData(3, 4096, null)]     // 48 MiB: int_sqrt(786432) = 886
    [InlineData(1, 65536, null)]    // 256 MiB: 2048 KiB
    [InlineData(2, 2048, 2048)]     // the override: 512 pages, 256 per node
    [InlineData(1, 2048, 1600)]
    [InlineData(3, 1000, 1)]        // a tiny override leaves pages_min 0
    public void Every_node_boots_with_the_watermarks_of_the_2_6_14_formulas(int nodes, int pagesPerNode, int? minFreeKbytes)
    {
        var (minFree, min, low, high) = Kernel(nodes, pagesPerNode, minFreeKbytes);
        var seen = new List<(int Min, int Low, int High)>();

        var report = ReclaimRun.Inline(Machine(nodes, pagesPerNode, minFreeKbytes)).Run(seed: 1, atEnd: m =>
            seen.AddRange(m.Nodes.Select(n => (n.Memory.Watermarks.PagesMin, n.Memory.Watermarks.PagesLow, n.Memory.Watermarks.PagesHigh))));

        report.AssertClean();
        Assert.Equal(Enumerable.Repeat((min, low, high), nodes), seen);
        Assert.Contains($"min_free_kbytes={minFree} pages_min={min} pages_low={low} pages_high={high}", report.DerivedParameters[3]);
    }

    [Fact]
    public void Kswapd_wakes_on_the_first_allocation_that_finds_the_zone_at_pages_low_and_sleeps_above_pages_high()
    {
        // kswapd-watermarks.conf: min-free-kbytes 1600 on one node of 2048 pages -> 400 / 500 / 600.
        var wm = default(ActorNuma.Mm.Watermarks);
        var report = ReclaimRun.Load("kswapd-watermarks.conf").Run(seed: 1, atEnd: m => wm = m.Nodes[0].Memory.Watermarks);

        report.AssertClean();
        Assert.Equal((400, 500, 600), (wm.PagesMin, wm.PagesLow, wm.PagesHigh));
        // 1547 faults took free pages from 2047 to exactly 500 without a wakeup (step 2 saw pageoutrun 0); the next
        // fault found 500, not above pages_low, and woke kswapd0 once.
        var wake = Assert.Single(report.Events("mm_vmscan_kswapd_wake"));
        Assert.Equal(wm.PagesLow, wake.Field("free"));
        var allocs = report.Events("mm_page_alloc");
        Assert.All(allocs.Where(e => e.Has("pass=Low")), e => Assert.True(e.Field("free") >= wm.PagesLow));
        // The page whose pages_low pass failed came from the pages_min pass.
        Assert.Contains(allocs, e => e.Has("pass=Min") && e.Field("free") == wm.PagesLow - 1);
        var sleep = Assert.Single(report.Events("mm_vmscan_kswapd_sleep"));
        Assert.True(sleep.Field("free") > wm.PagesHigh, $"kswapd slept at {sleep.Field("free")} free pages");
        Assert.Equal(0, report.Vm("allocstall"));
    }
}

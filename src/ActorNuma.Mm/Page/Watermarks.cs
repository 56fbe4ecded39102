namespace ActorNuma.Mm;

/// <summary>A zone's free-page watermarks.</summary>
public readonly record struct Watermarks(int PagesMin, int PagesLow, int PagesHigh)
{

    /// <summary><c>min_free_kbytes</c> as <c>init_per_zone_pages_min()</c> computes it: int_sqrt(lowmem_kbytes * 16)
    /// clamped to [128, 65536].</summary>
    /// <remarks>Kernel: mm/page_alloc.c init_per_zone_pages_min(). lowmem_kbytes = nr_free_buffer_pages() in KiB,
    /// which at boot (pages_high still 0) is every present lowmem page.</remarks>
    public static int MinFreeKbytes(long lowmemPages)
    {
        var lowmemKbytes = lowmemPages * ((1 << MmConstants.PageShift) >> 10);
        var v = (int)IntSqrt(lowmemKbytes * 16);
        return Math.Clamp(v, 128, 65536);
    }

    /// <summary>Watermarks of one lowmem zone of <paramref name="presentPages"/> out of <paramref name="lowmemPages"/>.</summary>
    /// <remarks>Kernel: 2.6.14 mm/page_alloc.c setup_per_zone_pages_min(): pages_min in proportion to the zone's share of
    /// lowmem, pages_low = min*5/4, pages_high = min*6/4.</remarks>
    public static Watermarks For(int presentPages, long lowmemPages, int minFreeKbytes)
    {
        long pagesMin = minFreeKbytes >> (MmConstants.PageShift - 10);
        var min = (int)(pagesMin * presentPages / lowmemPages);
        return new Watermarks(min, min * 5 / 4, min * 6 / 4);
    }

    /// <summary><c>int_sqrt()</c> of lib/int_sqrt.c: the floor of the square root.</summary>
    public static long IntSqrt(long x)
    {
        if (x <= 1)
        {
            return x;
        }

        ulong op = (ulong)x, res = 0, one = 1UL << 62;
        while (one > op)
        {
            one >>= 2;
        }

        while (one != 0)
        {
            if (op >= res + one) { op -= res + one; res += 2 * one; }
            res >>= 1;
            one >>= 2;
        }
        return (long)res;
    }

    /// <summary><c>zone_watermark_ok()</c> for order 0 and a single zone per node (no lowmem_reserve):
    /// free = free_pages - 2^0 + 1; fail if free &lt;= min.</summary>
    /// <remarks>Kernel: 2.6.14 mm/page_alloc.c zone_watermark_ok(); <paramref name="gfpHigh"/> halves the mark,
    /// <paramref name="canTryHarder"/> takes a further quarter off.</remarks>
    public static bool ZoneWatermarkOk(int freePages, int mark, bool canTryHarder = false, bool gfpHigh = false)
    {
        long min = mark;
        if (gfpHigh)
        {
            min -= min / 2;
        }

        if (canTryHarder)
        {
            min -= min / 4;
        }

        long free = freePages - 1 + 1;
        return free > min;
    }
}

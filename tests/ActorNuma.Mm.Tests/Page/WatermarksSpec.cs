namespace ActorNuma.Mm.Tests.Page;

/// <summary>2.6.14 <c>init_per_zone_pages_min</c>, <c>setup_per_zone_pages_min</c>, <c>int_sqrt</c> and
/// <c>zone_watermark_ok</c> (mm/page_alloc.c, lib/int_sqrt.c).</summary>
public sealed class WatermarksSpec
{
    /// <summary>The exact floor of the square root, by correcting the double estimate.</summary>
    private static long FloorSqrt(long x)
    {
        var r = (long)Math.Sqrt(x);
        while (r * r > x)
        {
            r--;
        }

        while ((r + 1) * (r + 1) <= x)
        {
            r++;
        }

        return r;
    }

    [Fact]
    public void Int_sqrt_is_the_floor_of_the_square_root_for_every_value_up_to_a_quarter_million()
    {
        for (long x = 0; x <= 250_000; x++)
        {
            Assert.True(Watermarks.IntSqrt(x) == (long)Math.Floor(Math.Sqrt(x)), $"int_sqrt({x})");
        }
    }

    [Fact]
    public void Int_sqrt_is_exact_at_and_around_perfect_squares()
    {
        for (long k = 1; k <= 3_000_000; k += 997)
        {
            var sq = k * k;
            Assert.Equal(k, Watermarks.IntSqrt(sq));
            Assert.Equal(k - 1, Watermarks.IntSqrt(sq - 1));
            Assert.Equal(k, Watermarks.IntSqrt(sq + 1));
            Assert.Equal(k, Watermarks.IntSqrt(sq + 2 * k));
        }
    }

    [Theory]
    [InlineData(0L, 0L)]
    [InlineData(1L, 1L)]
    [InlineData(2L, 1L)]
    [InlineData(3L, 1L)]
    [InlineData(4L, 2L)]
    [InlineData(131_072L, 362L)]
    [InlineData(1L << 40, 1L << 20)]
    [InlineData((1L << 40) - 1, (1L << 20) - 1)]
    [InlineData(999_999_999_999L, 999_999L)]
    [InlineData(1_000_000_000_000L, 1_000_000L)]
    public void Int_sqrt_of_selected_values(long x, long expected)
    {
        Assert.Equal(expected, Watermarks.IntSqrt(x));
    }

    [Fact]
    public void Int_sqrt_agrees_with_an_exact_floor_for_large_values_below_two_to_the_62()
    {
        var rng = new Random(20051017);
        for (var n = 0; n < 20_000; n++)
        {
            var x = rng.NextInt64(1L << 62);
            Assert.True(Watermarks.IntSqrt(x) == FloorSqrt(x), $"int_sqrt({x})");
        }
    }

    [Theory]
    [InlineData(1L << 62, 1L << 31)]
    [InlineData(long.MaxValue, 3_037_000_499L)]
    public void Int_sqrt_is_exact_up_to_the_largest_long(long x, long expected)
    {
        Assert.Equal(expected, Watermarks.IntSqrt(x));
    }

    // The table in the comment above 2.6.14 init_per_zone_pages_min(), with 4 KiB pages. The comment says 11584k for
    // 8192MB, but int_sqrt(8 GiB in KiB * 16) = int_sqrt(134217728) = 11585 (11585^2 = 134212225); the code wins.
    [Theory]
    [InlineData(16, 512)]
    [InlineData(32, 724)]
    [InlineData(64, 1024)]
    [InlineData(128, 1448)]
    [InlineData(256, 2048)]
    [InlineData(512, 2896)]
    [InlineData(1024, 4096)]
    [InlineData(2048, 5792)]
    [InlineData(4096, 8192)]
    [InlineData(8192, 11585)]
    [InlineData(16384, 16384)]
    public void Min_free_kbytes_follows_the_kernels_table(int megabytes, int expectedKbytes)
    {
        var pages = (long)megabytes * 256;

        Assert.Equal(expectedKbytes, Watermarks.MinFreeKbytes(pages));
    }

    // min_free_kbytes = int_sqrt(pages * 4 KiB * 16) = int_sqrt(64 * pages), clamped to [128, 65536].
    [Theory]
    [InlineData(1L, 128)]                     // int_sqrt(64) = 8
    [InlineData(16L, 128)]                    // int_sqrt(1024) = 32
    [InlineData(255L, 128)]                   // int_sqrt(16320) = 127
    [InlineData(256L, 128)]                   // int_sqrt(16384) = 128
    [InlineData(257L, 128)]                   // int_sqrt(16448) = 128
    [InlineData(1_000L, 252)]                 // int_sqrt(64000) = 252
    [InlineData((1L << 26) - 1, 65535)]       // int_sqrt(2^32 - 64) = 65535
    [InlineData(1L << 26, 65536)]             // int_sqrt(2^32) = 65536
    [InlineData(1L << 28, 65536)]             // int_sqrt(2^34) = 131072
    [InlineData(1L << 36, 65536)]             // int_sqrt(2^42) = 2^21
    public void Min_free_kbytes_is_clamped_to_128_and_65536(long pages, int expected)
    {
        Assert.Equal(expected, Watermarks.MinFreeKbytes(pages));
    }

    [Fact]
    public void Two_nodes_of_1024_pages_get_min_45_low_56_high_67()
    {
        // lowmem = 2048 pages = 8192 KiB; min_free_kbytes = int_sqrt(8192 * 16) = int_sqrt(131072) = 362;
        // pages_min = 362 >> (PAGE_SHIFT - 10) = 90 in total, 90 * 1024 / 2048 = 45 per zone;
        // pages_low = 45 * 5 / 4 = 56, pages_high = 45 * 6 / 4 = 67.
        var mfk = Watermarks.MinFreeKbytes(2048);

        var w = Watermarks.For(presentPages: 1024, lowmemPages: 2048, mfk);

        Assert.Equal(362, mfk);
        Assert.Equal(new Watermarks(45, 56, 67), w);
    }

    [Fact]
    public void Pages_min_is_split_in_proportion_to_each_zones_share_of_lowmem_rounding_down()
    {
        // 128 KiB -> 32 pages; zones of 1000, 1000, 1000 pages: 32 * 1000 / 3000 = 10 each; low 12, high 15.
        Assert.Equal(new Watermarks(10, 12, 15), Watermarks.For(1000, 3000, 128));
        // An uneven split: 32 * 2000 / 3000 = 21; low 26, high 31.
        Assert.Equal(new Watermarks(21, 26, 31), Watermarks.For(2000, 3000, 128));
    }

    [Fact]
    public void A_single_node_takes_all_of_pages_min()
    {
        var mfk = Watermarks.MinFreeKbytes(4096);   // 16 MiB -> 512 KiB -> 128 pages

        Assert.Equal(new Watermarks(128, 160, 192), Watermarks.For(4096, 4096, mfk));
    }

    [Theory]
    [InlineData(45, 45, false)]
    [InlineData(46, 45, true)]
    [InlineData(0, 0, false)]
    [InlineData(1, 0, true)]
    [InlineData(56, 56, false)]
    [InlineData(57, 56, true)]
    public void A_zone_fails_the_watermark_when_free_pages_are_at_or_below_the_mark(int free, int mark, bool ok)
    {
        Assert.Equal(ok, Watermarks.ZoneWatermarkOk(free, mark));
    }

    [Fact]
    public void Gfp_high_halves_the_mark_rounding_the_half_taken_off_down()
    {
        // min = 45 - 45/2 = 23
        Assert.False(Watermarks.ZoneWatermarkOk(23, 45, gfpHigh: true));
        Assert.True(Watermarks.ZoneWatermarkOk(24, 45, gfpHigh: true));
    }

    [Fact]
    public void Trying_harder_takes_a_quarter_off_the_mark()
    {
        // min = 45 - 45/4 = 34
        Assert.False(Watermarks.ZoneWatermarkOk(34, 45, canTryHarder: true));
        Assert.True(Watermarks.ZoneWatermarkOk(35, 45, canTryHarder: true));
    }

    [Fact]
    public void Gfp_high_and_trying_harder_together_leave_about_three_eighths_of_the_mark()
    {
        // min = 45 - 22 = 23, then 23 - 23/4 = 18
        Assert.False(Watermarks.ZoneWatermarkOk(18, 45, canTryHarder: true, gfpHigh: true));
        Assert.True(Watermarks.ZoneWatermarkOk(19, 45, canTryHarder: true, gfpHigh: true));
    }
}

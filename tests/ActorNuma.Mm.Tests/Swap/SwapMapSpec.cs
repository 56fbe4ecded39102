namespace ActorNuma.Mm.Tests.Swap;

/// <summary>One swap area: <c>swap_map</c> counts (get_swap_page, swap_duplicate, swap_free, vm_swap_full) and the slot side
/// of the swap cache (mm/swapfile.c, mm/swap_state.c, 2.6.14).</summary>
public sealed class SwapMapSpec
{
    private static int[] TakeAll(SwapMap s)
    {
        var slots = new List<int>();
        for (int slot; (slot = s.GetSwapPage()) != 0;)
        {
            slots.Add(slot);
        }

        return slots.ToArray();
    }

    [Fact]
    public void A_new_area_has_every_slot_free()
    {
        var s = new SwapMap(8);

        Assert.Equal(8, s.TotalSwapPages);
        Assert.Equal(8, s.NrSwapPages);
        Assert.Equal(0, s.CachedPages);
        Assert.All(Enumerable.Range(1, 8), slot => Assert.Equal(0, s.Count(slot)));
    }

    [Fact]
    public void A_negative_size_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SwapMap(-1));
    }

    [Fact]
    public void Slot_0_is_the_header_and_is_never_handed_out()
    {
        var s = new SwapMap(8);

        var slots = TakeAll(s);

        Assert.Equal(Enumerable.Range(1, 8), slots.Order());
        Assert.DoesNotContain(0, slots);
        Assert.False(s.IsValid(0));
        Assert.True(s.IsValid(1));
        Assert.True(s.IsValid(8));
        Assert.False(s.IsValid(9));
    }

    [Fact]
    public void A_new_slot_has_count_1_for_the_swap_cache()
    {
        var s = new SwapMap(4);

        var slot = s.GetSwapPage();

        Assert.Equal(1, s.Count(slot));
        Assert.Equal(3, s.NrSwapPages);
    }

    [Fact]
    public void Consecutive_evictions_get_consecutive_slots()
    {
        var s = new SwapMap(16);

        Assert.Equal([1, 2, 3, 4], Enumerable.Range(0, 4).Select(_ => s.GetSwapPage()));
    }

    [Fact]
    public void Get_swap_page_returns_0_when_swap_is_full()
    {
        var s = new SwapMap(3);
        TakeAll(s);

        Assert.Equal(0, s.NrSwapPages);
        Assert.Equal(0, s.GetSwapPage());
        Assert.Equal(0, s.NrSwapPages);
    }

    [Fact]
    public void Get_swap_page_returns_0_without_any_swap()
    {
        var s = new SwapMap(0);

        Assert.Equal(0, s.GetSwapPage());
        Assert.False(s.VmSwapFull);
    }

    [Fact]
    public void A_freed_slot_is_handed_out_again()
    {
        var s = new SwapMap(3);
        TakeAll(s);

        s.SwapFree(2);

        Assert.Equal(1, s.NrSwapPages);
        Assert.Equal(2, s.GetSwapPage());
        Assert.Equal(0, s.GetSwapPage());
    }

    [Fact]
    public void A_slot_freed_below_the_cluster_cursor_is_not_reused_while_the_cluster_lasts()
    {
        // Kernel, 16 slots: 1st get: cluster_nr 0 -> 255, fewer than 256 free -> lowest_bit = 1; then 2, 3, 4 from
        // cluster_next. swap_free(2): lowest_bit = 2. 5th get: cluster_nr 251, offset = cluster_next = 5 -> slot 5.
        var s = new SwapMap(16);
        Assert.Equal([1, 2, 3, 4], Enumerable.Range(0, 4).Select(_ => s.GetSwapPage()));

        s.SwapFree(2);

        Assert.Equal(5, s.GetSwapPage());
    }

    [Fact]
    public void Swap_duplicate_adds_a_reference_for_each_pte_holding_the_entry()
    {
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();

        Assert.True(s.SwapDuplicate(slot));
        Assert.True(s.SwapDuplicate(slot));

        Assert.Equal(3, s.Count(slot));
        Assert.Equal(3, s.NrSwapPages);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(-1)]
    public void Swap_duplicate_fails_for_the_header_a_free_slot_or_one_past_the_end(int slot)
    {
        var s = new SwapMap(4);
        s.GetSwapPage();

        Assert.False(s.SwapDuplicate(slot));
        if (s.IsValid(slot))
        {
            Assert.Equal(0, s.Count(slot));
        }
    }

    [Fact]
    public void Swap_duplicate_saturates_at_swap_map_max()
    {
        var s = new SwapMap(1);
        var slot = s.GetSwapPage();

        for (var k = 1; k < SwapMap.SwapMapMax + 5; k++)
        {
            Assert.True(s.SwapDuplicate(slot));
        }

        Assert.Equal(0x7fff, SwapMap.SwapMapMax);
        Assert.Equal(SwapMap.SwapMapMax, s.Count(slot));
    }

    [Fact]
    public void A_slot_that_overflowed_to_swap_map_max_is_never_freed()
    {
        var s = new SwapMap(1);
        var slot = s.GetSwapPage();
        for (var k = 1; k < SwapMap.SwapMapMax; k++)
        {
            s.SwapDuplicate(slot);
        }

        s.SwapFree(slot);

        Assert.Equal(SwapMap.SwapMapMax, s.Count(slot));
    }

    [Fact]
    public void Swap_free_drops_one_reference_and_frees_the_slot_at_zero()
    {
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();
        s.SwapDuplicate(slot);
        s.Write(slot, 0xabcd);

        s.SwapFree(slot);
        Assert.Equal(1, s.Count(slot));
        Assert.Equal(3, s.NrSwapPages);
        Assert.Equal(0xabcdu, s.Contents(slot));

        s.SwapFree(slot);
        Assert.Equal(0, s.Count(slot));
        Assert.Equal(4, s.NrSwapPages);
        Assert.Equal(0u, s.Contents(slot));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(9)]
    public void Swap_free_of_a_bad_or_unused_entry_is_a_broken_invariant(int slot)
    {
        var s = new SwapMap(8);
        s.GetSwapPage();

        var e = Assert.Throws<InvalidOperationException>(() => s.SwapFree(slot));

        Assert.Equal($"swap_free: bad swap entry {slot}", e.Message);
        Assert.Equal(7, s.NrSwapPages);
    }

    [Fact]
    public void Swap_free_that_would_free_a_slot_the_swap_cache_still_holds_is_a_broken_invariant()
    {
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();
        Assert.Equal(Errno.None, s.AddToSwapCache(slot, pfn: 17));

        var e = Assert.Throws<InvalidOperationException>(() => s.SwapFree(slot));

        Assert.Equal($"swap_free: slot {slot} freed while pfn 17 caches it", e.Message);
    }

    [Fact]
    public void Swap_free_of_a_cached_slot_that_keeps_other_references_is_fine()
    {
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();
        s.SwapDuplicate(slot);
        s.AddToSwapCache(slot, pfn: 17);

        s.SwapFree(slot);

        Assert.Equal(1, s.Count(slot));
        Assert.Equal(17, s.CachedPfn(slot));
    }

    [Fact]
    public void Contents_written_to_a_slot_can_be_read_back()
    {
        var s = new SwapMap(2);
        var slot = s.GetSwapPage();

        s.Write(slot, 0x1234_5678);

        Assert.Equal(0x1234_5678u, s.Contents(slot));
    }

    // vm_swap_full(): nr_swap_pages * 2 < total_swap_pages.
    [Theory]
    [InlineData(10, 0, false)]
    [InlineData(10, 5, false)]
    [InlineData(10, 6, true)]
    [InlineData(10, 10, true)]
    [InlineData(9, 4, false)]
    [InlineData(9, 5, true)]
    [InlineData(1, 1, true)]
    public void Swap_counts_as_full_when_more_than_half_of_it_is_in_use(int total, int used, bool full)
    {
        var s = new SwapMap(total);
        for (var k = 0; k < used; k++)
        {
            s.GetSwapPage();
        }

        Assert.Equal(full, s.VmSwapFull);
    }

    [Fact]
    public void Swap_stops_counting_as_full_when_slots_are_freed()
    {
        var s = new SwapMap(4);
        var slots = TakeAll(s);
        Assert.True(s.VmSwapFull);

        s.SwapFree(slots[0]);
        Assert.True(s.VmSwapFull);
        s.SwapFree(slots[1]);
        Assert.False(s.VmSwapFull);
    }

    [Fact]
    public void Add_to_swap_cache_records_the_frame_of_a_slot_in_use()
    {
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();

        Assert.Equal(Errno.None, s.AddToSwapCache(slot, pfn: 17));

        Assert.Equal(17, s.CachedPfn(slot));
        Assert.Equal(1, s.CachedPages);
        Assert.Equal(1, s.Count(slot));
    }

    [Fact]
    public void Add_to_swap_cache_reports_EEXIST_when_another_frame_caches_the_slot()
    {
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();
        s.AddToSwapCache(slot, pfn: 17);

        Assert.Equal(Errno.EEXIST, s.AddToSwapCache(slot, pfn: 18));

        Assert.Equal(17, s.CachedPfn(slot));
        Assert.Equal(1, s.CachedPages);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(5)]
    public void Add_to_swap_cache_reports_ENOENT_for_a_slot_that_is_not_in_use(int slot)
    {
        var s = new SwapMap(4);
        s.GetSwapPage();

        Assert.Equal(Errno.ENOENT, s.AddToSwapCache(slot, pfn: 17));

        Assert.Equal(0, s.CachedPages);
    }

    [Fact]
    public void An_uncached_slot_has_no_frame()
    {
        var s = new SwapMap(4);

        Assert.Equal(-1, s.CachedPfn(s.GetSwapPage()));
    }

    [Fact]
    public void Delete_from_swap_cache_forgets_the_frame_and_leaves_the_slot_count_alone()
    {
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();
        s.AddToSwapCache(slot, pfn: 17);

        s.DeleteFromSwapCache(slot, pfn: 17);

        Assert.Equal(-1, s.CachedPfn(slot));
        Assert.Equal(0, s.CachedPages);
        Assert.Equal(1, s.Count(slot));
        s.SwapFree(slot);
        Assert.Equal(4, s.NrSwapPages);
    }

    [Fact]
    public void Delete_from_swap_cache_by_a_frame_that_does_not_cache_the_slot_is_a_broken_invariant()
    {
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();
        s.AddToSwapCache(slot, pfn: 17);

        var e = Assert.Throws<InvalidOperationException>(() => s.DeleteFromSwapCache(slot, pfn: 18));

        Assert.Equal($"delete_from_swap_cache: slot {slot} is cached by 17, not 18", e.Message);
        Assert.Equal(17, s.CachedPfn(slot));
    }

    [Fact]
    public void Delete_from_swap_cache_of_an_uncached_slot_is_a_broken_invariant()
    {
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();

        Assert.Throws<InvalidOperationException>(() => s.DeleteFromSwapCache(slot, pfn: 17));
    }

    [Fact]
    public void The_add_to_swap_life_of_a_slot_balances_its_references()
    {
        // add_to_swap: slot count 1 (cache); try_to_unmap: +1 per PTE; shrink_list: delete from cache + swap_free;
        // do_swap_page: swap_free per PTE. The slot is free exactly when the last holder lets go.
        var s = new SwapMap(4);
        var slot = s.GetSwapPage();
        s.AddToSwapCache(slot, pfn: 5);
        s.SwapDuplicate(slot);
        s.SwapDuplicate(slot);

        s.DeleteFromSwapCache(slot, pfn: 5);
        s.SwapFree(slot);
        Assert.Equal(2, s.Count(slot));
        s.SwapFree(slot);
        Assert.Equal(3, s.NrSwapPages);
        s.SwapFree(slot);

        Assert.Equal(4, s.NrSwapPages);
        Assert.Equal(0, s.Count(slot));
    }
}

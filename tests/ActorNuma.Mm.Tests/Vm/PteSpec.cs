namespace ActorNuma.Mm.Tests.Vm;

/// <summary>PTE encoding (present frame with young/dirty/write bits, or swap entry) and the sparse page table.</summary>
public sealed class PteSpec
{
    // ---- Pte -------------------------------------------------------------------------------------------------

    [Fact]
    public void The_none_pte_is_neither_present_nor_swap()
    {
        var pte = Pte.None;

        Assert.True(pte.IsNone);
        Assert.False(pte.IsPresent);
        Assert.False(pte.IsSwap);
        Assert.Equal(0ul, pte.Raw);
        Assert.Equal(default, pte);
        Assert.Equal("none", pte.ToString());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(123_456)]
    [InlineData(int.MaxValue)]
    public void A_present_pte_round_trips_its_frame_number(int pfn)
    {
        var pte = Pte.Present(pfn, write: true);

        Assert.Equal(pfn, pte.Pfn);
        Assert.True(pte.IsPresent);
        Assert.False(pte.IsSwap);
        Assert.False(pte.IsNone);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(1 << 24)]
    [InlineData(int.MaxValue)]
    public void A_swap_pte_round_trips_its_slot(int slot)
    {
        var pte = Pte.Swap(slot);

        Assert.Equal(slot, pte.SwapSlot);
        Assert.True(pte.IsSwap);
        Assert.False(pte.IsPresent);
        Assert.False(pte.IsNone);
        Assert.False(pte.Young || pte.Dirty || pte.Writable);
    }

    [Theory]
    [InlineData(false, false, false)]
    [InlineData(false, false, true)]
    [InlineData(false, true, false)]
    [InlineData(true, false, false)]
    [InlineData(true, true, true)]
    [InlineData(true, false, true)]
    public void A_present_pte_keeps_each_bit_independently(bool write, bool young, bool dirty)
    {
        var pte = Pte.Present(77, write, young, dirty);

        Assert.Equal(write, pte.Writable);
        Assert.Equal(young, pte.Young);
        Assert.Equal(dirty, pte.Dirty);
        Assert.Equal(77, pte.Pfn);
    }

    [Fact]
    public void A_new_present_pte_is_young_and_clean_by_default()
    {
        var pte = Pte.Present(5, write: false);

        Assert.True(pte.Young);
        Assert.False(pte.Dirty);
        Assert.False(pte.Writable);
    }

    [Fact]
    public void Even_frame_0_mapped_old_and_read_only_is_not_a_none_pte()
    {
        var pte = Pte.Present(0, write: false, young: false);

        Assert.False(pte.IsNone);
        Assert.True(pte.IsPresent);
    }

    [Fact]
    public void The_bit_helpers_change_only_their_own_bit()
    {
        var pte = Pte.Present(9, write: false, young: false, dirty: false);

        Assert.Equal(Pte.Present(9, write: false, young: true), pte.MkYoung());
        Assert.Equal(Pte.Present(9, write: false, young: false, dirty: true), pte.MkDirty());
        Assert.Equal(Pte.Present(9, write: true, young: false), pte.MkWrite());

        var full = Pte.Present(9, write: true, young: true, dirty: true);
        Assert.Equal(Pte.Present(9, write: true, young: false, dirty: true), full.MkOld());
        Assert.Equal(Pte.Present(9, write: true, young: true, dirty: false), full.MkClean());
        Assert.Equal(Pte.Present(9, write: false, young: true, dirty: true), full.WrProtect());
        Assert.Equal(9, full.MkOld().MkClean().WrProtect().Pfn);
    }

    [Fact]
    public void The_bit_helpers_are_idempotent()
    {
        var pte = Pte.Present(3, write: true, young: true, dirty: true);

        Assert.Equal(pte, pte.MkYoung().MkDirty().MkWrite());
        Assert.Equal(pte.MkOld(), pte.MkOld().MkOld());
        Assert.Equal(pte.MkClean(), pte.MkClean().MkClean());
        Assert.Equal(pte.WrProtect(), pte.WrProtect().WrProtect());
    }

    [Fact]
    public void Reading_the_frame_of_a_swap_pte_or_the_slot_of_a_present_pte_is_an_error()
    {
        Assert.Throws<InvalidOperationException>(() => Pte.Swap(3).Pfn);
        Assert.Throws<InvalidOperationException>(() => Pte.Present(3, true).SwapSlot);
        Assert.Throws<InvalidOperationException>(() => Pte.None.Pfn);
        Assert.Throws<InvalidOperationException>(() => Pte.None.SwapSlot);
    }

    [Fact]
    public void A_pte_prints_its_kind_and_bits()
    {
        Assert.Equal("pfn:12 young dirty w", Pte.Present(12, write: true, young: true, dirty: true).ToString());
        Assert.Equal("pfn:12", Pte.Present(12, write: false, young: false).ToString());
        Assert.Equal("swp:4", Pte.Swap(4).ToString());
    }

    // ---- PageTable -------------------------------------------------------------------------------------------

    [Fact]
    public void An_empty_page_table_reads_none_everywhere()
    {
        var pt = new PageTable();

        Assert.True(pt.Get(0).IsNone);
        Assert.True(pt.Get(0x7_ffff_ffffUL).IsNone);
        Assert.Equal(0u, pt.LastWritten(42));
        Assert.Empty(pt.Entries());
        Assert.Equal(0, pt.Chunks);
    }

    [Fact]
    public void Set_then_get_returns_the_same_pte()
    {
        var pt = new PageTable();
        var pte = Pte.Present(33, write: true, dirty: true);

        pt.Set(0x1_0005, pte);

        Assert.Equal(pte, pt.Get(0x1_0005));
        Assert.True(pt.Get(0x1_0004).IsNone);
        Assert.True(pt.Get(0x1_0006).IsNone);
        Assert.Equal(1, pt.Chunks);
    }

    [Fact]
    public void Setting_none_where_there_is_no_pte_page_allocates_nothing()
    {
        var pt = new PageTable();

        pt.Set(100, Pte.None);

        Assert.Equal(0, pt.Chunks);
    }

    [Fact]
    public void Entries_in_one_512_entry_pte_page_share_a_chunk_and_the_next_page_gets_its_own()
    {
        var pt = new PageTable();

        pt.Set(0, Pte.Present(1, true));
        pt.Set(511, Pte.Present(2, true));
        Assert.Equal(1, pt.Chunks);
        pt.Set(512, Pte.Present(3, true));

        Assert.Equal(2, pt.Chunks);
    }

    [Fact]
    public void A_pte_page_is_freed_when_its_last_entry_is_cleared()
    {
        var pt = new PageTable();
        pt.Set(10, Pte.Present(1, true));
        pt.Set(11, Pte.Swap(5));

        pt.Set(10, Pte.None);
        Assert.Equal(1, pt.Chunks);
        pt.Set(11, Pte.None);

        Assert.Equal(0, pt.Chunks);
        Assert.True(pt.Get(11).IsNone);
    }

    [Fact]
    public void Replacing_a_present_pte_by_a_swap_pte_keeps_the_pte_page()
    {
        var pt = new PageTable();
        pt.Set(10, Pte.Present(1, true));

        pt.Set(10, Pte.Swap(7));
        pt.Set(10, Pte.Present(2, false));
        pt.Set(10, Pte.None);

        Assert.Equal(0, pt.Chunks);
    }

    [Fact]
    public void Clearing_an_already_none_entry_does_not_free_a_pte_page_still_in_use()
    {
        var pt = new PageTable();
        pt.Set(10, Pte.Present(1, true));

        pt.Set(12, Pte.None);
        pt.Set(12, Pte.None);

        Assert.Equal(1, pt.Chunks);
        Assert.Equal(Pte.Present(1, true), pt.Get(10));
    }

    [Fact]
    public void The_last_written_value_is_kept_beside_the_pte()
    {
        var pt = new PageTable();
        pt.Set(0x400, Pte.Present(1, true));

        pt.SetLastWritten(0x400, 0xfeed);

        Assert.Equal(0xfeedu, pt.LastWritten(0x400));
        Assert.Equal(0u, pt.LastWritten(0x401));
    }

    [Fact]
    public void The_last_written_value_survives_a_swap_out_and_in()
    {
        var pt = new PageTable();
        pt.Set(0x400, Pte.Present(1, true));
        pt.SetLastWritten(0x400, 0xfeed);

        pt.Set(0x400, Pte.Swap(3));
        Assert.Equal(0xfeedu, pt.LastWritten(0x400));
        pt.Set(0x400, Pte.Present(9, false));

        Assert.Equal(0xfeedu, pt.LastWritten(0x400));
    }

    [Fact]
    public void Clearing_a_pte_forgets_what_was_written_there()
    {
        var pt = new PageTable();
        pt.Set(0x400, Pte.Present(1, true));
        pt.Set(0x401, Pte.Present(2, true));
        pt.SetLastWritten(0x400, 0xfeed);

        pt.Set(0x400, Pte.None);
        pt.Set(0x400, Pte.Present(3, true));

        Assert.Equal(0u, pt.LastWritten(0x400));
    }

    [Fact]
    public void Writing_without_a_pte_page_is_a_broken_invariant()
    {
        var pt = new PageTable();

        var e = Assert.Throws<InvalidOperationException>(() => pt.SetLastWritten(0x400, 1));

        Assert.Equal("write to vpn 400 without a pte", e.Message);
    }

    [Fact]
    public void Entries_lists_every_non_none_pte_in_ascending_order_across_pte_pages()
    {
        var pt = new PageTable();
        pt.Set(5000, Pte.Swap(1));
        pt.Set(3, Pte.Present(2, true));
        pt.Set(1024, Pte.Present(3, true));
        pt.Set(4, Pte.Present(4, true));
        pt.Set(4, Pte.None);

        var entries = pt.Entries().ToArray();

        Assert.Equal([3UL, 1024UL, 5000UL], entries.Select(e => e.Vpn));
        Assert.Equal(Pte.Swap(1), entries[2].Pte);
    }

    [Fact]
    public void Range_returns_the_entries_in_a_half_open_interval_and_skips_empty_pte_pages()
    {
        var pt = new PageTable();
        foreach (var vpn in new ulong[] { 9, 10, 511, 512, 2000, 4096, 4097 })
        {
            pt.Set(vpn, Pte.Present((int)vpn, true));
        }

        Assert.Equal([10UL, 511UL, 512UL, 2000UL], pt.Range(10, 4096).Select(e => e.Vpn));
        Assert.Equal([4096UL], pt.Range(4096, 4097).Select(e => e.Vpn));
        Assert.Empty(pt.Range(2001, 4096));
        Assert.Empty(pt.Range(10, 10));
        Assert.Equal(2000, pt.Range(1000, 3000).Single().Pte.Pfn);
    }

    [Fact]
    public void Range_over_a_large_sparse_address_span_is_cheap()
    {
        var pt = new PageTable();
        pt.Set(1UL << 30, Pte.Present(1, true));

        Assert.Single(pt.Range(0, (1UL << 30) + 1));
    }

    [Fact]
    public void Range_sees_entries_at_high_user_addresses()
    {
        var pt = new PageTable();
        var top = MmConstants.Vpn(MmConstants.TaskSize) - 1;
        pt.Set(top, Pte.Swap(2));

        Assert.Equal(Pte.Swap(2), pt.Get(top));
        Assert.Equal([top], pt.Range(top - 600, top + 1).Select(e => e.Vpn));
    }

    [Fact]
    public void Pte_pages_come_in_ascending_order_and_hold_exactly_what_entries_lists()
    {
        var pt = new PageTable();
        pt.Set(0x10000 + 700, Pte.Swap(9));
        pt.Set(0x10000, Pte.Present(5, write: true));
        pt.Set(3, Pte.Present(7, write: false));

        var pages = pt.PtePages().ToArray();
        var fromPages = pages.SelectMany(p => p.Ptes.ToArray().Select((raw, k) => (Vpn: p.FirstVpn + (ulong)k, Pte: new Pte(raw))))
            .Where(e => !e.Pte.IsNone);

        Assert.Equal(pages.Select(p => p.FirstVpn).Order(), pages.Select(p => p.FirstVpn));
        Assert.All(pages, p => Assert.Equal(512, p.Ptes.Length));
        Assert.Equal(pt.Entries(), fromPages);
        Assert.Equal(3, pt.Entries().Count());
    }
}

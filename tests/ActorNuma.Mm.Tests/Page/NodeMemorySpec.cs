namespace ActorNuma.Mm.Tests.Page;

/// <summary>The frame model of one node: allocation, reference counts, the reverse map, the LRU lists, V2
/// isolate_lru_page/putback_lru_pages, the swap cache flags and the free path's "Bad page state" checks.</summary>
public sealed class NodeMemorySpec
{
    private const int Pages = 32;
    private static readonly Watermarks Marks = new(4, 5, 6);

    private static NodeMemory Node0(bool holdsZeroPage = true) => new(node: 0, firstPfn: 0, Pages, Marks, holdsZeroPage);

    /// <summary>A fresh page on an LRU list holding one reference (the mapping's), as after lru_cache_add + drain.</summary>
    private static int OnLru(NodeMemory m, bool active)
    {
        var i = m.AllocFrame();
        m.AddToLru(i, active);
        return i;
    }

    /// <summary>An allocated frame whose count is 0 but which is not on the free list: the state in which
    /// free_hot_cold_page runs free_pages_check.</summary>
    private static int FrameWithCountZero(NodeMemory m)
    {
        var i = m.AllocFrame();
        m.Set(i, PageFlags.Lru);
        Assert.Equal(PutResult.ReleasePending, m.PutPage(i));
        m.Clear(i, PageFlags.Lru);
        return i;
    }

    private static void AssertCountersMatchLists(NodeMemory m)
    {
        var (active, inactive) = m.WalkLru();
        Assert.Equal(m.NrActive, active.Count);
        Assert.Equal(m.NrInactive, inactive.Count);
        Assert.All(active, i => Assert.True(m.Flags(i).HasFlag(PageFlags.Lru | PageFlags.Active)));
        Assert.All(inactive, i => Assert.True(m.Test(i, PageFlags.Lru) && !m.Test(i, PageFlags.Active)));
    }

    // ---- construction and the zero page -----------------------------------------------------------------------

    [Fact]
    public void The_node_holding_the_zero_page_reserves_frame_0_and_frees_the_rest()
    {
        var m = Node0();

        Assert.Equal(Pages - 1, m.FreePages);
        Assert.Equal(FramePlace.Reserved, m.Place(0));
        Assert.Equal(PageFlags.Reserved | PageFlags.Uptodate, m.Flags(0));
        Assert.Equal(1, m.Count(0));
        Assert.DoesNotContain(0, m.FreeList());
        Assert.Equal(Pages - 1, m.FreeList().Count());
    }

    [Fact]
    public void The_zero_page_is_never_handed_out_by_the_allocator()
    {
        var m = Node0();
        var got = new List<int>();
        for (int i; (i = m.AllocFrame()) >= 0;)
        {
            got.Add(i);
        }

        Assert.Equal(Enumerable.Range(1, Pages - 1), got.Order());
        Assert.Equal(FramePlace.Reserved, m.Place(0));
    }

    [Fact]
    public void A_node_without_the_zero_page_frees_every_frame()
    {
        var m = new NodeMemory(node: 1, firstPfn: Pages, Pages, Marks, holdsZeroPage: false);

        Assert.Equal(Pages, m.FreePages);
        Assert.Equal(0, m.AllocFrame());
        Assert.Equal(Pages, m.PfnOf(0));
        Assert.Equal(5, m.Index(Pages + 5));
        Assert.True(m.Owns(Pages));
        Assert.True(m.Owns(2 * Pages - 1));
        Assert.False(m.Owns(Pages - 1));
        Assert.False(m.Owns(2 * Pages));
    }

    [Fact]
    public void The_zero_page_cannot_be_isolated()
    {
        var m = Node0();

        Assert.Equal(IsolateRc.NotOnLru, m.IsolateLruPage(0, Isolator.Migration));
        Assert.Equal(1, m.Count(0));
        Assert.Equal(FramePlace.Reserved, m.Place(0));
    }

    // ---- allocation and freeing -------------------------------------------------------------------------------

    [Fact]
    public void Allocation_hands_out_low_frames_first_with_one_reference_and_clean_state()
    {
        var m = Node0();

        var a = m.AllocFrame();
        var b = m.AllocFrame();

        Assert.Equal(1, a);
        Assert.Equal(2, b);
        Assert.Equal(1, m.Count(a));
        Assert.Equal(0, m.Mapcount(a));
        Assert.Equal(PageFlags.None, m.Flags(a));
        Assert.Equal(FramePlace.InFlight, m.Place(a));
        Assert.Equal(Pages - 3, m.FreePages);
        Assert.Equal(2, m.Stat[VmEvent.PgallocNormal]);
    }

    [Fact]
    public void Allocation_fails_with_minus_one_when_the_free_list_is_empty()
    {
        var m = Node0();
        for (var k = 0; k < Pages - 1; k++)
        {
            Assert.True(m.AllocFrame() > 0);
        }

        Assert.Equal(0, m.FreePages);
        Assert.Equal(-1, m.AllocFrame());
        Assert.Empty(m.FreeList());
    }

    [Fact]
    public void A_recycled_frame_comes_back_without_the_state_of_its_previous_life()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.SetContents(i, 0xdead);
        m.AddToSwapCache(i, entry: 7, forWrite: true);
        m.DeleteFromSwapCache(i);
        m.Set(i, PageFlags.Referenced | PageFlags.Dirty);
        m.PutPage(i);
        Assert.Equal(PutResult.Freed, m.PutPage(i));

        var again = m.AllocFrame();

        Assert.Equal(i, again);
        Assert.Equal(PageFlags.None, m.Flags(again));
        Assert.Equal(1, m.Count(again));
        Assert.Equal(0u, m.Contents(again));
        Assert.Equal(0, m.SwapEntry(again));
    }

    [Fact]
    public void Freeing_pushes_the_frame_on_top_of_the_free_list()
    {
        var m = Node0();
        var a = m.AllocFrame();
        var b = m.AllocFrame();

        Assert.Equal(PutResult.Freed, m.PutPage(a));

        Assert.Equal(a, m.FreeList().First());
        Assert.Equal(FramePlace.Free, m.Place(a));
        Assert.Equal(Pages - 2, m.FreePages);
        Assert.Equal(1, m.Stat[VmEvent.Pgfree]);
        Assert.Equal(a, m.AllocFrame());
        Assert.NotEqual(a, b);
    }

    // ---- reference counts: put_page and __page_cache_release ---------------------------------------------------

    [Fact]
    public void Put_page_keeps_the_page_while_references_remain()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.GetPage(i);

        Assert.Equal(PutResult.Alive, m.PutPage(i));
        Assert.Equal(1, m.Count(i));
        Assert.Equal(FramePlace.InFlight, m.Place(i));
    }

    [Fact]
    public void Put_page_of_the_last_reference_frees_a_page_that_is_not_on_the_lru()
    {
        var m = Node0();
        var i = m.AllocFrame();

        Assert.Equal(PutResult.Freed, m.PutPage(i));
        Assert.Equal(0, m.Count(i));
        Assert.Equal(FramePlace.Free, m.Place(i));
        Assert.Equal(Pages - 1, m.FreePages);
    }

    [Fact]
    public void Put_page_of_the_last_reference_on_an_lru_page_leaves_it_on_the_list_for_page_cache_release()
    {
        var m = Node0();
        var i = OnLru(m, active: false);

        Assert.Equal(PutResult.ReleasePending, m.PutPage(i));

        Assert.Equal(0, m.Count(i));
        Assert.True(m.Test(i, PageFlags.Lru));
        Assert.Equal(FramePlace.Lru, m.Place(i));
        Assert.Equal(1, m.NrInactive);
        Assert.Equal(Pages - 2, m.FreePages);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Page_cache_release_takes_a_dead_page_off_its_list_and_frees_it(bool active)
    {
        var m = Node0();
        var i = OnLru(m, active);
        m.PutPage(i);

        Assert.True(m.PageCacheRelease(i));

        Assert.Equal(0, m.NrActive);
        Assert.Equal(0, m.NrInactive);
        Assert.Equal(FramePlace.Free, m.Place(i));
        Assert.Equal(PageFlags.None, m.Flags(i));
        Assert.Equal(Pages - 1, m.FreePages);
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Page_cache_release_does_not_free_a_page_that_was_referenced_again_but_still_takes_it_off_the_lru()
    {
        var m = Node0();
        var i = OnLru(m, active: false);
        m.PutPage(i);
        m.GetPage(i);

        Assert.False(m.PageCacheRelease(i));

        Assert.False(m.Test(i, PageFlags.Lru));
        Assert.Equal(0, m.NrInactive);
        Assert.Equal(1, m.Count(i));
        Assert.NotEqual(FramePlace.Free, m.Place(i));
        Assert.Equal(PutResult.Freed, m.PutPage(i));
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Page_cache_release_clears_PG_active_even_when_the_page_survives()
    {
        var m = Node0();
        var i = OnLru(m, active: true);
        m.PutPage(i);
        m.GetPage(i);

        Assert.False(m.PageCacheRelease(i));

        Assert.False(m.Test(i, PageFlags.Active));
    }

    [Fact]
    public void Put_page_on_a_page_with_no_references_is_a_broken_invariant()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.PutPage(i);

        var e = Assert.Throws<InvalidOperationException>(() => m.PutPage(i));
        Assert.StartsWith($"put_page on pfn {i} (node 0) with count 0", e.Message);
    }

    [Fact]
    public void Put_page_of_the_last_reference_on_an_isolated_active_page_is_a_bad_page_state()
    {
        var m = Node0();
        var i = OnLru(m, active: true);
        Assert.Equal(IsolateRc.Isolated, m.IsolateLruPage(i, Isolator.Migration));
        m.PutPage(i);

        var e = Assert.Throws<InvalidOperationException>(() => m.PutPage(i));
        Assert.StartsWith("Bad page state", e.Message);
    }

    // ---- free_pages_check ------------------------------------------------------------------------------------

    [Theory]
    [InlineData(PageFlags.Lru)]
    [InlineData(PageFlags.Locked)]
    [InlineData(PageFlags.Writeback)]
    [InlineData(PageFlags.SwapCache)]
    [InlineData(PageFlags.Reserved)]
    [InlineData(PageFlags.Active)]
    public void Freeing_a_page_with_a_flag_that_free_pages_check_rejects_is_a_bad_page_state(PageFlags flag)
    {
        var m = Node0();
        var i = FrameWithCountZero(m);
        m.Set(i, flag);
        var free = m.FreePages;

        var e = Assert.Throws<InvalidOperationException>(() => m.FreeFrame(i));

        Assert.StartsWith($"Bad page state: freeing pfn {i} on node 0 with count 0, mapcount 0, flags ", e.Message);
        Assert.Contains(PageFlagNames.Format(flag), e.Message);
        Assert.Equal(free, m.FreePages);
        Assert.DoesNotContain(i, m.FreeList());
    }

    [Theory]
    [InlineData(PageFlags.Private)]
    [InlineData(PageFlags.Reclaim)]
    public void Freeing_a_page_with_PG_private_or_PG_reclaim_is_rejected_as_in_free_pages_check(PageFlags flag)
    {
        var m = Node0();
        var i = FrameWithCountZero(m);
        m.Set(i, flag);

        var e = Assert.Throws<InvalidOperationException>(() => m.FreeFrame(i));
        Assert.StartsWith("Bad page state", e.Message);
    }

    [Fact]
    public void Freeing_a_page_that_is_still_mapped_is_a_bad_page_state()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.AddRmap(i, task: 3, vpn: 0x40);

        var e = Assert.Throws<InvalidOperationException>(() => m.PutPage(i));

        Assert.StartsWith($"Bad page state: freeing pfn {i} on node 0 with count 0, mapcount 1", e.Message);
    }

    [Fact]
    public void Freeing_a_page_that_still_has_references_is_a_bad_page_state()
    {
        var m = Node0();
        var i = m.AllocFrame();

        var e = Assert.Throws<InvalidOperationException>(() => m.FreeFrame(i));

        Assert.StartsWith($"Bad page state: freeing pfn {i} on node 0 with count 1, mapcount 0, flags 0", e.Message);
    }

    [Fact]
    public void Freeing_the_zero_page_is_a_bad_page_state()
    {
        var m = Node0();

        var e = Assert.Throws<InvalidOperationException>(() => m.FreeFrame(0));

        Assert.Contains("PG_reserved", e.Message);
        Assert.Equal(Pages - 1, m.FreePages);
    }

    [Fact]
    public void A_dirty_or_referenced_page_is_freed_and_its_flags_are_cleared()
    {
        // free_pages_check clears PG_dirty itself; PG_referenced and PG_uptodate are cleared by prep_new_page.
        var m = Node0();
        var i = m.AllocFrame();
        m.Set(i, PageFlags.Dirty | PageFlags.Referenced | PageFlags.Uptodate);

        Assert.Equal(PutResult.Freed, m.PutPage(i));

        Assert.Equal(PageFlags.None, m.Flags(i));
    }

    // ---- reverse map -----------------------------------------------------------------------------------------

    [Fact]
    public void The_first_mapper_is_recorded_with_its_page_offset()
    {
        var m = Node0();
        var i = m.AllocFrame();

        m.AddRmap(i, task: 7, vpn: 0x1234);

        Assert.Equal(1, m.Mapcount(i));
        Assert.Equal([7], m.Mappers(i));
        Assert.Equal(0x1234u, m.RmapVpn(i));
    }

    [Fact]
    public void Shared_mappers_after_fork_are_all_found_by_the_rmap_walk()
    {
        var m = Node0();
        var i = m.AllocFrame();

        m.AddRmap(i, task: 7, vpn: 0x10);
        m.AddRmap(i, task: 8, vpn: 0x10);
        m.AddRmap(i, task: 9, vpn: 0x10);

        Assert.Equal(3, m.Mapcount(i));
        Assert.Equal([7, 8, 9], m.Mappers(i).Order());
    }

    [Fact]
    public void Nr_mapped_counts_a_page_once_from_its_first_mapping_to_its_last_unmapping()
    {
        var m = Node0();
        var (a, b) = (m.AllocFrame(), m.AllocFrame());
        var before = m.NrMapped();

        m.AddRmap(a, task: 7, vpn: 0x10);
        m.AddRmap(a, task: 8, vpn: 0x10);
        m.AddRmap(b, task: 7, vpn: 0x11);
        Assert.Equal(before + 2, m.NrMapped());

        m.RemoveRmap(a, task: 7);
        Assert.Equal(before + 2, m.NrMapped());
        m.RemoveRmap(a, task: 8);
        m.RemoveRmap(b, task: 7);
        Assert.Equal(before, m.NrMapped());
        Assert.Equal(m.Mapcounts.ToArray().Count(c => c > 0), m.NrMapped());
    }

    [Fact]
    public void An_anonymous_page_cannot_be_mapped_at_two_page_offsets()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.AddRmap(i, task: 7, vpn: 0x10);

        var e = Assert.Throws<InvalidOperationException>(() => m.AddRmap(i, task: 8, vpn: 0x11));

        Assert.Contains("mapped at two page offsets", e.Message);
    }

    [Fact]
    public void Removing_the_first_mapper_of_a_shared_page_leaves_the_others()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.AddRmap(i, task: 7, vpn: 0x10);
        m.AddRmap(i, task: 8, vpn: 0x10);
        m.AddRmap(i, task: 9, vpn: 0x10);

        m.RemoveRmap(i, task: 7);

        Assert.Equal(2, m.Mapcount(i));
        Assert.Equal([8, 9], m.Mappers(i).Order());
        Assert.Equal(0x10u, m.RmapVpn(i));
    }

    [Fact]
    public void Removing_a_middle_mapper_of_a_shared_page_leaves_the_others()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.AddRmap(i, task: 7, vpn: 0x10);
        m.AddRmap(i, task: 8, vpn: 0x10);
        m.AddRmap(i, task: 9, vpn: 0x10);

        m.RemoveRmap(i, task: 8);

        Assert.Equal([7, 9], m.Mappers(i).Order());
    }

    [Fact]
    public void Removing_every_mapper_in_any_order_leaves_an_unmapped_page_that_can_be_freed()
    {
        var m = Node0();
        var i = m.AllocFrame();
        foreach (var t in new[] { 4, 5, 6, 7 })
        {
            m.AddRmap(i, t, vpn: 0x99);
        }

        foreach (var t in new[] { 6, 4, 7, 5 })
        {
            m.RemoveRmap(i, t);
        }

        Assert.Equal(0, m.Mapcount(i));
        Assert.Empty(m.Mappers(i));
        Assert.Equal(PutResult.Freed, m.PutPage(i));
    }

    [Fact]
    public void A_page_remapped_after_being_fully_unmapped_starts_a_fresh_rmap()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.AddRmap(i, task: 4, vpn: 0x10);
        m.AddRmap(i, task: 5, vpn: 0x10);
        m.RemoveRmap(i, 4);
        m.RemoveRmap(i, 5);

        m.AddRmap(i, task: 6, vpn: 0x20);

        Assert.Equal([6], m.Mappers(i));
        Assert.Equal(0x20u, m.RmapVpn(i));
    }

    [Fact]
    public void Removing_a_task_that_does_not_map_the_page_is_a_broken_invariant()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.AddRmap(i, task: 7, vpn: 0x10);

        Assert.Contains("does not map", Assert.Throws<InvalidOperationException>(() => m.RemoveRmap(i, task: 8)).Message);
    }

    [Fact]
    public void Removing_a_task_that_does_not_map_a_shared_page_is_a_broken_invariant()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.AddRmap(i, task: 7, vpn: 0x10);
        m.AddRmap(i, task: 8, vpn: 0x10);

        Assert.Contains("does not map", Assert.Throws<InvalidOperationException>(() => m.RemoveRmap(i, task: 9)).Message);
    }

    [Fact]
    public void Removing_the_rmap_of_an_unmapped_page_is_a_broken_invariant()
    {
        var m = Node0();
        var i = m.AllocFrame();

        Assert.Contains("not mapped", Assert.Throws<InvalidOperationException>(() => m.RemoveRmap(i, task: 1)).Message);
    }

    // ---- LRU lists -------------------------------------------------------------------------------------------

    [Fact]
    public void Lru_add_puts_pages_at_the_head_so_the_first_added_is_at_the_tail()
    {
        var m = Node0();
        var a = OnLru(m, active: false);
        var b = OnLru(m, active: false);
        var c = OnLru(m, active: false);

        Assert.Equal([a, b, c], m.FromTail(active: false));
        Assert.Equal([c, b, a], m.WalkLru().Inactive);
        Assert.Equal(a, m.Tail(active: false));
        Assert.Equal(3, m.NrInactive);
        Assert.Equal(0, m.NrActive);
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Lru_add_to_the_active_list_sets_PG_active_and_the_inactive_list_clears_it()
    {
        var m = Node0();
        var a = OnLru(m, active: true);
        var i = m.AllocFrame();
        m.Set(i, PageFlags.Active);
        m.AddToLru(i, active: false);

        Assert.True(m.Flags(a).HasFlag(PageFlags.Active | PageFlags.Lru));
        Assert.False(m.Test(i, PageFlags.Active));
        Assert.Equal(FramePlace.Lru, m.Place(a));
        Assert.Equal([a], m.FromTail(active: true));
        Assert.Equal([i], m.FromTail(active: false));
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Lru_add_of_a_page_already_on_an_lru_is_a_broken_invariant()
    {
        var m = Node0();
        var a = OnLru(m, active: false);

        Assert.Contains("already PG_lru", Assert.Throws<InvalidOperationException>(() => m.AddToLru(a, active: true)).Message);
        Assert.Equal(1, m.NrInactive);
        Assert.Equal(0, m.NrActive);
    }

    [Fact]
    public void An_empty_list_has_no_tail()
    {
        var m = Node0();

        Assert.Equal(-1, m.Tail(active: false));
        Assert.Equal(-1, m.Tail(active: true));
        Assert.Empty(m.FromTail(active: false));
    }

    [Fact]
    public void Activate_page_moves_an_inactive_lru_page_to_the_head_of_the_active_list_and_counts_pgactivate()
    {
        var m = Node0();
        var old = OnLru(m, active: true);
        var a = OnLru(m, active: false);

        m.ActivatePage(a);

        Assert.True(m.Test(a, PageFlags.Active));
        Assert.Equal([old, a], m.FromTail(active: true));
        Assert.Equal(2, m.NrActive);
        Assert.Equal(0, m.NrInactive);
        Assert.Equal(1, m.Stat[VmEvent.Pgactivate]);
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Activate_page_does_nothing_to_an_active_page_or_one_off_the_lru()
    {
        var m = Node0();
        var active = OnLru(m, active: true);
        var offLru = m.AllocFrame();

        m.ActivatePage(active);
        m.ActivatePage(offLru);

        Assert.Equal(0, m.Stat[VmEvent.Pgactivate]);
        Assert.False(m.Test(offLru, PageFlags.Active));
        Assert.Equal(1, m.NrActive);
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Rotating_a_page_moves_it_to_the_tail_of_the_inactive_list()
    {
        var m = Node0();
        var a = OnLru(m, active: false);
        var b = OnLru(m, active: false);
        var c = OnLru(m, active: false);

        m.MoveToInactiveTail(b);

        Assert.Equal([b, a, c], m.FromTail(active: false));
        Assert.Equal(b, m.Tail(active: false));
        Assert.Equal(3, m.NrInactive);
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Rotating_the_head_or_the_tail_page_keeps_the_list_well_formed()
    {
        var m = Node0();
        var a = OnLru(m, active: false);
        var b = OnLru(m, active: false);

        m.MoveToInactiveTail(a);
        Assert.Equal([a, b], m.FromTail(active: false));
        m.MoveToInactiveTail(b);
        Assert.Equal([b, a], m.FromTail(active: false));
        Assert.Equal([a, b], m.WalkLru().Inactive);
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Reclaim_can_isolate_each_page_while_walking_from_the_tail()
    {
        var m = Node0();
        var pages = Enumerable.Range(0, 5).Select(_ => OnLru(m, active: false)).ToArray();

        var taken = new List<int>();
        foreach (var i in m.FromTail(active: false))
        {
            Assert.Equal(IsolateRc.Isolated, m.IsolateLruPage(i, Isolator.Reclaim));
            taken.Add(i);
        }

        Assert.Equal(pages, taken);
        Assert.Equal(0, m.NrInactive);
        Assert.All(pages, i => Assert.Equal(FramePlace.Isolated, m.Place(i)));
        Assert.All(pages, i => Assert.Equal((int)Isolator.Reclaim, m.Owner(i)));
    }

    [Fact]
    public void Del_page_from_lru_unlinks_by_PG_active_and_leaves_PG_lru_to_the_caller()
    {
        var m = Node0();
        var a = OnLru(m, active: true);
        var b = OnLru(m, active: false);

        m.DelPageFromLru(a);
        m.DelPageFromLru(b);

        Assert.Equal(0, m.NrActive);
        Assert.Equal(0, m.NrInactive);
        Assert.True(m.Test(a, PageFlags.Lru));
        Assert.Equal(FramePlace.InFlight, m.Place(a));
        Assert.Empty(m.WalkLru().Active);
        Assert.Empty(m.WalkLru().Inactive);
    }

    // ---- isolate_lru_page (V2) -------------------------------------------------------------------------------

    [Fact]
    public void Isolation_results_carry_the_V2_return_codes()
    {
        Assert.Equal(1, (int)IsolateRc.Isolated);
        Assert.Equal(0, (int)IsolateRc.NotOnLru);
        Assert.Equal(-1, (int)IsolateRc.BeingFreed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Isolation_takes_a_reference_clears_PG_lru_and_keeps_PG_active(bool active)
    {
        var m = Node0();
        var i = OnLru(m, active);

        Assert.Equal(IsolateRc.Isolated, m.IsolateLruPage(i, Isolator.Migration));

        Assert.Equal(2, m.Count(i));
        Assert.False(m.Test(i, PageFlags.Lru));
        Assert.Equal(active, m.Test(i, PageFlags.Active));
        Assert.Equal(FramePlace.Isolated, m.Place(i));
        Assert.Equal((int)Isolator.Migration, m.Owner(i));
        Assert.Equal(0, m.NrActive + m.NrInactive);
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Isolate_fails_for_a_page_still_in_a_per_cpu_pagevec()
    {
        // lru_cache_add: the vector holds a reference, PG_lru stays clear until __pagevec_lru_add runs.
        var m = Node0();
        var i = m.AllocFrame();
        m.GetPage(i);
        m.SetPlace(i, FramePlace.Pagevec, owner: 3);

        Assert.Equal(IsolateRc.NotOnLru, m.IsolateLruPage(i, Isolator.Migration));

        Assert.Equal(2, m.Count(i));
        Assert.Equal(FramePlace.Pagevec, m.Place(i));
        Assert.Equal(3, m.Owner(i));
    }

    [Fact]
    public void Isolating_a_page_twice_fails_the_second_time_without_taking_another_reference()
    {
        var m = Node0();
        var i = OnLru(m, active: false);
        m.IsolateLruPage(i, Isolator.Reclaim);

        Assert.Equal(IsolateRc.NotOnLru, m.IsolateLruPage(i, Isolator.Migration));

        Assert.Equal(2, m.Count(i));
        Assert.Equal((int)Isolator.Reclaim, m.Owner(i));
    }

    [Fact]
    public void Isolate_fails_for_a_free_frame_or_a_page_never_put_on_the_lru()
    {
        var m = Node0();
        var inFlight = m.AllocFrame();
        var free = m.FreeList().First();

        Assert.Equal(IsolateRc.NotOnLru, m.IsolateLruPage(inFlight, Isolator.Migration));
        Assert.Equal(IsolateRc.NotOnLru, m.IsolateLruPage(free, Isolator.Migration));
        Assert.Equal(1, m.Count(inFlight));
        Assert.Equal(FramePlace.Free, m.Place(free));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Isolate_reports_a_page_being_freed_when_its_count_is_zero_but_PG_lru_is_still_set(bool active)
    {
        var m = Node0();
        var i = OnLru(m, active);
        Assert.Equal(PutResult.ReleasePending, m.PutPage(i));

        Assert.Equal(IsolateRc.BeingFreed, m.IsolateLruPage(i, Isolator.Migration));

        Assert.Equal(0, m.Count(i));
        Assert.True(m.Test(i, PageFlags.Lru));
        Assert.Equal(active, m.Test(i, PageFlags.Active));
        Assert.Equal(FramePlace.Lru, m.Place(i));
        Assert.Equal(active ? 1 : 0, m.NrActive);
        Assert.Equal(active ? 0 : 1, m.NrInactive);
        AssertCountersMatchLists(m);
        Assert.True(m.PageCacheRelease(i));
        Assert.Equal(Pages - 1, m.FreePages);
    }

    [Fact]
    public void A_page_being_freed_goes_back_to_the_head_of_its_list()
    {
        var m = Node0();
        var a = OnLru(m, active: false);
        var b = OnLru(m, active: false);
        Assert.Equal([a, b], m.FromTail(active: false));
        m.PutPage(a);

        m.IsolateLruPage(a, Isolator.Reclaim);

        Assert.Equal([b, a], m.FromTail(active: false));
    }

    // ---- putback_lru_pages (V2) ------------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Putback_returns_an_isolated_page_to_the_head_of_the_list_its_PG_active_names(bool active)
    {
        var m = Node0();
        var i = OnLru(m, active);
        var other = OnLru(m, active);
        m.IsolateLruPage(i, Isolator.Migration);

        Assert.True(m.PutbackLruPage(i));

        Assert.True(m.Test(i, PageFlags.Lru));
        Assert.Equal(active, m.Test(i, PageFlags.Active));
        Assert.Equal(FramePlace.Lru, m.Place(i));
        Assert.Equal(0, m.Owner(i));
        Assert.Equal([other, i], m.FromTail(active));
        AssertCountersMatchLists(m);
    }

    [Fact]
    public void Putback_leaves_the_isolation_reference_for_the_caller_to_drop()
    {
        var m = Node0();
        var i = OnLru(m, active: false);
        m.IsolateLruPage(i, Isolator.Migration);

        m.PutbackLruPage(i);

        Assert.Equal(2, m.Count(i));
        Assert.Equal(PutResult.Alive, m.PutPage(i));
        Assert.Equal(1, m.Count(i));
    }

    [Fact]
    public void Putback_of_a_page_that_something_already_set_PG_lru_on_changes_nothing()
    {
        var m = Node0();
        var i = OnLru(m, active: false);

        Assert.False(m.PutbackLruPage(i));

        Assert.Equal(1, m.NrInactive);
        Assert.Equal([i], m.WalkLru().Inactive);
    }

    [Fact]
    public void An_isolated_page_whose_other_references_are_gone_is_freed_when_the_isolator_drops_its_own()
    {
        // The V2 swapout_pages free_it path: ClearPageActive, then put_page of the isolation reference.
        var m = Node0();
        var i = OnLru(m, active: true);
        m.IsolateLruPage(i, Isolator.Migration);
        Assert.Equal(PutResult.Alive, m.PutPage(i));

        m.Clear(i, PageFlags.Active);
        Assert.Equal(PutResult.Freed, m.PutPage(i));

        Assert.Equal(FramePlace.Free, m.Place(i));
        Assert.Equal(Pages - 1, m.FreePages);
    }

    [Fact]
    public void A_page_put_back_after_its_last_other_reference_went_is_released_from_the_lru()
    {
        var m = Node0();
        var i = OnLru(m, active: false);
        m.IsolateLruPage(i, Isolator.Migration);
        m.PutPage(i);
        m.PutbackLruPage(i);

        Assert.Equal(PutResult.ReleasePending, m.PutPage(i));
        Assert.True(m.PageCacheRelease(i));
        Assert.Equal(0, m.NrInactive);
        Assert.Equal(Pages - 1, m.FreePages);
    }

    // ---- swap cache ------------------------------------------------------------------------------------------

    [Fact]
    public void Add_to_swap_cache_sets_PG_swapcache_uptodate_and_dirty_records_the_entry_and_takes_the_cache_reference()
    {
        var m = Node0();
        var i = m.AllocFrame();

        m.AddToSwapCache(i, entry: 42, forWrite: true);

        Assert.Equal(PageFlags.SwapCache | PageFlags.Uptodate | PageFlags.Dirty, m.Flags(i));
        Assert.Equal(42, m.SwapEntry(i));
        Assert.Equal(2, m.Count(i));
    }

    [Fact]
    public void Add_to_swap_cache_for_a_swap_in_does_not_dirty_the_page()
    {
        var m = Node0();
        var i = m.AllocFrame();

        m.AddToSwapCache(i, entry: 42, forWrite: false);

        // Up to date only once the read completes (do_swap_page checks PageUptodate).
        Assert.Equal(PageFlags.SwapCache, m.Flags(i));
    }

    [Fact]
    public void Delete_from_swap_cache_clears_the_flag_and_entry_and_leaves_the_reference_to_the_caller()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.AddToSwapCache(i, entry: 42, forWrite: true);

        m.DeleteFromSwapCache(i);

        Assert.False(m.Test(i, PageFlags.SwapCache));
        Assert.Equal(0, m.SwapEntry(i));
        Assert.Equal(2, m.Count(i));
        Assert.Equal(PutResult.Alive, m.PutPage(i));
        Assert.Equal(PutResult.Freed, m.PutPage(i));
    }

    [Fact]
    public void A_page_still_in_the_swap_cache_cannot_be_freed()
    {
        var m = Node0();
        var i = m.AllocFrame();
        m.AddToSwapCache(i, entry: 42, forWrite: false);
        m.PutPage(i);

        var e = Assert.Throws<InvalidOperationException>(() => m.PutPage(i));

        Assert.Contains("PG_swapcache", e.Message);
    }

    // ---- flags -----------------------------------------------------------------------------------------------

    [Fact]
    public void Test_and_set_and_test_and_clear_report_the_previous_value()
    {
        var m = Node0();
        var i = m.AllocFrame();

        Assert.False(m.TestAndSet(i, PageFlags.Locked));
        Assert.True(m.TestAndSet(i, PageFlags.Locked));
        Assert.True(m.TestAndClear(i, PageFlags.Locked));
        Assert.False(m.TestAndClear(i, PageFlags.Locked));
        Assert.Equal(PageFlags.None, m.Flags(i));
    }

    [Fact]
    public void Page_flags_carry_the_2_6_14_bit_numbers_and_kernel_names()
    {
        Assert.Equal(1u << 5, (uint)PageFlags.Lru);
        Assert.Equal(1u << 6, (uint)PageFlags.Active);
        Assert.Equal(1u << 15, (uint)PageFlags.SwapCache);
        Assert.Equal(1u << 17, (uint)PageFlags.Reclaim);
        Assert.Equal("PG_lru|PG_active", PageFlagNames.Format(PageFlags.Active | PageFlags.Lru));
        Assert.Equal("0", PageFlagNames.Format(PageFlags.None));
    }

    // ---- places ----------------------------------------------------------------------------------------------

    [Fact]
    public void Count_places_puts_every_frame_in_exactly_one_place()
    {
        var m = Node0();
        OnLru(m, active: false);
        OnLru(m, active: true);
        var iso = OnLru(m, active: false);
        m.IsolateLruPage(iso, Isolator.Migration);
        var pv = m.AllocFrame();
        m.SetPlace(pv, FramePlace.Pagevec, owner: 1);
        m.AllocFrame();

        var places = m.CountPlaces();

        Assert.Equal(Pages, places.Sum());
        Assert.Equal(Pages - 6, places[(int)FramePlace.Free]);
        Assert.Equal(2, places[(int)FramePlace.Lru]);
        Assert.Equal(1, places[(int)FramePlace.Isolated]);
        Assert.Equal(1, places[(int)FramePlace.Pagevec]);
        Assert.Equal(1, places[(int)FramePlace.InFlight]);
        Assert.Equal(1, places[(int)FramePlace.Reserved]);
        Assert.Equal(m.FreePages, places[(int)FramePlace.Free]);
    }
}

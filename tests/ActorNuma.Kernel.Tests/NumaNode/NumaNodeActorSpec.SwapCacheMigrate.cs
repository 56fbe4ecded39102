using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel.Tests;

/// <summary>2.6.16 <c>migrate_pages()</c> at the node (mm/vmscan.c): a pass up to the page that waits for its target,
/// and the copy through the swap cache (<c>migrate_page</c>, <c>remove_from_swap</c>).</summary>
public sealed partial class NumaNodeActorSpec
{
    private const int CacheSlot = 9;

    [Fact]
    public void Under_2_6_16_a_page_gets_a_slot_is_unmapped_to_its_swap_entry_and_waits_locked_for_its_target()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();

        var pass = StartSwapCachePass(node, 0, pfn);
        GrantSlots(node, CacheSlot);
        var unmap = task.ExpectMsg<NumaTask.TryToUnmapMigration>();
        Assert.Equal([new NumaTask.MigrationUnmapItem(pfn, 0x100, CacheSlot)], unmap.Items);   // try_to_unmap(page, 1): the swap entry
        node.Send(new NumaTask.MigrationUnmapResult(unmap.Token, Task1, [pfn], [NumaTask.UnmapOutcome.Unmapped], [true], [true]));

        var result = node.Replies.ExpectMsg<MigratePassResult>(r => r.Token == pass);
        Assert.Equal([MigrateVerdict.Ready], result.Verdicts);
        Assert.Equal([0], result.Results);
        // migrate_page_remove_references: no mapping left, page_count == 2 (swap cache + isolation), and still locked.
        Assert.Equal((0, 2), (node.Mapcount(pfn), node.Count(pfn)));
        Assert.Equal(PageFlags.Locked | PageFlags.SwapCache | PageFlags.Dirty,
            node.Flags(pfn) & (PageFlags.Locked | PageFlags.SwapCache | PageFlags.Dirty));
        Assert.Equal(CacheSlot, node.SwapEntry(pfn));
    }

    [Fact]
    public void Under_2_6_16_the_copy_rewrites_the_swap_entries_to_the_new_page_frees_the_slot_and_writes_nothing()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        var target = MigrationTarget(node);
        StartSwapCachePass(node, 0, pfn);
        GrantSlots(node, CacheSlot);
        var unmap = task.ExpectMsg<NumaTask.TryToUnmapMigration>();
        node.Send(new NumaTask.MigrationUnmapResult(unmap.Token, Task1, [pfn], [NumaTask.UnmapOutcome.Unmapped], [true], [true]));
        node.Replies.ExpectMsg<MigratePassResult>();

        var copy = node.Rig.NextToken();
        node.Send(new MigrateSwapCacheCopy(copy, node.Replies.Ref, [new MigrateItem(pfn, target)], node.Cpu()));

        // The radix-tree slot names the new page (migrate_page_remove_references), then remove_from_swap: unuse_pte
        // maps the new page, old and read-only, where the swap entry was.
        var replace = node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapCacheReplace>();
        Assert.Equal([CacheSlot], replace.Slots);
        Assert.Equal([pfn], replace.OldPfns);
        Assert.Equal([target], replace.NewPfns);
        var rewrite = task.ExpectMsg<NumaTask.RemoveMigrationPtes>();
        Assert.Equal([new NumaTask.RemoveMigrationItem(0x100, pfn, target, Write: false, CacheSlot)], rewrite.Items);
        node.Send(new NumaTask.MigrationPtesRemoved(rewrite.Token, Task1, [true]));
        // unuse_pte's swap_free, then delete_from_swap_cache: the slot's last two references. The swap device checks
        // that the cache holds the last one (no other swap PTE keeps the slot) and answers; the page stays locked till then.
        Assert.Equal([CacheSlot], node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapFree>(f => !f.FreeCache).Slots);
        var leave = node.Rig.SwapProbe.ExpectMsg<SwapDevice.MigratedLeaveSwapCache>();
        Assert.Equal((CacheSlot, target), (leave.Slot, leave.Pfn));
        Assert.True(node.Test(target, PageFlags.SwapCache | PageFlags.Locked));
        node.Send(new SwapDevice.MigratedSwapCacheLeft(CacheSlot, target, Deleted: true));

        var moved = node.Replies.ExpectMsg<MigratePassResult>(r => r.Token == copy);
        Assert.Equal([MigrateVerdict.Moved], moved.Verdicts);
        Assert.Equal([0], moved.Results);
        node.Rig.Settle();
        Assert.False(node.Rig.SwapProbe.HasMessages);   // no swap_writepage: no I/O
        Assert.Equal(0, node.Stat(VmEvent.Pswpout));
        Assert.Equal(NodeUnderTest.ContentsFor(0x100), node.Contents(target));
        Assert.Equal((1, 2), (node.Mapcount(target), node.Count(target)));   // the PTE's and the pagevec's
        Assert.False(node.Test(target, PageFlags.SwapCache | PageFlags.Locked));
        Assert.True(node.Test(target, PageFlags.Dirty));
        // The old page is out of the swap cache, unlocked, held only by the isolation until putback_lru_pages(&moved).
        Assert.Equal((0, 1, FramePlace.Isolated), (node.Mapcount(pfn), node.Count(pfn), node.Place(pfn)));
        Assert.False(node.Test(pfn, PageFlags.SwapCache | PageFlags.Locked | PageFlags.Dirty));
    }

    [Fact]
    public void Under_2_6_16_a_page_with_another_reference_is_busy_in_every_pass_before_any_unmap_and_is_never_written()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        node.Memory.GetPage(node.Memory.Index(pfn));   // a third user, as get_user_pages holds it

        for (var pass = 0; pass <= 10; pass++)
        {
            var token = StartSwapCachePass(node, pass, pfn);
            if (pass == 0)
            {
                GrantSlots(node, CacheSlot);   // add_to_swap once: the page keeps its slot from then on
            }

            var result = node.Replies.ExpectMsg<MigratePassResult>(r => r.Token == token);
            Assert.Equal([MigrateVerdict.Retry], result.Verdicts);
            Assert.Equal([-(int)Errno.EAGAIN], result.Results);
            Assert.False(node.Test(pfn, PageFlags.Locked));
        }

        // "if (page_mapcount(page) + nr_refs != page_count(page)) return 1" comes before try_to_unmap: the PTE stays.
        node.Rig.Settle();
        Assert.False(task.HasMessages);
        Assert.False(node.Rig.SwapProbe.HasMessages);
        Assert.Equal((1, 4), (node.Mapcount(pfn), node.Count(pfn)));
        Assert.Equal(CacheSlot, node.SwapEntry(pfn));
        Assert.Equal(0, node.Stat(VmEvent.Pswpout));
    }

    [Fact]
    public void Under_2_6_16_a_page_that_gets_no_swap_slot_fails_for_good_with_enomem_and_stays_mapped()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();

        var token = StartSwapCachePass(node, 0, pfn);
        GrantSlots(node, 0);

        var result = node.Replies.ExpectMsg<MigratePassResult>(r => r.Token == token);
        Assert.Equal([MigrateVerdict.Failed], result.Verdicts);
        Assert.Equal([-(int)Errno.ENOMEM], result.Results);
        Assert.False(node.Test(pfn, PageFlags.Locked | PageFlags.SwapCache));
        Assert.Equal(1, node.Mapcount(pfn));
        Assert.False(task.HasMessages);
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(3, false)]
    public void Under_2_6_16_a_locked_page_is_skipped_before_pass_3_and_waited_for_from_pass_3(int pass, bool answered)
    {
        var node = NewNode();
        node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        node.Memory.Set(node.Memory.Index(pfn), PageFlags.Locked);   // someone else's lock_page

        var token = StartSwapCachePass(node, pass, pfn);
        node.Rig.Settle();

        // TestSetPageLocked in passes 0 to 2 (-EAGAIN), lock_page after: the pass sleeps on the lock.
        Assert.Equal(answered, node.Replies.HasMessages);
        if (answered)
        {
            var result = node.Replies.ExpectMsg<MigratePassResult>(r => r.Token == token);
            Assert.Equal([MigrateVerdict.Retry], result.Verdicts);
        }
        Assert.False(node.Rig.SwapProbe.HasMessages);
    }

    private static long StartSwapCachePass(NodeUnderTest node, int pass, params int[] pfns)
    {
        var token = node.Rig.NextToken();
        node.Send(new MigrateSwapCachePass(token, node.Replies.Ref, pass, pfns, node.Cpu()));
        return token;
    }

    /// <summary>A new page from this node, as migrate_pages_to allocates it: one reference, on no list.</summary>
    private static int MigrationTarget(NodeUnderTest node)
    {
        var token = node.Rig.NextToken();
        node.Send(new AllocPages(token, node.Replies.Ref, Task1, node.Cpu(), NodeUnderTest.Items(1, 0x900), node.Zonelist, 0,
            AllocPass.Low, Interleave: false, AllocPurpose.MigrateTarget));
        return node.Replies.ExpectMsg<PagesAllocated>(m => m.Token == token).Pages.Single().Pfn;
    }
}

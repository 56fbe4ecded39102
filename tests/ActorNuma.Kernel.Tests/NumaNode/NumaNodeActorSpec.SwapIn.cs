using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using Akka.TestKit;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel.Tests;

/// <summary>The node's part of <c>do_swap_page</c>: a swap-cache hit mapped where the page is, and
/// <c>read_swap_cache_async</c> into a new page; and <c>remove_exclusive_swap_page</c> as the node sees it.</summary>
public sealed partial class NumaNodeActorSpec
{
    private const uint SwapInVpn = 0x300;

    [Fact]
    public void A_swap_cache_hit_maps_the_page_where_it_is_read_only_leaving_the_write_to_do_wp_page()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = PageUnderWriteback(node);

        var token = Hit(node, task, Task1, pfn, Slot);

        var mapped = task.ExpectMsg<SwapCacheMapped>();
        Assert.Equal(token, mapped.Token);
        // can_share_swap_page needs the slot's count now, which the swap device holds: do_wp_page asks it there.
        Assert.Equal([new MappedSwapPage(Slot, pfn, NodeUnderTest.ContentsFor(0x100))], mapped.Pages);
        Assert.Equal((1, 3), (node.Mapcount(pfn), node.Count(pfn)));
        Assert.True(node.Test(pfn, PageFlags.Referenced));   // mark_page_accessed
        Assert.Equal([Task1], node.Memory.Mappers(node.Memory.Index(pfn)));
    }

    [Fact]
    public void A_hit_on_a_slot_that_other_ptes_still_hold_maps_the_page_read_only()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task2);
        var pfn = PageUnderWriteback(node);

        Hit(node, task, Task2, pfn, Slot);

        // A swap-cache page is always mapped read-only (the answer carries no write permission): a store goes on to
        // do_wp_page, which asks the swap device for the slot's count.
        Assert.Equal([new MappedSwapPage(Slot, pfn, NodeUnderTest.ContentsFor(0x100))], task.ExpectMsg<SwapCacheMapped>().Pages);
    }

    [Fact]
    public void A_hit_on_a_page_that_no_longer_caches_the_slot_is_bounced_to_the_swap_device_to_look_again()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = PageUnderWriteback(node);

        var token = Hit(node, task, Task1, pfn, Slot + 1);

        var stale = node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapCacheHitStale>();
        Assert.Equal((token, task.Ref, Task1), (stale.Token, stale.Task, stale.TaskId));
        Assert.Equal([Slot + 1], stale.Slots);
        Assert.Equal([0x100u], stale.Vpns);
        Assert.False(task.HasMessages);
        Assert.Equal(0, node.Mapcount(pfn));
    }

    [Fact]
    public void A_swap_in_allocation_reads_the_slot_into_a_locked_page_and_maps_it_once_the_read_is_done()
    {
        var node = NewNode();
        var token = node.Rig.NextToken();

        node.Send(SwapInAlloc(node, token, slot: 7));

        var read = node.Rig.SwapProbe.ExpectMsg<SwapDevice.ReadSwapCacheAsync>();
        var pfn = read.Pfns.Single();
        Assert.Equal(node.Actor, read.Node);
        Assert.Equal([7], read.Slots);
        Assert.Equal(PageFlags.Locked, node.Flags(pfn));
        node.Send(new SwapDevice.SwapCacheAdded(read.Token, [7], [pfn], [false]));
        Assert.Equal(PageFlags.Locked | PageFlags.SwapCache, node.Flags(pfn));   // up to date only when the read is done
        Assert.False(node.Replies.HasMessages);

        node.Send(new SwapDevice.SwapReadDone(read.Token, [7], [pfn], [0xBEEF]));

        var mapped = node.Replies.ExpectMsg<SwapCacheMapped>();
        Assert.Equal(token, mapped.Token);
        Assert.Equal([new MappedSwapPage(7, pfn, 0xBEEF)], mapped.Pages);
        Assert.Equal(PageFlags.SwapCache | PageFlags.Uptodate | PageFlags.Referenced, node.Flags(pfn));
        Assert.Equal((0xBEEFu, 1, 3), (node.Contents(pfn), node.Mapcount(pfn), node.Count(pfn)));
        Assert.True(node.Pagevecs(node.Cpu()).LruAddActive.Contains(pfn));
    }

    [Fact]
    public void A_swap_in_that_loses_the_race_for_the_swap_cache_frees_its_page_and_sends_the_fault_back_to_look_again()
    {
        var node = NewNode();
        var free = node.Memory.FreePages;
        var token = node.Rig.NextToken();
        node.Send(SwapInAlloc(node, token, slot: 7));
        var read = node.Rig.SwapProbe.ExpectMsg<SwapDevice.ReadSwapCacheAsync>();

        node.Send(new SwapDevice.SwapCacheAdded(read.Token, [7], read.Pfns, [true]));

        var raced = node.Replies.ExpectMsg<SwapInRaced>();
        Assert.Equal(token, raced.Token);
        Assert.Equal([SwapInVpn], raced.Vpns);
        Assert.Equal([7], raced.Slots);
        Assert.Equal(FramePlace.Free, node.Place(read.Pfns.Single()));
        Assert.Equal(free, node.Memory.FreePages);
    }

    [Fact]
    public void A_hit_on_a_page_still_being_read_waits_for_the_read_and_then_maps_it_too()
    {
        var node = NewNode();
        var other = node.Rig.StandInTask(Task2);
        node.Send(SwapInAlloc(node, node.Rig.NextToken(), slot: 7));
        var read = node.Rig.SwapProbe.ExpectMsg<SwapDevice.ReadSwapCacheAsync>();
        var pfn = read.Pfns.Single();
        node.Send(new SwapDevice.SwapCacheAdded(read.Token, [7], [pfn], [false]));

        var hit = Hit(node, other, Task2, pfn, 7, SwapInVpn);

        Assert.False(other.HasMessages);
        node.Send(new SwapDevice.SwapReadDone(read.Token, [7], [pfn], [0xBEEF]));
        var mapped = other.ExpectMsg<SwapCacheMapped>();
        Assert.Equal(hit, mapped.Token);
        Assert.Equal([new MappedSwapPage(7, pfn, 0xBEEF)], mapped.Pages);
        Assert.Equal(pfn, node.Replies.ExpectMsg<SwapCacheMapped>().Pages.Single().Pfn);
        Assert.Equal(2, node.Mapcount(pfn));
    }

    [Fact]
    public void TryRemoveExclusive_takes_a_page_with_no_other_user_out_of_the_swap_cache_dirty()
    {
        var node = NewNode();
        var pfn = MappedSwapCachePage(node);

        node.Send(new TryRemoveExclusive([Slot], [pfn], ExpectedCount: 2));

        var removed = node.Rig.SwapProbe.ExpectMsg<SwapDevice.ExclusiveRemoved>();
        Assert.Equal([Slot], removed.Slots);
        Assert.Equal([pfn], removed.Pfns);
        Assert.Equal(PageFlags.Dirty, node.Flags(pfn) & (PageFlags.Dirty | PageFlags.SwapCache));
        Assert.Equal((1, 1, 0), (node.Count(pfn), node.Mapcount(pfn), node.SwapEntry(pfn)));
    }

    [Fact]
    public void TryRemoveExclusive_is_refused_when_the_page_has_another_user_than_expected()
    {
        var node = NewNode();
        var pfn = MappedSwapCachePage(node);

        node.Send(new TryRemoveExclusive([Slot], [pfn], ExpectedCount: 1));

        var refused = node.Rig.SwapProbe.ExpectMsg<SwapDevice.ExclusiveRefused>();
        Assert.Equal([Slot], refused.Slots);
        Assert.Equal([pfn], refused.Pfns);
        Assert.True(node.Test(pfn, PageFlags.SwapCache));
    }

    [Fact]
    public void TryRemoveExclusive_is_refused_while_the_page_is_under_writeback()
    {
        var node = NewNode();
        var pfn = PageUnderWriteback(node);

        node.Send(new TryRemoveExclusive([Slot], [pfn], ExpectedCount: 2));

        node.Rig.SwapProbe.ExpectMsg<SwapDevice.ExclusiveRefused>();
        Assert.True(node.Test(pfn, PageFlags.SwapCache));
    }

    [Fact]
    public void After_a_swap_in_a_page_with_no_other_user_leaves_the_swap_cache_dirty_and_the_answer_says_removed()
    {
        var node = NewNode();
        var pfn = MappedSwapCachePage(node);

        node.Send(new RemoveExclusiveAfterSwapIn(Slot, pfn));

        Assert.Equal(new SwapDevice.SwapInExclusiveAnswer(Removed: true),
            node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapInExclusiveAnswer>());
        Assert.Equal(PageFlags.Dirty, node.Flags(pfn) & (PageFlags.Dirty | PageFlags.SwapCache));
        Assert.Equal((1, 1, 0), (node.Count(pfn), node.Mapcount(pfn), node.SwapEntry(pfn)));
        node.Rig.SwapProbe.ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void After_a_swap_in_a_page_under_writeback_stays_in_the_swap_cache_and_the_answer_says_refused()
    {
        var node = NewNode();
        var pfn = PageUnderWriteback(node);

        node.Send(new RemoveExclusiveAfterSwapIn(Slot, pfn));

        Assert.Equal(new SwapDevice.SwapInExclusiveAnswer(Removed: false),
            node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapInExclusiveAnswer>());
        Assert.True(node.Test(pfn, PageFlags.SwapCache));
    }

    [Fact]
    public void TryRemoveExclusive_answers_a_batch_with_one_message_for_the_removed_and_one_for_the_refused()
    {
        var node = NewNode();
        var pfn = MappedSwapCachePage(node);

        // The second entry names the page again, under a slot it no longer caches once the first entry took it out.
        node.Send(new TryRemoveExclusive([Slot, Slot + 1], [pfn, pfn], ExpectedCount: 2));

        var refused = node.Rig.SwapProbe.ExpectMsg<SwapDevice.ExclusiveRefused>();
        var removed = node.Rig.SwapProbe.ExpectMsg<SwapDevice.ExclusiveRemoved>();
        Assert.Equal([Slot + 1], refused.Slots);
        Assert.Equal([pfn], refused.Pfns);
        Assert.Equal([Slot], removed.Slots);
        Assert.Equal([pfn], removed.Pfns);
        Assert.False(node.Test(pfn, PageFlags.SwapCache));
        node.Rig.SwapProbe.ExpectNoMsg(TimeSpan.Zero);
    }

    /// <remarks>Regression: a hit waiting for the lock once held no page reference, so the pass freed the page under it,
    /// and StepFree cleared PG_locked without waking the waiter, so the fault was never answered.</remarks>
    [Fact]
    public void A_swap_cache_hit_waiting_for_the_page_lock_keeps_the_page_from_being_freed_and_is_answered()
    {
        var node = NewNode();
        var faulting = node.Rig.StandInTask(Task2);
        var pfn = PageUnderWriteback(node);
        // Pass 1 takes the page lock and waits for the write (wait_on_page_writeback).
        var pass1 = StartPass(node, 1, pfn);
        Assert.True(node.Test(pfn, PageFlags.Locked));
        // A task whose PTE holds the slot faults on it: lookup_swap_cache hits, lock_page waits.
        var hit = Hit(node, faulting, Task2, pfn, Slot);

        node.Send(new SwapDevice.EndSwapWrite([pfn]));

        // Kernel: the fault's reference makes page_count 3, so the pass retries the page ...
        AssertPassResult(node, pass1, retry: [pfn]);
        // ... and once the page is unlocked the fault maps it where it is.
        Assert.Equal(pfn, faulting.ExpectMsg<SwapCacheMapped>(m => m.Token == hit).Pages.Single().Pfn);
        Assert.NotEqual(FramePlace.Free, node.Place(pfn));
    }

    // ---- steps ---------------------------------------------------------------------------------------------------------

    /// <summary>The swap device forwarding a <c>lookup_swap_cache</c> hit on <paramref name="slot"/> by a task.</summary>
    private static long Hit(NodeUnderTest node, TestProbe task, int pid, int pfn, int slot, uint vpn = 0x100)
    {
        var token = node.Rig.NextToken();
        node.Send(new SwapCacheHit(token, task.Ref, pid, [new SwapHit(slot, pfn, vpn)]));
        return token;
    }

    private static AllocPages SwapInAlloc(NodeUnderTest node, long token, int slot) =>
        new(token, node.Replies.Ref, Task1, node.Cpu(), [new AllocItem(SwapInVpn, 0, slot)], node.Zonelist, 0,
            AllocPass.Low, false, AllocPurpose.SwapIn);

    /// <summary>A page of task 1 written to <see cref="Slot"/>, put back on the LRU (v2-fixed), and mapped again by
    /// task 1 through a swap-cache hit: count 2 (the cache's and the mapping's), mapcount 1.</summary>
    private static int MappedSwapCachePage(NodeUnderTest node)
    {
        var task = node.Rig.StandInTask(Task1);
        var pfn = PageUnderWriteback(node);
        node.Send(new SwapDevice.EndSwapWrite([pfn]));
        node.Send(new PutbackLruPages(node.Rig.NextToken(), null, [pfn], DropReference: true, PagevecCpu: -1));
        Hit(node, task, Task1, pfn, Slot);
        task.ExpectMsg<SwapCacheMapped>();
        Assert.Equal((2, 1), (node.Count(pfn), node.Mapcount(pfn)));
        return pfn;
    }
}

using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using Akka.Actor;
using Akka.TestKit;
using Xunit.Abstractions;
using static ActorNuma.Kernel.SwapDevice;
using Unmap = ActorNuma.Kernel.NumaTask.UnmapOutcome;

namespace ActorNuma.Kernel.Tests;

/// <summary>
/// <see cref="SwapDeviceActor"/>: swap_map, the swap cache and the two device queues, alone among probes that play the
/// nodes and the tasks (mm/swapfile.c, mm/swap_state.c, mm/page_io.c). Pfns 1..63 are node 0's, 64..127 node 1's.
/// </summary>
public sealed class SwapDeviceActorSpec : KernelSpec
{
    private const int SpecSeed = 21;
    private const int Pid = 1;

    public SwapDeviceActorSpec(ITestOutputHelper output) : base(output, SpecSeed)
    {
    }

    // ---- add_to_swap, swap_duplicate ---------------------------------------------------------------------------------

    [Fact]
    public void AddToSwap_hands_out_consecutive_slots_each_cached_by_its_page_with_the_caches_reference()
    {
        var swap = NewSwap();

        var slots = swap.AddToSwap(5, 6, 70);

        Assert.Equal([1, 2, 3], slots);
        Assert.Equal([1, 1, 1], slots.Select(swap.Map.Count));
        Assert.Equal([5, 6, 70], slots.Select(swap.Map.CachedPfn));
        Assert.Equal(13, swap.Map.NrSwapPages);
    }

    [Fact]
    public void AddToSwap_answers_slot_0_for_a_page_it_has_no_room_for_which_then_stays_in_ram()
    {
        var swap = NewSwap(swapSlots: 2);

        Assert.Equal([1, 2, 0], swap.AddToSwap(5, 6, 7));
        Assert.Equal(0, swap.Map.NrSwapPages);
        Assert.Equal(-1, swap.Map.CachedPfn(0));
    }

    [Fact]
    public void SwapDuplicateAndForward_takes_a_reference_per_slot_before_it_forwards_the_message()
    {
        var swap = NewSwap();
        var slots = swap.AddToSwap(5, 6);
        var node = swap.Rig.NodeProbes[0];

        swap.Send(new SwapDuplicateAndForward([slots[0], slots[0], slots[1]], node.Ref, "unmapped"));

        node.ExpectMsg("unmapped");
        Assert.Equal([3, 2], slots.Select(swap.Map.Count));
    }

    [Fact]
    public void Duplicating_a_free_slot_is_a_kernel_bug_that_stops_the_device()
    {
        var swap = NewSwap();

        swap.Send(new SwapDuplicateAndForward([4], swap.Replies.Ref, "unmapped"));

        Assert.Equal(["kernel BUG: InvalidOperationException: swap_duplicate: bad entry 4"], swap.Rig.Machine.Bugs);
        Assert.False(swap.Replies.HasMessages);
    }

    // ---- lookup_swap_cache ----------------------------------------------------------------------------------------------

    [Fact]
    public void Lookup_forwards_each_hit_to_the_node_of_its_page_with_swap_map_and_answers_the_misses_to_the_task()
    {
        var swap = NewSwap();
        var (onNode0, onNode1) = (swap.AddToSwap(5).Single(), swap.AddToSwap(70).Single());
        var uncached = swap.SlotHeldOnlyByAPte(pfn: 6);
        swap.Send(new SwapDuplicateAndForward([onNode1], swap.Replies.Ref, "dup"));
        var task = swap.Rig.StandInTask(Pid);
        var token = swap.Rig.NextToken();

        swap.Send(new LookupSwapCache(token, task.Ref, Pid, [onNode0, onNode1, uncached], [0x10, 0x11, 0x12]));

        AssertHit(swap.Rig.NodeProbes[0], token, task, new NumaNode.SwapHit(onNode0, 5, 0x10));
        AssertHit(swap.Rig.NodeProbes[1], token, task, new NumaNode.SwapHit(onNode1, 70, 0x11));
        var miss = task.ExpectMsg<SwapCacheMiss>();
        Assert.Equal(token, miss.Token);
        Assert.Equal([uncached], miss.Slots);
        Assert.Equal([0x12u], miss.Vpns);
    }

    [Fact]
    public void A_stale_hit_bounced_by_a_node_is_looked_up_again()
    {
        var swap = NewSwap();
        var slot = swap.SlotHeldOnlyByAPte(pfn: 6);
        var task = swap.Rig.StandInTask(Pid);
        var token = swap.Rig.NextToken();

        swap.Send(new SwapCacheHitStale(token, task.Ref, Pid, [slot], [0x12]));

        Assert.Equal([slot], task.ExpectMsg<SwapCacheMiss>(m => m.Token == token).Slots);
        Assert.False(swap.Rig.NodeProbes[0].HasMessages);
    }

    // ---- read_swap_cache_async ------------------------------------------------------------------------------------------

    [Fact]
    public void ReadSwapCacheAsync_caches_the_new_page_takes_the_caches_reference_and_answers_the_read_one_read_latency_later()
    {
        var swap = NewSwap();
        var slot = swap.SlotHeldOnlyByAPte(pfn: 6, contents: 0xFEED);
        var node = swap.Rig.NodeProbes[0];
        var token = swap.Rig.NextToken();

        swap.Send(new ReadSwapCacheAsync(token, node.Ref, [slot], [9]));

        var added = node.ExpectMsg<SwapCacheAdded>();
        Assert.Equal((token, false), (added.Token, added.Exists.Single()));
        Assert.Equal((2, 9), (swap.Map.Count(slot), swap.Map.CachedPfn(slot)));
        Assert.Equal((1, 1), (swap.State.Stat[VmEvent.Pswpin], swap.State.ReadsInFlight));

        swap.Rig.Advance(SmallMachine.ReadLatency - TimeSpan.FromTicks(1));
        Assert.False(node.HasMessages);
        swap.Rig.Advance(TimeSpan.FromTicks(1));

        var done = node.ExpectMsg<SwapReadDone>();
        Assert.Equal(token, done.Token);
        Assert.Equal([slot], done.Slots);
        Assert.Equal([9], done.Pfns);
        Assert.Equal([0xFEEDu], done.Contents);
        Assert.Equal(2, swap.Map.Count(slot));
        Assert.Equal(0, swap.State.ReadsInFlight);
    }

    [Fact]
    public void ReadSwapCacheAsync_of_a_slot_another_page_caches_by_now_answers_EEXIST_and_reads_nothing()
    {
        var swap = NewSwap();
        var slot = swap.AddToSwap(5).Single();
        swap.Send(new SwapDuplicateAndForward([slot], swap.Replies.Ref, "dup"));
        var node = swap.Rig.NodeProbes[0];

        swap.Send(new ReadSwapCacheAsync(swap.Rig.NextToken(), node.Ref, [slot], [9]));

        Assert.Equal([true], node.ExpectMsg<SwapCacheAdded>().Exists);
        Assert.Equal((2, 5), (swap.Map.Count(slot), swap.Map.CachedPfn(slot)));
        swap.Rig.Advance(SmallMachine.ReadLatency * 4);
        Assert.False(node.HasMessages);
        Assert.Equal(0, swap.State.Stat[VmEvent.Pswpin]);
    }

    // ---- swap_writepage -------------------------------------------------------------------------------------------------

    [Fact]
    public void SwapWritepage_writes_the_page_counts_pswpout_and_ends_the_write_only_when_virtual_time_reaches_the_latency()
    {
        var swap = NewSwap();
        var slot = swap.AddToSwap(5).Single();
        swap.Send(new SwapDuplicateAndForward([slot], swap.Replies.Ref, "dup"));
        var node = swap.Rig.NodeProbes[0];
        var token = swap.Rig.NextToken();

        swap.Send(new SwapWritepage(token, node.Ref, [new WriteItem(slot, 5, 0xABCD, PageCountIsTwo: true)]));

        var started = node.ExpectMsg<SwapWriteStarted>();
        Assert.Equal(token, started.Token);
        Assert.Equal([5], started.Written);
        Assert.Empty(started.Exclusive);
        Assert.Equal(0xABCDu, swap.Map.Contents(slot));
        Assert.Equal((1, 4, 1), (swap.State.Stat[VmEvent.Pswpout], swap.State.Stat[VmEvent.Pgpgout], swap.State.WritesInFlight));
        Assert.False(node.HasMessages);

        var ended = swap.Rig.Pump.RunUntil(() => node.HasMessages);

        Assert.True(ended);
        Assert.Equal(SmallMachine.WriteLatency, swap.Rig.Now);
        Assert.Equal([5], node.ExpectMsg<EndSwapWrite>().Pfns);
        Assert.Equal(0, swap.State.WritesInFlight);
    }

    // ---- blk_congestion_wait -------------------------------------------------------------------------------------------

    [Fact]
    public void A_congestion_wait_ends_when_a_write_completes_not_at_its_timeout_and_after_the_pages_end_page_writeback()
    {
        var swap = NewSwap();
        var slot = swap.AddToSwap(5).Single();
        swap.Send(new SwapDuplicateAndForward([slot], swap.Replies.Ref, "dup"));
        var node = swap.Rig.NodeProbes[0];
        var (a, b) = (swap.Rig.StandInTask(Pid), swap.Rig.StandInTask(Pid + 1));
        swap.Send(new SwapWritepage(swap.Rig.NextToken(), node.Ref, [new WriteItem(slot, 5, 0xABCD, PageCountIsTwo: true)]));
        node.ExpectMsg<SwapWriteStarted>();

        swap.Send(new CongestionWait(1, a.Ref, TimeSpan.FromMilliseconds(100)));
        swap.Send(new CongestionWait(2, b.Ref, TimeSpan.FromMilliseconds(20)));
        var woken = swap.Rig.Pump.RunUntil(() => a.HasMessages && b.HasMessages);

        Assert.True(woken);
        Assert.Equal(SmallMachine.WriteLatency, swap.Rig.Now);
        Assert.Equal([5], node.ExpectMsg<EndSwapWrite>().Pfns);
        Assert.Equal(new CongestionWaitDone(1, TimedOut: false), a.ExpectMsg<CongestionWaitDone>());
        Assert.Equal(new CongestionWaitDone(2, TimedOut: false), b.ExpectMsg<CongestionWaitDone>());
        // The timeouts were cancelled: nothing is pending, and no second answer comes when their time would have come.
        Assert.Equal(0, swap.Rig.Machine.Activity.TimersPending);
        swap.Rig.Advance(TimeSpan.FromMilliseconds(200));
        Assert.False(a.HasMessages || b.HasMessages);
    }

    [Fact]
    public void A_congestion_wait_sleeps_on_while_the_write_queue_stays_congested_and_wakes_once_it_falls_below_the_off_threshold()
    {
        // 104 one-page writes served one at a time: the first completion leaves 103 requests in flight, the queue's
        // congestion-off threshold for 128 requests (blk_queue_congestion_threshold), so it stays congested; the second
        // leaves 102 and clears it.
        var swap = NewSwap(swapSlots: 128);
        var pfns = Enumerable.Range(1, 104).ToArray();
        var slots = swap.AddToSwap(pfns);
        swap.Send(new SwapDuplicateAndForward(slots, swap.Replies.Ref, "dup"));
        var node = swap.Rig.NodeProbes[0];
        for (var k = 0; k < pfns.Length; k++)
        {
            swap.Send(new SwapWritepage(swap.Rig.NextToken(), node.Ref, [new WriteItem(slots[k], pfns[k], 0xAB, PageCountIsTwo: true)]));
        }

        var task = swap.Rig.StandInTask(Pid);
        swap.Send(new CongestionWait(1, task.Ref, TimeSpan.FromMilliseconds(100)));

        swap.Rig.Advance(SmallMachine.WriteLatency);
        Assert.Equal(103, swap.State.WritesInFlight);
        Assert.False(task.HasMessages);
        swap.Rig.Advance(SmallMachine.WriteLatency);

        Assert.Equal(new CongestionWaitDone(1, TimedOut: false), task.ExpectMsg<CongestionWaitDone>());
        Assert.Equal(102, swap.State.WritesInFlight);
    }

    [Fact]
    public void A_congestion_wait_with_no_write_in_flight_sleeps_its_whole_timeout()
    {
        var swap = NewSwap();
        var task = swap.Rig.StandInTask(Pid);

        swap.Send(new CongestionWait(7, task.Ref, TimeSpan.FromMilliseconds(20)));
        Assert.Equal(1, swap.Rig.Machine.Activity.TimersPending);
        swap.Rig.Advance(TimeSpan.FromMilliseconds(20) - TimeSpan.FromTicks(1));
        Assert.False(task.HasMessages);
        swap.Rig.Advance(TimeSpan.FromTicks(1));

        Assert.Equal(new CongestionWaitDone(7, TimedOut: true), task.ExpectMsg<CongestionWaitDone>());
        Assert.Equal(0, swap.Rig.Machine.Activity.TimersPending);
    }

    [Fact]
    public void Writes_queue_behind_each_other_one_page_per_write_latency()
    {
        var swap = NewSwap();
        var slots = swap.AddToSwap(5, 6, 7);
        swap.Send(new SwapDuplicateAndForward(slots, swap.Replies.Ref, "dup"));
        var node = swap.Rig.NodeProbes[0];
        var latency = SmallMachine.WriteLatency;

        swap.Send(new SwapWritepage(1, node.Ref, [new WriteItem(slots[0], 5, 1, true), new WriteItem(slots[1], 6, 2, true)]));
        swap.Send(new SwapWritepage(2, node.Ref, [new WriteItem(slots[2], 7, 3, true)]));
        node.ExpectMsg<SwapWriteStarted>();
        node.ExpectMsg<SwapWriteStarted>();

        swap.Rig.Advance(latency);
        Assert.False(node.HasMessages);
        swap.Rig.Advance(latency);
        Assert.Equal([5, 6], node.ExpectMsg<EndSwapWrite>().Pfns);
        Assert.False(node.HasMessages);
        swap.Rig.Advance(latency);
        Assert.Equal([7], node.ExpectMsg<EndSwapWrite>().Pfns);
    }

    [Fact]
    public void A_device_with_two_requests_in_flight_writes_two_pages_per_write_latency()
    {
        var swap = NewSwap(queueDepth: 2);
        var slots = swap.AddToSwap(5, 6, 7);
        swap.Send(new SwapDuplicateAndForward(slots, swap.Replies.Ref, "dup"));
        var node = swap.Rig.NodeProbes[0];

        swap.Send(new SwapWritepage(1, node.Ref,
            [new WriteItem(slots[0], 5, 1, true), new WriteItem(slots[1], 6, 2, true), new WriteItem(slots[2], 7, 3, true)]));
        node.ExpectMsg<SwapWriteStarted>();

        swap.Rig.Advance(SmallMachine.WriteLatency);
        Assert.False(node.HasMessages);
        swap.Rig.Advance(SmallMachine.WriteLatency);
        Assert.Equal([5, 6, 7], node.ExpectMsg<EndSwapWrite>().Pfns);
    }

    [Fact]
    public void SwapWritepage_of_a_page_whose_slot_only_the_cache_holds_frees_the_slot_instead_of_writing()
    {
        var swap = NewSwap();
        var slot = swap.AddToSwap(5).Single();
        var node = swap.Rig.NodeProbes[0];

        swap.Send(new SwapWritepage(swap.Rig.NextToken(), node.Ref, [new WriteItem(slot, 5, 0xABCD, PageCountIsTwo: true)]));

        var started = node.ExpectMsg<SwapWriteStarted>();
        Assert.Empty(started.Written);
        Assert.Equal([5], started.Exclusive);
        Assert.Equal((0, -1, 16), (swap.Map.Count(slot), swap.Map.CachedPfn(slot), swap.Map.NrSwapPages));
        Assert.Equal(0, swap.State.Stat[VmEvent.Pswpout]);
        swap.Rig.Advance(SmallMachine.WriteLatency * 4);
        Assert.False(node.HasMessages);
    }

    // ---- swap_free, remove_exclusive_swap_page, free_swap_and_cache --------------------------------------------------------

    [Fact]
    public void SwapCacheDeleted_drops_the_cache_entry_and_the_caches_reference()
    {
        var swap = NewSwap();
        var slot = swap.AddToSwap(5).Single();

        swap.Send(new SwapCacheDeleted([slot], [5]));

        Assert.Equal((0, -1, 16), (swap.Map.Count(slot), swap.Map.CachedPfn(slot), swap.Map.NrSwapPages));
    }

    [Fact]
    public void SwapFree_with_FreeCache_asks_the_node_to_drop_a_page_whose_slot_is_left_to_the_cache_alone()
    {
        var swap = NewSwap();
        var slot = swap.AddToSwap(70).Single();
        swap.Send(new SwapDuplicateAndForward([slot, slot], swap.Replies.Ref, "dup"));

        swap.Send(new SwapFree([slot], FreeCache: true));
        Assert.False(swap.Rig.NodeProbes[1].HasMessages);   // another PTE still holds it
        swap.Send(new SwapFree([slot], FreeCache: true));

        AssertTryRemove(swap.Rig.NodeProbes[1], [slot], [70], expectedCount: 1);
        Assert.Equal(1, swap.Map.Count(slot));
    }

    [Fact]
    public void SwapFree_without_FreeCache_only_drops_the_pte_reference()
    {
        var swap = NewSwap();
        var slot = swap.AddToSwap(70).Single();
        swap.Send(new SwapDuplicateAndForward([slot], swap.Replies.Ref, "dup"));

        swap.Send(new SwapFree([slot], FreeCache: false));

        Assert.Equal((1, 70), (swap.Map.Count(slot), swap.Map.CachedPfn(slot)));
        Assert.False(swap.Rig.NodeProbes[1].HasMessages);
    }

    [Fact]
    public void ExclusiveRemoved_frees_the_slot_and_ExclusiveRefused_leaves_it_as_it_is()
    {
        var swap = NewSwap();
        var (kept, removed) = (swap.AddToSwap(5).Single(), swap.AddToSwap(6).Single());

        swap.Send(new ExclusiveRefused([kept], [5]));
        swap.Send(new ExclusiveRemoved([removed], [6]));

        Assert.Equal((1, 5), (swap.Map.Count(kept), swap.Map.CachedPfn(kept)));
        Assert.Equal((0, -1), (swap.Map.Count(removed), swap.Map.CachedPfn(removed)));
    }

    [Fact]
    public void After_a_swap_in_with_swap_over_half_full_the_page_is_asked_to_leave_the_swap_cache()
    {
        var swap = NewSwap(swapSlots: 2);
        var slots = swap.AddToSwap(5, 6);
        swap.Send(new SwapDuplicateAndForward([slots[0]], swap.Replies.Ref, "dup"));
        Assert.True(swap.Map.VmSwapFull);

        swap.Send(new SwapFreeAfterSwapIn([slots[0]], [5]));

        AssertRemoveAfterSwapIn(swap.Rig.NodeProbes[0], slots[0], 5);
    }

    /// <summary>2.6.14 do_swap_page asks vm_swap_full() for each fault after the previous fault's
    /// remove_exclusive_swap_page freed its slot: 4 slots all in use; fault 1 frees one (3 of 4 used, still over half),
    /// fault 2 frees another (2 of 4: not over half), so fault 3 keeps its page in the swap cache.</summary>
    [Fact]
    public void Vm_swap_full_is_asked_per_fault_after_the_previous_fault_freed_its_slot()
    {
        const int OnNode1 = SmallMachine.PagesPerNode + 3;
        var swap = NewSwap(swapSlots: 4);
        var slots = swap.AddToSwap(5, OnNode1, 6, 7);
        swap.Send(new SwapDuplicateAndForward(slots[..3], swap.Replies.Ref, "dup"));

        swap.Send(new SwapFreeAfterSwapIn(slots[..3], [5, OnNode1, 6]));

        AssertRemoveAfterSwapIn(swap.Rig.NodeProbes[0], slots[0], 5);
        Assert.False(swap.Rig.NodeProbes[1].HasMessages);     // fault 2 waits for fault 1's answer
        swap.Send(SwapInExclusiveAnswer.Of(removed: true));
        AssertRemoveAfterSwapIn(swap.Rig.NodeProbes[1], slots[1], OnNode1);
        swap.Send(SwapInExclusiveAnswer.Of(removed: true));
        Assert.False(swap.Rig.NodeProbes[0].HasMessages);
        Assert.Equal((1, 6), (swap.Map.Count(slots[2]), swap.Map.CachedPfn(slots[2])));
        Assert.Equal(2, swap.Map.NrSwapPages);
    }

    [Fact]
    public void A_refused_removal_leaves_swap_as_full_for_the_next_fault()
    {
        var swap = NewSwap(swapSlots: 4);
        var slots = swap.AddToSwap(5, 6, 7, 8);
        swap.Send(new SwapDuplicateAndForward(slots[..2], swap.Replies.Ref, "dup"));

        swap.Send(new SwapFreeAfterSwapIn(slots[..2], [5, 6]));
        AssertRemoveAfterSwapIn(swap.Rig.NodeProbes[0], slots[0], 5);
        swap.Send(SwapInExclusiveAnswer.Of(removed: false));

        AssertRemoveAfterSwapIn(swap.Rig.NodeProbes[0], slots[1], 6);
        Assert.Equal(0, swap.Map.NrSwapPages);
    }

    [Fact]
    public void An_exclusive_answer_for_a_swap_in_while_none_was_asked_is_a_kernel_bug()
    {
        var swap = NewSwap(swapSlots: 4);
        var watcher = swap.Rig.NewProbe("watcher");
        watcher.Watch(swap.Actor);
        swap.Rig.Settle();

        swap.Send(SwapInExclusiveAnswer.Of(removed: true));

        watcher.ExpectTerminated(swap.Actor);
        Assert.Equal(["kernel BUG: KernelBugException: remove_exclusive_swap_page answered for a swap-in while none was asked"],
            swap.Rig.Machine.Bugs);
    }

    private static void AssertRemoveAfterSwapIn(TestProbe node, int slot, int pfn) =>
        Assert.Equal(new NumaNode.RemoveExclusiveAfterSwapIn(slot, pfn), node.ExpectMsg<NumaNode.RemoveExclusiveAfterSwapIn>());

    private static void AssertTryRemove(TestProbe node, int[] slots, int[] pfns, int expectedCount, bool evenIfShared = false)
    {
        var m = node.ExpectMsg<NumaNode.TryRemoveExclusive>();
        Assert.Equal(slots, m.Slots);
        Assert.Equal(pfns, m.Pfns);
        Assert.Equal((expectedCount, evenIfShared), (m.ExpectedCount, m.EvenIfShared));
    }

    [Fact]
    public void After_a_swap_in_with_swap_at_most_half_full_the_page_keeps_its_slot()
    {
        var swap = NewSwap();
        var slot = swap.AddToSwap(5).Single();
        swap.Send(new SwapDuplicateAndForward([slot], swap.Replies.Ref, "dup"));

        swap.Send(new SwapFreeAfterSwapIn([slot], [5]));

        Assert.Equal((1, 5), (swap.Map.Count(slot), swap.Map.CachedPfn(slot)));
        Assert.False(swap.Rig.NodeProbes[0].HasMessages);
    }

    [Fact]
    public void OfferSwapCache_asks_the_node_only_when_no_pte_holds_the_slot()
    {
        var swap = NewSwap();
        var (alone, held) = (swap.AddToSwap(5).Single(), swap.AddToSwap(6).Single());
        swap.Send(new SwapDuplicateAndForward([held], swap.Replies.Ref, "dup"));

        swap.Send(new OfferSwapCache(held, 6, ExpectedCount: 1));
        swap.Send(new OfferSwapCache(alone, 5, ExpectedCount: 1));

        AssertTryRemove(swap.Rig.NodeProbes[0], [alone], [5], expectedCount: 1);
        Assert.False(swap.Rig.NodeProbes[0].HasMessages);
    }

    [Fact]
    public void CanShareSwapPage_answers_the_task_in_the_swap_devices_own_reply_whether_its_mapping_is_the_pages_only_user()
    {
        var swap = NewSwap();
        var slot = swap.AddToSwap(5).Single();
        var task = swap.Rig.StandInTask(Pid);

        swap.Send(new CanShareSwapPage(1, task.Ref, slot, 5, Mapcount: 1, Contents: 0xAB));
        swap.Send(new SwapDuplicateAndForward([slot], swap.Replies.Ref, "dup"));
        swap.Send(new CanShareSwapPage(2, task.Ref, slot, 5, Mapcount: 1, Contents: 0xAB));

        Assert.Equal(new CanShareSwapPageResult(1, 5, Reuse: true, 0xAB), task.ExpectMsg<CanShareSwapPageResult>());
        Assert.Equal(new CanShareSwapPageResult(2, 5, Reuse: false, 0xAB), task.ExpectMsg<CanShareSwapPageResult>());
    }

    [Fact]
    public void GetSwapInfo_answers_the_sender_with_total_and_free_slots()
    {
        var swap = NewSwap(swapSlots: 4);
        swap.AddToSwap(5);

        swap.Rig.Send(swap.Actor, new GetSwapInfo(3), swap.Replies.Ref);

        Assert.Equal(new SwapInfo(3, 4, 3), swap.Replies.ExpectMsg<SwapInfo>());
    }

    [Fact]
    public void Freeing_a_pte_reference_with_swap_over_half_full_takes_the_page_out_of_the_swap_cache_even_while_another_task_maps_it()
    {
        // A real node 0 and a real swap device with one slot, so one slot in use is "over half full".
        var rig = NewRig(SmallMachine.Settings(KernelProfile.V2Fixed, swapSlots: 1));
        var swap = rig.SpawnSwapDevice();
        var node = new NodeUnderTest(rig);
        var (taskA, taskB) = (rig.StandInTask(1), rig.StandInTask(2));
        // Task A's page goes out to slot 1 (pass 0: add_to_swap, try_to_unmap, write) and back on the LRU.
        var pfn = node.FaultAndIsolate(1, node.Cpu(), 1).Single();
        rig.Send(node.Actor, new NumaNode.SwapoutPass(rig.NextToken(), node.Replies.Ref, 0, [pfn], false, 3));
        var unmap = taskA.ExpectMsg<NumaTask.TryToUnmap>();
        rig.Send(swap, new SwapDuplicateAndForward([1], node.Actor,
            new NumaTask.UnmapResult(unmap.Token, 1, [pfn], [Unmap.Unmapped], [true])));
        rig.Advance(SmallMachine.WriteLatency);
        rig.Send(node.Actor, new NumaNode.PutbackLruPages(rig.NextToken(), null, [pfn], DropReference: true, -1));
        // B shares A's swap entry (fork's swap_duplicate) and faults the page back in: a swap-cache hit.
        rig.Send(swap, new SwapDuplicateAndForward([1], node.Replies.Ref, "forked"));
        rig.Send(swap, new LookupSwapCache(rig.NextToken(), taskB.Ref, 2, [1], [0x100]));
        taskB.ExpectMsg<NumaNode.SwapCacheMapped>();
        rig.Send(swap, new SwapFreeAfterSwapIn([1], [pfn]));
        Assert.Equal((2, pfn), (rig.SwapMap.Count(1), rig.SwapMap.CachedPfn(1)));
        Assert.True(rig.SwapMap.VmSwapFull);

        // A exits: zap_pte_range → free_swap_and_cache(entry).
        rig.Send(swap, new SwapFree([1], FreeCache: true));

        Assert.False(node.Test(pfn, PageFlags.SwapCache));
        Assert.True(node.Test(pfn, PageFlags.Dirty));
        Assert.Equal((0, 1), (rig.SwapMap.Count(1), rig.SwapMap.NrSwapPages));
        Assert.Equal((1, 1), (node.Count(pfn), node.Mapcount(pfn)));
    }

    // ---- rig --------------------------------------------------------------------------------------------------------------

    private SwapUnderTest NewSwap(int swapSlots = 16, int queueDepth = 1) =>
        new(NewRig(SmallMachine.Settings(swapSlots: swapSlots) with { SwapQueueDepth = queueDepth }));

    private static void AssertHit(TestProbe node, long token, TestProbe task, NumaNode.SwapHit expected)
    {
        var hit = node.ExpectMsg<NumaNode.SwapCacheHit>();
        Assert.Equal((token, task.Ref, Pid), (hit.Token, hit.Task, hit.TaskId));
        Assert.Equal([expected], hit.Hits);
    }

    /// <summary>A real swap device among probes, with recipes that bring slots into the states the specs start from.</summary>
    private sealed class SwapUnderTest
    {
        public SwapUnderTest(KernelRig rig)
        {
            Rig = rig;
            Actor = rig.SpawnSwapDevice();
            Replies = rig.NewProbe("swap-replies");
        }

        public KernelRig Rig { get; }
        public IActorRef Actor { get; }
        public TestProbe Replies { get; }
        public SwapState State => Rig.Machine.Swap!;
        public SwapMap Map => State.OwnMap;

        public void Send(object message) => Rig.Send(Actor, message);

        public int[] AddToSwap(params int[] pfns)
        {
            var token = Rig.NextToken();
            Send(new SwapDevice.AddToSwap(token, Replies.Ref, pfns));
            var added = Replies.ExpectMsg<AddedToSwap>(m => m.Token == token);
            Assert.Equal(pfns, added.Pfns);
            return added.Slots;
        }

        /// <summary>A slot whose page was written and then freed: only a PTE holds it, nothing caches it.</summary>
        public int SlotHeldOnlyByAPte(int pfn, uint contents = 0x5107)
        {
            var slot = AddToSwap(pfn).Single();
            Send(new SwapDuplicateAndForward([slot], Replies.Ref, "pte"));
            Replies.ExpectMsg("pte");
            var node = Rig.NodeProbes[Rig.Topology.PfnToNid(pfn)];
            Send(new SwapWritepage(Rig.NextToken(), node.Ref, [new WriteItem(slot, pfn, contents, true)]));
            node.ExpectMsg<SwapWriteStarted>();
            Rig.Advance(SmallMachine.WriteLatency);
            node.ExpectMsg<EndSwapWrite>();
            Send(new SwapCacheDeleted([slot], [pfn]));
            Assert.Equal((1, -1), (Map.Count(slot), Map.CachedPfn(slot)));
            return slot;
        }
    }
}

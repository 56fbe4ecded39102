using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using Akka.TestKit;
using static ActorNuma.Kernel.NumaNode;
using Unmap = ActorNuma.Kernel.NumaTask.UnmapOutcome;

namespace ActorNuma.Kernel.Tests;

/// <summary>One pass of V2 <c>swapout_pages()</c> over isolated pages, step by step, with the swap device and the
/// mapping tasks played by probes.</summary>
public sealed partial class NumaNodeActorSpec
{
    private const int Slot = 5;

    [Fact]
    public void A_pass_adds_the_page_to_swap_unmaps_it_and_starts_the_write_and_the_pass_after_the_write_frees_it()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        var free = node.Memory.FreePages;

        var pass0 = StartPass(node, 0, pfn);

        var add = node.Rig.SwapProbe.ExpectMsg<SwapDevice.AddToSwap>();
        Assert.Equal([pfn], add.Pfns);
        Assert.Equal(node.Actor, add.ReplyTo);
        Assert.True(node.Test(pfn, PageFlags.Locked));
        node.Send(new SwapDevice.AddedToSwap(add.Token, add.Pfns, [Slot]));

        Assert.Equal(PageFlags.SwapCache | PageFlags.Dirty, node.Flags(pfn) & (PageFlags.SwapCache | PageFlags.Dirty));
        Assert.Equal((Slot, 3), (node.SwapEntry(pfn), node.Count(pfn)));
        var unmap = task.ExpectMsg<NumaTask.TryToUnmap>();
        Assert.Equal([new NumaTask.UnmapItem(pfn, 0x100, Slot)], unmap.Items);
        Assert.Equal((node.Actor, false), (unmap.Node, unmap.IgnoreYoung));
        node.Send(new NumaTask.UnmapResult(unmap.Token, Task1, [pfn], [Unmap.Unmapped], [true]));

        Assert.Equal((0, 2), (node.Mapcount(pfn), node.Count(pfn)));
        var write = node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapWritepage>();
        Assert.Equal(node.Actor, write.Node);
        Assert.Equal([new SwapDevice.WriteItem(Slot, pfn, node.Contents(pfn), PageCountIsTwo: true)], write.Items);
        Assert.Equal(PageFlags.Reclaim, node.Flags(pfn) & (PageFlags.Reclaim | PageFlags.Dirty));   // clear_page_dirty_for_io
        Assert.False(node.Replies.HasMessages);
        node.Send(new SwapDevice.SwapWriteStarted(write.Token, [pfn], []));

        AssertPassResult(node, pass0, retry: [pfn]);
        Assert.Equal(PageFlags.Writeback, node.Flags(pfn) & (PageFlags.Writeback | PageFlags.Locked));
        node.Send(new SwapDevice.EndSwapWrite([pfn]));
        Assert.Equal(PageFlags.None, node.Flags(pfn) & (PageFlags.Writeback | PageFlags.Reclaim));
        Assert.Equal(0, node.Stat(VmEvent.Pgrotated));   // an isolated page is not rotated

        var pass1 = StartPass(node, 1, pfn);

        AssertPassResult(node, pass1, freed: [pfn]);
        var deleted = node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapCacheDeleted>();
        Assert.Equal([Slot], deleted.Slots);
        Assert.Equal([pfn], deleted.Pfns);
        Assert.Equal(FramePlace.Free, node.Place(pfn));
        Assert.Equal(free + 1, node.Memory.FreePages);
        Assert.False(task.HasMessages);
    }

    /// <summary>A pass's collections (position by frame, pages waiting for a slot, an unmap or the disk) are reused by
    /// later passes: a pass that ended must hand them back empty, and one still waiting must keep its own while another
    /// opens and ends.</summary>
    [Fact]
    public void Passes_that_follow_or_overlap_one_another_each_see_only_their_own_pages()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfns = node.FaultAndIsolate(Task1, node.Cpu(), 3);
        var (p1, p2, p3) = (pfns[0], pfns[1], pfns[2]);

        // Pass A ends at once: no slot for p1, which stays isolated.
        var passA = StartPass(node, 0, p1);
        GrantSlots(node, 0);
        AssertPassResult(node, passA, failed: [p1]);

        // Pass B names p1 again: a position A left behind would make it a repeat and drop it.
        var passB = StartPass(node, 0, p1, p2);
        var addB = node.Rig.SwapProbe.ExpectMsg<SwapDevice.AddToSwap>();
        Assert.Equal([p1, p2], addB.Pfns);

        // Pass C opens and ends while B waits for its slots.
        var passC = StartPass(node, 0, p3);
        var addC = node.Rig.SwapProbe.ExpectMsg<SwapDevice.AddToSwap>();
        Assert.Equal([p3], addC.Pfns);
        node.Send(new SwapDevice.AddedToSwap(addC.Token, addC.Pfns, [0]));
        AssertPassResult(node, passC, failed: [p3]);

        // B goes on with what it had.
        node.Send(new SwapDevice.AddedToSwap(addB.Token, addB.Pfns, [Slot, Slot + 1]));
        var unmap = task.ExpectMsg<NumaTask.TryToUnmap>();
        Assert.Equal([p1, p2], unmap.Items.Select(i => i.Pfn));
        node.Send(new NumaTask.UnmapResult(unmap.Token, Task1, [p1, p2], [Unmap.Unmapped, Unmap.Unmapped], [true, true]));
        var write = node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapWritepage>();
        Assert.Equal([p1, p2], write.Items.Select(i => i.Pfn));
        node.Send(new SwapDevice.SwapWriteStarted(write.Token, [p1, p2], []));
        AssertPassResult(node, passB, retry: [p1, p2]);
        Assert.False(task.HasMessages);
        Assert.False(node.Rig.SwapProbe.HasMessages);
    }

    [Fact]
    public void A_young_pte_makes_the_pass_retry_the_page_which_stays_mapped_in_the_swap_cache_so_the_next_pass_only_unmaps()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();

        var pass0 = StartPass(node, 0, pfn);
        GrantSlots(node, Slot);
        AnswerUnmap(node, task, Task1, Unmap.Young);

        AssertPassResult(node, pass0, retry: [pfn]);
        Assert.Equal(PageFlags.SwapCache, node.Flags(pfn) & (PageFlags.SwapCache | PageFlags.Locked));
        Assert.Equal((1, 3), (node.Mapcount(pfn), node.Count(pfn)));
        Assert.False(node.Rig.SwapProbe.HasMessages);

        StartPass(node, 1, pfn);

        Assert.False(node.Rig.SwapProbe.HasMessages);
        Assert.Equal(Slot, task.ExpectMsg<NumaTask.TryToUnmap>().Items.Single().Slot);
    }

    [Fact]
    public void A_page_that_gets_no_swap_slot_fails_and_stays_isolated_outside_the_swap_cache()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();

        var pass0 = StartPass(node, 0, pfn);
        GrantSlots(node, 0);

        AssertPassResult(node, pass0, failed: [pfn]);
        Assert.Equal(PageFlags.None, node.Flags(pfn) & (PageFlags.SwapCache | PageFlags.Locked | PageFlags.Dirty));
        Assert.Equal((FramePlace.Isolated, 2, 1), (node.Place(pfn), node.Count(pfn), node.Mapcount(pfn)));
        Assert.False(task.HasMessages);
    }

    [Fact]
    public void A_page_mapped_by_two_tasks_is_written_only_once_both_have_unmapped_it()
    {
        var node = NewNode();
        var (task1, task2) = (node.Rig.StandInTask(Task1), node.Rig.StandInTask(Task2));
        var pfn = node.FaultOntoLru(Task1, node.Cpu(), 1).Single();
        node.DupRmap(Task2, pfn);
        node.Isolate([pfn]);

        StartPass(node, 0, pfn);
        GrantSlots(node, Slot);
        AnswerUnmap(node, task1, Task1, Unmap.Unmapped);

        Assert.False(node.Rig.SwapProbe.HasMessages);
        Assert.Equal(1, node.Mapcount(pfn));

        AnswerUnmap(node, task2, Task2, Unmap.Unmapped);

        Assert.Equal(pfn, node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapWritepage>().Items.Single().Pfn);
    }

    [Fact]
    public void One_young_mapping_among_several_makes_the_page_retry_and_keeps_the_mappings_that_did_go()
    {
        var node = NewNode();
        var (task1, task2) = (node.Rig.StandInTask(Task1), node.Rig.StandInTask(Task2));
        var pfn = node.FaultOntoLru(Task1, node.Cpu(), 1).Single();
        node.DupRmap(Task2, pfn);
        node.Isolate([pfn]);

        var pass0 = StartPass(node, 0, pfn);
        GrantSlots(node, Slot);
        AnswerUnmap(node, task1, Task1, Unmap.Unmapped);
        AnswerUnmap(node, task2, Task2, Unmap.Young);

        AssertPassResult(node, pass0, retry: [pfn]);
        Assert.Equal(1, node.Mapcount(pfn));
        Assert.Equal([Task2], node.Memory.Mappers(node.Memory.Index(pfn)));
    }

    [Fact]
    public void In_the_early_passes_a_page_locked_by_another_pass_is_retried_without_waiting()
    {
        var node = NewNode();
        node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        StartPass(node, 0, pfn);   // holds PG_locked while it waits for a slot
        node.Rig.SwapProbe.ExpectMsg<SwapDevice.AddToSwap>();

        var second = StartPass(node, 2, pfn);

        AssertPassResult(node, second, retry: [pfn]);
        Assert.False(node.Rig.SwapProbe.HasMessages);
    }

    [Fact]
    public void From_the_blocking_pass_on_a_locked_page_is_waited_for_and_handled_once_it_is_unlocked()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        var first = StartPass(node, 0, pfn);
        GrantSlots(node, Slot);
        var firstUnmap = task.ExpectMsg<NumaTask.TryToUnmap>();

        var blocking = StartPass(node, KernelProfile.V2.BlockingLockFromPass, pfn);

        Assert.False(node.Replies.HasMessages);
        node.Send(new NumaTask.UnmapResult(firstUnmap.Token, Task1, [pfn], [Unmap.Young], [false]));   // unlocks the page

        AssertPassResult(node, first, retry: [pfn]);
        var secondUnmap = task.ExpectMsg<NumaTask.TryToUnmap>();
        Assert.NotEqual(firstUnmap.Token, secondUnmap.Token);
        Assert.True(node.Test(pfn, PageFlags.Locked));
        Assert.False(node.Replies.HasMessages);
        node.Send(new NumaTask.UnmapResult(secondUnmap.Token, Task1, [pfn], [Unmap.Young], [false]));
        AssertPassResult(node, blocking, retry: [pfn]);
    }

    [Fact]
    public void Pass_0_retries_a_page_under_writeback_and_a_later_pass_waits_for_the_write_to_end()
    {
        var node = NewNode();
        var pfn = PageUnderWriteback(node);

        AssertPassResult(node, StartPass(node, 0, pfn), retry: [pfn]);
        Assert.False(node.Test(pfn, PageFlags.Locked));

        var pass1 = StartPass(node, 1, pfn);

        Assert.False(node.Replies.HasMessages);
        node.Send(new SwapDevice.EndSwapWrite([pfn]));
        AssertPassResult(node, pass1, freed: [pfn]);
    }

    /// <remarks>Sleepers hash into a table of queues shared by many pages (four on this 64-page node, so some of the
    /// six pages share one): the end of one page's write wakes that page alone, whatever else sleeps in its queue.</remarks>
    [Fact]
    public void A_later_pass_over_many_pages_under_writeback_frees_each_as_its_own_write_ends()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfns = node.FaultAndIsolate(Task1, node.Cpu(), 6);
        var pass0 = StartPass(node, 0, pfns);
        GrantSlots(node, [.. Enumerable.Range(Slot, pfns.Length)]);
        AnswerUnmap(node, task, Task1, Unmap.Unmapped);
        var write = node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapWritepage>();
        node.Send(new SwapDevice.SwapWriteStarted(write.Token, pfns, []));
        AssertPassResult(node, pass0, retry: pfns);

        var pass1 = StartPass(node, 1, pfns);
        foreach (var pfn in pfns.Skip(1).Reverse())
        {
            node.Send(new SwapDevice.EndSwapWrite([pfn]));
        }

        Assert.False(node.Replies.HasMessages);   // the first page still waits for its write
        Assert.All(pfns.Skip(1), pfn => Assert.Equal(FramePlace.Free, node.Place(pfn)));
        Assert.True(node.Test(pfns[0], PageFlags.Writeback));
        node.Send(new SwapDevice.EndSwapWrite([pfns[0]]));
        AssertPassResult(node, pass1, freed: pfns);
    }

    [Fact]
    public void A_page_whose_slot_only_the_swap_cache_holds_leaves_the_swap_cache_dirty_instead_of_being_written()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        var (pass0, write) = PassZeroUntilWrite(node, task, pfn);

        node.Send(new SwapDevice.SwapWriteStarted(write.Token, [], [pfn]));

        AssertPassResult(node, pass0, retry: [pfn]);
        Assert.Equal(PageFlags.Dirty, node.Flags(pfn) & (PageFlags.Dirty | PageFlags.SwapCache | PageFlags.Reclaim
                                                        | PageFlags.Writeback | PageFlags.Locked));
        Assert.Equal(1, node.Count(pfn));   // only the isolation reference is left
    }

    [Fact]
    public void The_pass_hands_the_profiles_unmap_flag_to_the_mapping_task()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();

        node.Send(new SwapoutPass(node.Rig.NextToken(), node.Replies.Ref, 0, [pfn],
            KernelProfile.Linux2616.MigrationUnmapIgnoresYoung, KernelProfile.Linux2616.BlockingLockFromPass));
        GrantSlots(node, Slot);

        Assert.True(task.ExpectMsg<NumaTask.TryToUnmap>().IgnoreYoung);
    }

    [Fact]
    public void End_of_writeback_rotates_a_clean_reclaimable_page_on_the_inactive_list_to_its_tail()
    {
        var node = NewNode();
        var task = node.Rig.StandInTask(Task1);
        node.Send(new AllocPages(node.Rig.NextToken(), node.Replies.Ref, Task1, 2, NodeUnderTest.Items(2), [1, 0], 1,
            AllocPass.Low, false, AllocPurpose.AnonFault));
        var pfns = node.Rig.NodeProbes[1].ExpectMsg<LruCacheAdd>().Pfns;
        node.Send(new PagevecLruAdd(pfns, Active: false, Cpu: 2, 0, null));
        var pfn = pfns[0];
        node.Isolate([pfn]);
        var (_, write) = PassZeroUntilWrite(node, task, pfn);
        node.Send(new SwapDevice.SwapWriteStarted(write.Token, [pfn], []));
        node.Send(new PutbackLruPages(node.Rig.NextToken(), null, [pfn], DropReference: true, PagevecCpu: -1));
        Assert.NotEqual(node.Memory.Index(pfn), node.Memory.Tail(active: false));

        node.Send(new SwapDevice.EndSwapWrite([pfn]));

        Assert.Equal(node.Memory.Index(pfn), node.Memory.Tail(active: false));
        Assert.Equal(1, node.Stat(VmEvent.Pgrotated));
        Assert.False(node.Test(pfn, PageFlags.Reclaim));
    }

    [Fact]
    public void A_pass_over_a_page_that_is_not_isolated_is_a_kernel_bug_that_stops_the_node()
    {
        var node = NewNode();
        var pfn = node.FaultOntoLru(Task1, node.Cpu(), 1).Single();
        var watcher = node.Rig.NewProbe("watcher");
        watcher.Watch(node.Actor);
        node.Rig.Settle();

        StartPass(node, 0, pfn);

        watcher.ExpectTerminated(node.Actor);
        Assert.Equal([$"kernel BUG: InvalidOperationException: swapout_pages: pfn {pfn} is not isolated (Lru)"],
            node.Rig.Machine.Bugs);
    }

    // ---- steps ---------------------------------------------------------------------------------------------------------

    private static long StartPass(NodeUnderTest node, int pass, params int[] pfns)
    {
        var token = node.Rig.NextToken();
        node.Send(new SwapoutPass(token, node.Replies.Ref, pass, pfns, UnmapIgnoresYoung: false,
            KernelProfile.V2.BlockingLockFromPass));
        return token;
    }

    /// <summary>The swap device's answer to the pass's add_to_swap: one slot per page, 0 for none.</summary>
    private static void GrantSlots(NodeUnderTest node, params int[] slots)
    {
        var add = node.Rig.SwapProbe.ExpectMsg<SwapDevice.AddToSwap>();
        node.Send(new SwapDevice.AddedToSwap(add.Token, add.Pfns, slots));
    }

    /// <summary>A mapping task's try_to_unmap answer (which reaches the node through the swap device).</summary>
    private static void AnswerUnmap(NodeUnderTest node, TestProbe task, int pid, Unmap outcome)
    {
        var request = task.ExpectMsg<NumaTask.TryToUnmap>();
        var pfns = request.Items.Select(i => i.Pfn).ToArray();
        node.Send(new NumaTask.UnmapResult(request.Token, pid, pfns, pfns.Select(_ => outcome).ToArray(),
            pfns.Select(_ => outcome == Unmap.Unmapped).ToArray()));
    }

    /// <summary>A page of task 1 after pass 0: in the swap cache at <see cref="Slot"/>, unmapped, its write in flight.</summary>
    private static int PageUnderWriteback(NodeUnderTest node)
    {
        var task = node.Rig.StandInTask(Task1);
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        var (pass0, write) = PassZeroUntilWrite(node, task, pfn);
        node.Send(new SwapDevice.SwapWriteStarted(write.Token, [pfn], []));
        AssertPassResult(node, pass0, retry: [pfn]);
        return pfn;
    }

    /// <summary>Pass 0 over a page of task 1 until it asks for the write: the page got <see cref="Slot"/> and the task
    /// unmapped it. Returns the pass's token and the swap_writepage request, still unanswered.</summary>
    private static (long Pass, SwapDevice.SwapWritepage Write) PassZeroUntilWrite(NodeUnderTest node, TestProbe task, int pfn)
    {
        var pass0 = StartPass(node, 0, pfn);
        GrantSlots(node, Slot);
        AnswerUnmap(node, task, Task1, Unmap.Unmapped);
        return (pass0, node.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapWritepage>());
    }

    private static void AssertPassResult(NodeUnderTest node, long token, int[]? freed = null, int[]? retry = null,
        int[]? failed = null)
    {
        var result = node.Replies.ExpectMsg<SwapoutPassResult>(r => r.Token == token);
        Assert.Equal(node.Id, result.Node);
        Assert.Equal(freed ?? [], result.Freed);
        Assert.Equal(retry ?? [], result.Retry);
        Assert.Equal(failed ?? [], result.Failed);
    }
}

using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using Akka.Actor;
using Akka.TestKit;
using Xunit.Abstractions;
using static ActorNuma.Kernel.NumaTask;
using Node = ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel.Tests;

/// <summary>
/// <see cref="NumaTaskActor"/> on CPU 0 alone among probes: the nodes, the swap device and the kernel root are probes,
/// so each fault's requests are asserted and answered by the spec. Covers the rmap requests other actors make of its
/// page table (try_to_unmap, page_referenced), one syscall at a time, QueryPages, do_swap_page and exit.
/// </summary>
public sealed class NumaTaskActorSpec : KernelSpec
{
    private const int SpecSeed = 7;
    private const ulong Addr = 0x100000;
    private const uint Vpn = 0x100;
    private const int SwapSlot = 5;

    public NumaTaskActorSpec(ITestOutputHelper output) : base(output, SpecSeed)
    {
    }

    // ---- faults -------------------------------------------------------------------------------------------------------

    [Fact]
    public void A_write_fault_allocates_at_the_cpus_node_under_the_default_policy_and_maps_the_page_young_dirty_and_writable()
    {
        var task = NewTask();
        task.Call(new Mmap(Addr, 4));
        task.Result();

        task.Call(new Touch(Addr, 2, Write: true));

        var alloc = task.Rig.NodeProbes[0].ExpectMsg<Node.AllocPages>();
        Assert.Equal((task.Actor, task.Pid, 0, 0, Node.AllocPass.Low, false, Node.AllocPurpose.AnonFault),
            (alloc.ReplyTo, alloc.Task, alloc.Cpu, alloc.ZonelistIndex, alloc.Pass, alloc.Interleave, alloc.Purpose));
        Assert.Equal([0, 1], alloc.Zonelist);
        Assert.Equal([Vpn, Vpn + 1], alloc.Items.Select(i => i.Vpn));
        Assert.False(task.Caller.HasMessages);
        task.Allocated(alloc, 10, 11);
        var result = task.Result();
        Assert.Equal((2L, Errno.None, 2L), (result.Ret, result.Errno, result.Faults));
        Assert.Equal([Pte.Present(10, write: true, young: true, dirty: true), Pte.Present(11, write: true, young: true, dirty: true)],
            [task.Pte(Vpn), task.Pte(Vpn + 1)]);
    }

    [Fact]
    public void QueryPages_counts_present_pages_per_node_swapped_pages_and_the_rest()
    {
        var task = NewTask();
        task.Map(10, 70, 11);
        task.Unmap(11, ignoreYoung: true);
        task.Call(new Touch(Addr + 3 * MmConstants.PageSize, 1, Write: false));   // a load maps the zero page
        task.Result();

        task.Rig.Send(task.Actor, new QueryPages(Addr, 5), task.Caller.Ref);

        var report = task.Caller.ExpectMsg<PagesReport>();
        Assert.Equal(new Dictionary<int, long> { [0] = 1, [1] = 1 }, report.PerNode);
        Assert.Equal((1L, 2L), (report.Swapped, report.NotPresent));
    }

    // ---- try_to_unmap_one, page_referenced_one ----------------------------------------------------------------------

    [Fact]
    public void TryToUnmap_of_a_young_pte_fails_and_clears_the_young_bit_so_the_next_attempt_unmaps_it()
    {
        var task = NewTask();
        task.Map(10);

        var first = task.TryToUnmap(10, ignoreYoung: false);

        Assert.Empty(first.Slots);
        Assert.Equal([UnmapOutcome.Young], ((UnmapResult)first.Message).Outcomes);
        Assert.False(task.Pte(Vpn).Young);
        Assert.True(task.Pte(Vpn).IsPresent);

        var second = task.TryToUnmap(10, ignoreYoung: false);

        Assert.Equal([SwapSlot], second.Slots);
        var result = (UnmapResult)second.Message;
        Assert.Equal((UnmapOutcome.Unmapped, true), (result.Outcomes.Single(), result.Dirty.Single()));
        Assert.Equal(Pte.Swap(SwapSlot), task.Pte(Vpn));
    }

    [Fact]
    public void TryToUnmap_that_ignores_young_ptes_unmaps_a_young_pte_at_once()
    {
        var task = NewTask();
        task.Map(10);

        var forward = task.TryToUnmap(10, ignoreYoung: true);

        Assert.Equal([UnmapOutcome.Unmapped], ((UnmapResult)forward.Message).Outcomes);
        Assert.Equal(Pte.Swap(SwapSlot), task.Pte(Vpn));
    }

    [Fact]
    public void The_answer_to_TryToUnmap_goes_to_the_node_through_the_swap_device_which_duplicates_the_new_swap_entries()
    {
        var task = NewTask();
        task.Map(10, 11);
        var node = task.Rig.NodeProbes[0];
        var token = task.Rig.NextToken();

        task.Rig.Send(task.Actor, new TryToUnmap(token, node.Ref,
            [new UnmapItem(10, Vpn, SwapSlot), new UnmapItem(11, Vpn + 1, SwapSlot + 1)], IgnoreYoung: true));

        var forward = task.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapDuplicateAndForward>();
        Assert.Equal([SwapSlot, SwapSlot + 1], forward.Slots);
        Assert.Equal(node.Ref, forward.ForwardTo);
        var result = Assert.IsType<UnmapResult>(forward.Message);
        Assert.Equal((token, task.Pid), (result.Token, result.Task));
        Assert.Equal([10, 11], result.Pfns);
        Assert.False(node.HasMessages);
    }

    [Fact]
    public void TryToUnmap_answers_NotMapped_for_a_pte_that_maps_another_page_or_nothing()
    {
        var task = NewTask();
        task.Map(10);
        var token = task.Rig.NextToken();

        task.Rig.Send(task.Actor, new TryToUnmap(token, task.Rig.NodeProbes[0].Ref,
            [new UnmapItem(12, Vpn, SwapSlot), new UnmapItem(13, Vpn + 7, SwapSlot + 1)], IgnoreYoung: true));

        var forward = task.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapDuplicateAndForward>();
        Assert.Empty(forward.Slots);
        Assert.Equal([UnmapOutcome.NotMapped, UnmapOutcome.NotMapped], ((UnmapResult)forward.Message).Outcomes);
        Assert.Equal(Pte.Present(10, write: true, young: true, dirty: true), task.Pte(Vpn));
    }

    [Fact]
    public void PageReferenced_reports_which_ptes_were_young_and_clears_them_and_a_later_load_sets_the_bit_again()
    {
        var task = NewTask();
        task.Map(10, 11);
        var node = task.Rig.NodeProbes[0];

        Assert.Equal([true, true], task.PageReferenced(node, [10, 11]).Young);
        Assert.Equal([false, false], task.PageReferenced(node, [10, 11]).Young);

        task.Call(new Touch(Addr, 1, Write: false));
        var access = node.ExpectMsg<Node.AccessPages>();
        Assert.Equal([new Node.AccessItem(10, false, 0)], access.Items);
        task.Rig.Send(task.Actor, new Node.PagesAccessed(access.Token, [task.LastWritten(Vpn)]));
        var load = task.Result();
        Assert.Equal((1L, 0L), (load.Ret, load.Faults));   // a load through a present PTE is no fault

        var again = task.PageReferenced(node, [10, 11]);
        Assert.Equal(task.Pid, again.Task);
        Assert.Equal([true, false], again.Young);
    }

    // ---- one syscall at a time ---------------------------------------------------------------------------------------

    [Fact]
    public void A_task_runs_one_syscall_at_a_time_answers_queued_ones_in_order_and_serves_queries_and_rmap_requests_meanwhile()
    {
        var task = NewTask();
        task.Map(10);
        task.Call(new Touch(Addr + MmConstants.PageSize, 1, Write: true));
        var alloc = task.Rig.NodeProbes[0].ExpectMsg<Node.AllocPages>();

        task.Call(new SchedSetaffinity(1));
        task.Call(new SchedSetaffinity(99));

        Assert.False(task.Caller.HasMessages);
        var observer = task.Rig.NewProbe("observer");
        task.Rig.Send(task.Actor, new QueryPages(Addr, 2), observer.Ref);
        Assert.Equal(1L, observer.ExpectMsg<PagesReport>().NotPresent);
        Assert.Equal([UnmapOutcome.Unmapped], ((UnmapResult)task.TryToUnmap(10, ignoreYoung: true).Message).Outcomes);
        Assert.Equal(0, task.State.Cpu);

        task.Allocated(alloc, 11);

        Assert.Equal(1L, task.Caller.ExpectMsg<SyscallResult>().Ret);
        Assert.Equal(SyscallResult.Ok(), task.Caller.ExpectMsg<SyscallResult>());
        Assert.Equal(SyscallResult.Fail(Errno.EINVAL), task.Caller.ExpectMsg<SyscallResult>());
        Assert.Equal(1, task.State.Cpu);
    }

    // ---- do_swap_page -------------------------------------------------------------------------------------------------

    [Fact]
    public void A_fault_on_a_swap_pte_looks_the_slot_up_and_maps_a_swap_cache_hit_where_it_is_as_a_minor_fault()
    {
        var task = NewTask();
        task.Map(10);
        task.Unmap(10, ignoreYoung: true);

        task.Call(new Touch(Addr, 1, Write: false));

        var lookup = task.Rig.SwapProbe.ExpectMsg<SwapDevice.LookupSwapCache>();
        Assert.Equal((task.Actor, task.Pid), (lookup.Task, lookup.TaskId));
        Assert.Equal([SwapSlot], lookup.Slots);
        Assert.Equal([Vpn], lookup.Vpns);
        task.Rig.Send(task.Actor, new Node.SwapCacheMapped(lookup.Token,
            [new Node.MappedSwapPage(SwapSlot, 10, task.LastWritten(Vpn))]));

        var free = task.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapFreeAfterSwapIn>();
        Assert.Equal([SwapSlot], free.Slots);
        Assert.Equal([10], free.Pfns);
        var result = task.Result();
        Assert.Equal((1L, 1L, 0L), (result.Ret, result.Faults, result.MajorFaults));
        Assert.Equal(Pte.Present(10, write: false, young: true), task.Pte(Vpn));
        Assert.Empty(task.Rig.Machine.DataViolations);
    }

    [Fact]
    public void A_swap_cache_miss_reads_the_slot_into_a_page_allocated_under_the_policy_in_force_and_counts_a_major_fault()
    {
        var task = NewTask();
        task.Map(10);
        task.Unmap(10, ignoreYoung: true);
        task.Call(new Touch(Addr, 1, Write: false));
        var lookup = task.Rig.SwapProbe.ExpectMsg<SwapDevice.LookupSwapCache>();

        task.Rig.Send(task.Actor, new SwapDevice.SwapCacheMiss(lookup.Token, [SwapSlot], [Vpn], ClusterStart: [0], ClusterCount: [0]));

        var alloc = task.Rig.NodeProbes[0].ExpectMsg<Node.AllocPages>();
        Assert.Equal(Node.AllocPurpose.SwapIn, alloc.Purpose);
        Assert.Equal([new Node.AllocItem(Vpn, 0, SwapSlot)], alloc.Items);
        task.Rig.Send(task.Actor, new Node.SwapCacheMapped(alloc.Token,
            [new Node.MappedSwapPage(SwapSlot, 12, task.LastWritten(Vpn))]));
        task.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapFreeAfterSwapIn>();
        var result = task.Result();
        Assert.Equal((1L, 1L), (result.Faults, result.MajorFaults));
        Assert.Equal(12, task.Pte(Vpn).Pfn);
    }

    // ---- rounds back to back: the task reuses its per-round lists, sets and groupings ------------------------------

    [Fact]
    public void Write_faults_of_two_chunks_back_to_back_ask_each_interleave_node_for_exactly_their_own_pages()
    {
        var task = new TaskUnderTest(NewRig(SmallMachine.Settings() with { FaultBatch = 4 }));
        task.Call(new Mmap(Addr, 8));
        task.Result();
        task.Call(new SetMempolicy((int)MpolMode.Interleave, NodeMask.Of(0, 1), MaxNode: 3, NodemaskFault: false));
        Assert.Equal(Errno.None, task.Result().Errno);

        task.Call(new Touch(Addr, 8, Write: true));

        // Chunk 1: one message per node (offset_il_node: even pages on node 0, odd on node 1), answered node 1 first.
        var first0 = task.Rig.NodeProbes[0].ExpectMsg<Node.AllocPages>();
        var first1 = task.Rig.NodeProbes[1].ExpectMsg<Node.AllocPages>();
        Assert.Equal([Vpn, Vpn + 2], first0.Items.Select(i => i.Vpn));
        Assert.Equal([Vpn + 1, Vpn + 3], first1.Items.Select(i => i.Vpn));
        task.Allocated(first1, 65, 67);
        task.Rig.NodeProbes[0].ExpectNoMsg(TimeSpan.Zero);
        task.Allocated(first0, 10, 12);
        // Chunk 2 asks for its own pages only: nothing of chunk 1 is left in the reused grouping.
        var second0 = task.Rig.NodeProbes[0].ExpectMsg<Node.AllocPages>();
        var second1 = task.Rig.NodeProbes[1].ExpectMsg<Node.AllocPages>();
        Assert.Equal([Vpn + 4, Vpn + 6], second0.Items.Select(i => i.Vpn));
        Assert.Equal([Vpn + 5, Vpn + 7], second1.Items.Select(i => i.Vpn));
        task.Allocated(second0, 14, 16);
        task.Allocated(second1, 69, 71);

        Assert.Equal(8L, task.Result().Ret);
        Assert.Equal([10, 65, 12, 67, 14, 69, 16, 71], Enumerable.Range(0, 8).Select(k => task.Pte(Vpn + (ulong)k).Pfn));
        var stored = new[] { first0, first1, second0, second1 }.SelectMany(a => a.Items).ToDictionary(i => (ulong)i.Vpn, i => i.Contents);
        Assert.All(stored, kv => Assert.Equal(kv.Value, task.LastWritten(kv.Key)));
    }

    [Fact]
    public void A_round_of_swap_faults_whose_slots_run_against_the_page_order_maps_each_hit_at_its_own_page()
    {
        var task = NewTask();
        task.Map(10, 11, 12);
        int[] slots = [9, 3, 6];
        for (var k = 0; k < 3; k++)
        {
            task.Unmap(10 + k, Vpn + (uint)k, slots[k]);
        }

        task.Call(new Touch(Addr, 3, Write: false));

        var lookup = task.Rig.SwapProbe.ExpectMsg<SwapDevice.LookupSwapCache>();
        Assert.Equal(slots, lookup.Slots);
        Assert.Equal([Vpn, Vpn + 1, Vpn + 2], lookup.Vpns);
        // The hits come back in another order, on other frames.
        task.Rig.Send(task.Actor, new Node.SwapCacheMapped(lookup.Token,
        [
            new Node.MappedSwapPage(6, 22, task.LastWritten(Vpn + 2)),
            new Node.MappedSwapPage(9, 20, task.LastWritten(Vpn)),
            new Node.MappedSwapPage(3, 21, task.LastWritten(Vpn + 1)),
        ]));

        var free = task.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapFreeAfterSwapIn>();
        Assert.Equal([6, 9, 3], free.Slots);
        Assert.Equal([22, 20, 21], free.Pfns);
        var result = task.Result();
        Assert.Equal((3L, 3L, 0L), (result.Ret, result.Faults, result.MajorFaults));
        Assert.Equal([20, 21, 22], Enumerable.Range(0, 3).Select(k => task.Pte(Vpn + (ulong)k).Pfn));
        Assert.Empty(task.Rig.Machine.DataViolations);
    }

    [Fact]
    public void A_second_round_of_swap_cache_misses_reads_its_slot_though_an_earlier_round_read_the_same_slot()
    {
        var task = NewTask();
        task.Map(10);
        task.Unmap(10, ignoreYoung: true);
        ReadBackThroughAMiss(task, 12);
        // The page goes out to the same slot again; the next load misses again and must read it, not wait for a read
        // the first round made.
        task.Unmap(12, ignoreYoung: true);
        ReadBackThroughAMiss(task, 14);
        Assert.Empty(task.Rig.Machine.DataViolations);
    }

    /// <summary>A load of the page at <see cref="Addr"/> (on <see cref="SwapSlot"/>) that misses the swap cache: the slot's
    /// cluster (it and the next slot) is read into a page at <paramref name="pfn"/>, and the next slot's page beside it.</summary>
    private static void ReadBackThroughAMiss(TaskUnderTest task, int pfn)
    {
        task.Call(new Touch(Addr, 1, Write: false));
        var lookup = task.Rig.SwapProbe.ExpectMsg<SwapDevice.LookupSwapCache>();
        task.Rig.Send(task.Actor, new SwapDevice.SwapCacheMiss(lookup.Token, [SwapSlot], [Vpn], ClusterStart: [SwapSlot], ClusterCount: [2]));

        var alloc = task.Rig.NodeProbes[0].ExpectMsg<Node.AllocPages>();
        Assert.Equal([new Node.AllocItem(Vpn, 0, SwapSlot, Node.SwapInKind.ReadaheadFault),
            new Node.AllocItem(Vpn + 1, 0, SwapSlot + 1, Node.SwapInKind.Readahead)], alloc.Items);
        task.Rig.Send(task.Actor, new Node.SwapCacheMapped(alloc.Token,
        [
            new Node.MappedSwapPage(SwapSlot, pfn, task.LastWritten(Vpn), Node.SwapInKind.ReadaheadFault),
            new Node.MappedSwapPage(SwapSlot + 1, pfn + 1, 0, Node.SwapInKind.Readahead),
        ]));
        Assert.Equal([SwapSlot], task.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapFreeAfterSwapIn>().Slots);
        var result = task.Result();
        Assert.Equal((1L, 1L), (result.Faults, result.MajorFaults));
        Assert.Equal(Pte.Present(pfn, write: false, young: true), task.Pte(Vpn));
    }

    [Fact]
    public void A_load_that_does_not_see_what_the_task_last_stored_is_reported_to_the_data_checker()
    {
        var task = NewTask();
        task.Map(10);
        task.Unmap(10, ignoreYoung: true);
        task.Call(new Touch(Addr, 1, Write: false));
        var lookup = task.Rig.SwapProbe.ExpectMsg<SwapDevice.LookupSwapCache>();

        task.Rig.Send(task.Actor, new Node.SwapCacheMapped(lookup.Token,
            [new Node.MappedSwapPage(SwapSlot, 10, task.LastWritten(Vpn) + 1)]));

        task.Result();
        Assert.Equal(
            [$"task {task.Pid} (task) read 0x{task.LastWritten(Vpn) + 1:x8} at 0x{Addr:x}, last wrote 0x{task.LastWritten(Vpn):x8}"],
            task.Rig.Machine.DataViolations);
    }

    // ---- exit -----------------------------------------------------------------------------------------------------------

    [Fact]
    public void Exit_releases_pages_at_their_nodes_and_swap_entries_at_the_swap_device_then_the_task_answers_as_a_zombie()
    {
        var task = NewTask();
        task.Map(10, 70);
        task.Unmap(70, ignoreYoung: true);

        task.Call(new Exit());

        // exit_mmap drains this CPU's pagevecs first and waits for every node to have the pages on its lists.
        var drain = task.Rig.NodeProbes[0].ExpectMsg<Node.LruAddDrain>();
        Assert.Equal((0, task.Actor), (drain.Cpu, drain.ReplyTo));
        Assert.Equal([0, 1], drain.AckNodes);
        Assert.False(task.Rig.SwapProbe.HasMessages);
        task.Rig.Send(task.Actor, new Node.LruAddDrained(drain.Token, 0));
        task.Rig.Send(task.Actor, new Node.LruAddDrained(drain.Token, 1));
        var free = task.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapFree>();
        Assert.Equal([SwapSlot], free.Slots);
        Assert.True(free.FreeCache);
        var zap = task.Rig.NodeProbes[0].ExpectMsg<Node.ZapPages>();
        Assert.Equal((task.Actor, task.Pid), (zap.ReplyTo, zap.Task));
        Assert.Equal([10], zap.Pfns);
        Assert.False(task.Caller.HasMessages);
        task.Rig.Send(task.Actor, new Node.ZapPagesDone(zap.Token));

        Assert.Equal(SyscallResult.Ok(), task.Result());
        Assert.True(task.State.Exited);
        Assert.Equal([UnmapOutcome.NotMapped], ((UnmapResult)task.TryToUnmap(10, ignoreYoung: true).Message).Outcomes);
        task.Call(new SchedSetaffinity(1));
        Assert.Equal(SyscallResult.Fail(Errno.ESRCH), task.Result());
    }

    // ---- 2.6.16 migrate_pages_to / migrate_pages ------------------------------------------------------------------------

    [Fact]
    public void Under_2_6_16_a_page_busy_in_every_pass_is_tried_in_passes_0_to_10_then_its_target_is_freed_and_it_is_put_back()
    {
        var task = new TaskUnderTest(NewRig(SmallMachine.Settings(KernelProfile.Linux2616)));
        task.Map(10);

        task.Call(new Mbind(Addr, MmConstants.PageSize, (int)MpolMode.Bind, NodeMask.Of(1), MaxNode: 3, NodemaskFault: false,
            (int)MpolFlags.Move));

        // check_range: swap is there, and lru_add_drain_all() waits for every CPU's drain at every node.
        var info = task.Rig.SwapProbe.ExpectMsg<SwapDevice.GetSwapInfo>();
        task.Rig.Send(task.Actor, new SwapDevice.SwapInfo(info.Token, 16, 16));
        for (var cpu = 0; cpu < SmallMachine.Nodes * SmallMachine.CpusPerNode; cpu++)
        {
            var drain = task.Rig.NodeProbes[cpu / SmallMachine.CpusPerNode].ExpectMsg<Node.LruAddDrain>();
            Assert.Equal(cpu, drain.Cpu);
            task.Rig.Send(task.Actor, new Node.LruAddDrained(drain.Token, 0));
            task.Rig.Send(task.Actor, new Node.LruAddDrained(drain.Token, 1));
        }
        var isolate = task.Rig.NodeProbes[0].ExpectMsg<Node.IsolateLruPages>();
        Assert.Equal([10], isolate.Pfns);
        task.Rig.Send(task.Actor, new Node.IsolateLruPagesResult(isolate.Token, 0, [10], [Node.IsolateOutcome.Isolated]));
        // migrate_pages_to: one new page under the VMA's new policy, BIND {1}.
        var alloc = task.Rig.NodeProbes[1].ExpectMsg<Node.AllocPages>();
        Assert.Equal(Node.AllocPurpose.MigrateTarget, alloc.Purpose);
        task.Rig.Send(task.Actor, new Node.PagesAllocated(alloc.Token, [new Node.AllocatedPage(alloc.Items[0].Vpn, 70)]));
        // migrate_pages: "if (retry && pass++ < 10) goto redo" — passes 0 to 10, the page -EAGAIN in each; no copy, and
        // no fallback to swap_page() for an anonymous page (swapper_space has a migratepage method).
        for (var pass = 0; pass <= 10; pass++)
        {
            var request = task.Rig.NodeProbes[0].ExpectMsg<Node.MigrateSwapCachePass>();
            Assert.Equal(pass, request.Pass);
            Assert.Equal([10], request.Pfns);
            task.Rig.Send(task.Actor, new Node.MigratePassResult(request.Token, 0, [10], [Node.MigrateVerdict.Retry], [-(int)Errno.EAGAIN]));
        }
        // The unused new page is freed at once (__free_page), the page put back through CPU 0's pagevec.
        var release = task.Rig.NodeProbes[1].ExpectMsg<Node.ReleaseMigrationTargets>();
        Assert.Equal([70], release.Pfns);
        Assert.Equal(-1, release.Cpu);
        var putback = task.Rig.NodeProbes[0].ExpectMsg<Node.PutbackLruPages>();
        Assert.Equal([10], putback.Pfns);
        Assert.Equal((0, true), (putback.PagevecCpu, putback.DropReference));
        Assert.False(task.Rig.NodeProbes[0].HasMessages);
        task.Rig.Send(task.Actor, new Node.PutbackDone(putback.Token, 0, 1));

        var result = task.Result();
        Assert.Equal((0L, Errno.None), (result.Ret, result.Errno));   // no MPOL_MF_STRICT: the page left behind is no error
        Assert.Equal((11, 0L, 1L, 1L), (result.Migration!.Passes, result.Migration.Evicted, result.Migration.Failed, result.Migration.PutBack));
    }

    // ---- with the whole machine ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("v2")]
    [InlineData("2.6.16")]
    public void Swapout_evicts_every_touched_page_to_swap_and_the_next_loads_read_back_what_was_stored(string profile)
    {
        var (rig, task, caller) = BootWithTouchedPages(KernelProfile.ByName(profile)!, pages: 6);

        // The pages are still in CPU 0's pagevec: V2 drains inside isolate_lru_page, 2.6.16 before the walk.
        task.Tell(new Swapout(Addr, 6), caller.Ref);
        rig.RunUntil(() => caller.HasMessages);

        var swapout = caller.ExpectMsg<SyscallResult>();
        Assert.Equal((0L, Errno.None), (swapout.Ret, swapout.Errno));
        Assert.Equal((6L, 6L, 0L), (swapout.Migration!.Isolated, swapout.Migration.Evicted, swapout.Migration.Failed));
        rig.Send(task, new QueryPages(Addr, 6), caller.Ref);
        Assert.Equal(6L, caller.ExpectMsg<PagesReport>().Swapped);

        task.Tell(new Touch(Addr, 6, Write: false), caller.Ref);
        rig.RunUntil(() => caller.HasMessages);

        Assert.Equal(6L, caller.ExpectMsg<SyscallResult>().Ret);
        rig.Send(task, new QueryPages(Addr, 6), caller.Ref);
        Assert.Equal(0L, caller.ExpectMsg<PagesReport>().Swapped);
        Assert.Empty(rig.Machine.DataViolations);
        Assert.Empty(rig.Machine.Bugs);
    }

    [Fact]
    public void Under_v1_pages_still_in_the_callers_own_cpu_pagevec_are_never_isolated_and_each_fires_the_WARN_ON()
    {
        var (rig, task, caller) = BootWithTouchedPages(KernelProfile.V1, pages: 3);

        task.Tell(new Swapout(Addr, 3), caller.Ref);
        rig.RunUntil(() => caller.HasMessages);

        var stats = caller.ExpectMsg<SyscallResult>().Migration!;
        Assert.Equal((0L, 3L, 0L, 3L), (stats.Isolated, stats.FailPagevec, stats.Evicted, stats.Warnings));
        Assert.All(rig.Machine.Trace.Warnings(), w => Assert.Equal("mm/mempolicy.c:check_pte_range", w.Site));
        Assert.Equal(3, rig.Node(0).Pagevecs.Single(p => p.Cpu == 0).LruAddActive.Count);
    }

    // ---- rig --------------------------------------------------------------------------------------------------------------

    [Fact]
    public void A_try_to_unmap_that_arrives_while_fork_copies_the_page_table_waits_until_the_copy_is_done()
    {
        var task = NewTask();
        task.Map(10);
        task.Call(new Fork("child"));
        var create = task.Rig.KernelProbe.ExpectMsg<KernelRoot.CreateTask>();

        var token = task.Rig.NextToken();
        task.Rig.Send(task.Actor, new NumaTask.TryToUnmap(token, task.Rig.NodeProbes[0].Ref, [new UnmapItem(10, Vpn, SwapSlot)], IgnoreYoung: true));
        task.Rig.Settle();
        Assert.False(task.Rig.SwapProbe.HasMessages);

        task.Rig.Send(task.Actor, new KernelRoot.TaskCreated(create.Token, create.State.Pid, task.Rig.NewProbe("child").Ref));
        var dup = task.Rig.NodeProbes[0].ExpectMsg<Node.PageDupRmap>();
        Assert.False(task.Rig.SwapProbe.HasMessages);
        task.Rig.Send(task.Actor, new Node.PageDupRmapDone(dup.Token));

        Assert.Equal(create.State.Pid, task.Result().ChildPid);
        var unmapped = (UnmapResult)task.Rig.SwapProbe.ExpectMsg<SwapDevice.SwapDuplicateAndForward>().Message;
        Assert.Equal((token, UnmapOutcome.Unmapped), (unmapped.Token, unmapped.Outcomes.Single()));
    }

    [Fact]
    public void Do_migrate_pages_from_another_task_waits_while_a_syscall_holds_mmap_sem_for_writing()
    {
        var task = NewTask();
        task.Call(new Mmap(Addr, 4));
        task.Result();
        task.Call(new Fork("child"));   // holds mmap_sem for writing until the child exists
        var create = task.Rig.KernelProbe.ExpectMsg<KernelRoot.CreateTask>();

        var migrator = task.Rig.NewProbe("migrator");
        var token = task.Rig.NextToken();
        task.Rig.Send(task.Actor, new DoMigratePages(token, migrator.Ref, new NodeMask(1), new NodeMask(2), MpolFlags.Move));
        task.Rig.Settle();
        // Not even begun: no answer, no lru_add_drain_all, no swap-space check.
        Assert.False(migrator.HasMessages || task.Rig.SwapProbe.HasMessages || task.Rig.NodeProbes.Any(p => p.HasMessages));

        task.Rig.Send(task.Actor, new KernelRoot.TaskCreated(create.Token, create.State.Pid, task.Rig.NewProbe("child").Ref));
        Assert.Equal(create.State.Pid, task.Result().ChildPid);
        var done = migrator.ExpectMsg<MigratePagesDone>();
        Assert.Equal((token, 0L), (done.Token, done.NotMoved));
    }

    private TaskUnderTest NewTask() => new(NewRig());

    /// <summary>A booted machine whose task on CPU 0 has stored to <paramref name="pages"/> pages at <see cref="Addr"/>,
    /// which still sit in CPU 0's pagevec.</summary>
    private (KernelRig Rig, IActorRef Task, TestProbe Caller) BootWithTouchedPages(KernelProfile profile, int pages)
    {
        var rig = NewRig(SmallMachine.Settings(profile));
        var caller = rig.NewProbe("caller");
        rig.Send(rig.BootRoot(), new KernelRoot.SpawnTask("worker", Cpu: 0, SysNice: false), caller.Ref);
        var task = caller.ExpectMsg<KernelRoot.TaskSpawned>().Task;
        rig.Send(task, new Mmap(Addr, pages), caller.Ref);
        rig.Send(task, new Touch(Addr, pages, Write: true), caller.Ref);
        Assert.Equal((long)Addr, caller.ExpectMsg<SyscallResult>().Ret);
        Assert.Equal(pages, caller.ExpectMsg<SyscallResult>().Ret);
        return (rig, task, caller);
    }

    /// <summary>A real task on CPU 0 among probes, and the steps that bring its page table into shape.</summary>
    private sealed class TaskUnderTest
    {
        public TaskUnderTest(KernelRig rig)
        {
            Rig = rig;
            (Pid, Actor) = rig.SpawnTask(cpu: 0);
            Caller = rig.NewProbe("caller");
        }

        public KernelRig Rig { get; }
        public int Pid { get; }
        public IActorRef Actor { get; }
        /// <summary>The process that makes the syscalls: it receives their results.</summary>
        public TestProbe Caller { get; }
        public TaskState State => Rig.Task(Pid);

        public Pte Pte(ulong vpn) => State.PageTable.Get(vpn);
        public uint LastWritten(ulong vpn) => State.PageTable.LastWritten(vpn);

        public void Call(Syscall call) => Rig.Send(Actor, call, Caller.Ref);

        public SyscallResult Result() => Caller.ExpectMsg<SyscallResult>();

        /// <summary>The node's answer to a write fault's allocation: the given frames, in item order.</summary>
        public void Allocated(Node.AllocPages alloc, params int[] pfns) =>
            Rig.Send(Actor, new Node.PagesAllocated(alloc.Token,
                alloc.Items.Select((item, k) => new Node.AllocatedPage(item.Vpn, pfns[k])).ToArray()));

        /// <summary>mmap of a region at <see cref="Addr"/> and a store to its first pages, which land on
        /// <paramref name="pfns"/> (node 0's or node 1's by number); the PTEs are young, dirty and writable.</summary>
        public void Map(params int[] pfns)
        {
            Call(new Mmap(Addr, 8));
            Result();
            Call(new Touch(Addr, pfns.Length, Write: true));
            Allocated(Rig.NodeProbes[0].ExpectMsg<Node.AllocPages>(), pfns);
            Assert.Equal(pfns.Length, Result().Ret);
        }

        /// <summary>try_to_unmap_one on <paramref name="pfn"/> as a node's swapout pass would ask for it, at the page the
        /// task maps it at (or at <see cref="Vpn"/> when no PTE maps it any more).</summary>
        public SwapDevice.SwapDuplicateAndForward TryToUnmap(int pfn, bool ignoreYoung)
        {
            var vpn = State.PageTable.Entries().Where(e => e.Pte.IsPresent && e.Pte.Pfn == pfn).Select(e => e.Vpn)
                .DefaultIfEmpty(Vpn).Single();
            return TryToUnmap(pfn, (uint)vpn, ignoreYoung);
        }

        private SwapDevice.SwapDuplicateAndForward TryToUnmap(int pfn, uint vpn, bool ignoreYoung, int slot = SwapSlot)
        {
            var token = Rig.NextToken();
            Rig.Send(Actor, new NumaTask.TryToUnmap(token, Rig.NodeProbes[0].Ref, [new UnmapItem(pfn, vpn, slot)], ignoreYoung));
            return Rig.SwapProbe.ExpectMsg<SwapDevice.SwapDuplicateAndForward>(m => ((UnmapResult)m.Message).Token == token);
        }

        /// <summary>The page at <paramref name="pfn"/> goes out: its PTE becomes <see cref="SwapSlot"/>.</summary>
        public void Unmap(int pfn, bool ignoreYoung) =>
            Assert.Equal([UnmapOutcome.Unmapped], ((UnmapResult)TryToUnmap(pfn, ignoreYoung).Message).Outcomes);

        /// <summary>The page at <paramref name="pfn"/>, mapped at <paramref name="vpn"/>, goes out to <paramref name="slot"/>.</summary>
        public void Unmap(int pfn, uint vpn, int slot) =>
            Assert.Equal([UnmapOutcome.Unmapped], ((UnmapResult)TryToUnmap(pfn, vpn, ignoreYoung: true, slot).Message).Outcomes);

        public PageReferencedResult PageReferenced(TestProbe node, int[] pfns)
        {
            var token = Rig.NextToken();
            var vpns = pfns.Select(p => (uint)State.PageTable.Entries().Single(e => e.Pte.IsPresent && e.Pte.Pfn == p).Vpn).ToArray();
            Rig.Send(Actor, new NumaTask.PageReferenced(token, node.Ref, pfns, vpns));
            return node.ExpectMsg<PageReferencedResult>(m => m.Token == token);
        }
    }
}

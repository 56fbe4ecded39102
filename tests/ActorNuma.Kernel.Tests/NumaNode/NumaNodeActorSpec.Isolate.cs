using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel.Tests;

/// <summary>V2 <c>isolate_lru_page</c> (the locked part) and <c>putback_lru_pages</c> in each profile's form
/// (mm/vmscan.c, the seed's patch and 2.6.16).</summary>
public sealed partial class NumaNodeActorSpec
{
    [Fact]
    public void Isolating_a_page_on_the_lru_clears_PG_lru_keeps_PG_active_and_takes_a_reference()
    {
        var node = NewNode();
        var pfns = node.FaultOntoLru(Task1, node.Cpu(), 2);

        var result = node.Isolate(pfns);

        Assert.Equal(0, result.Node);
        Assert.Equal(pfns, result.Pfns);
        Assert.Equal([IsolateOutcome.Isolated, IsolateOutcome.Isolated], result.Outcomes);
        Assert.All(pfns, p =>
        {
            Assert.False(node.Test(p, PageFlags.Lru));
            Assert.True(node.Test(p, PageFlags.Active));
            Assert.Equal(2, node.Count(p));
            Assert.Equal((FramePlace.Isolated, (int)Isolator.Migration), (node.Place(p), node.Owner(p)));
        });
        Assert.Equal(0, node.Memory.NrActive);
    }

    [Fact]
    public void A_page_still_in_a_cpu_pagevec_is_not_isolated_and_the_reason_is_InPagevec()
    {
        var node = NewNode();
        var pfn = node.Fault(Task1, node.Cpu(), 1).Single();

        var result = node.Isolate([pfn]);

        Assert.Equal([IsolateOutcome.InPagevec], result.Outcomes);
        Assert.Equal(FramePlace.Pagevec, node.Place(pfn));
        Assert.Equal(2, node.Count(pfn));
    }

    [Fact]
    public void A_page_isolated_already_is_not_isolated_again_and_the_reason_is_IsolatedElsewhere()
    {
        var node = NewNode();
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();

        var result = node.Isolate([pfn]);

        Assert.Equal([IsolateOutcome.IsolatedElsewhere], result.Outcomes);
        Assert.Equal(2, node.Count(pfn));
    }

    [Fact]
    public void The_zero_page_is_not_an_lru_page()
    {
        var node = NewNode();

        var result = node.Isolate([node.Rig.Topology.ZeroPfn]);

        Assert.Equal([IsolateOutcome.NotLru], result.Outcomes);
        Assert.Equal(FramePlace.Reserved, node.Place(0));
    }

    [Fact]
    public void A_page_mapped_by_two_tasks_is_left_on_the_lru_as_Shared_when_the_caller_skips_shared_pages()
    {
        var node = NewNode();
        var pfns = node.FaultOntoLru(Task1, node.Cpu(), 2);
        node.DupRmap(Task2, pfns[0]);

        var skipping = node.Isolate(pfns, skipShared: true);

        Assert.Equal([IsolateOutcome.Shared, IsolateOutcome.Isolated], skipping.Outcomes);
        Assert.True(node.Test(pfns[0], PageFlags.Lru));
        Assert.Equal([IsolateOutcome.Isolated], node.Isolate([pfns[0]], skipShared: false).Outcomes);
    }

    [Fact]
    public void A_page_whose_last_reference_dropped_before_its_release_ran_is_BeingFreed_and_is_freed_afterwards()
    {
        var node = NewNode();
        var pfn = node.FaultOntoLru(Task1, node.Cpu(), 1).Single();
        var free = node.Memory.FreePages;
        var token = node.Rig.NextToken();

        // The zap drops the last reference of an LRU page; __page_cache_release runs as a later step of the node, and
        // the isolation queued before it finds the count at zero (get_page_testone true: rc -1).
        node.Actor.Tell(new ZapPages(node.Rig.NextToken(), null, Task1, [pfn]), Akka.Actor.ActorRefs.NoSender);
        node.Actor.Tell(new IsolateLruPages(token, node.Replies.Ref, [pfn], false), Akka.Actor.ActorRefs.NoSender);
        node.Rig.Settle();

        Assert.Equal([IsolateOutcome.BeingFreed], node.Replies.ExpectMsg<IsolateLruPagesResult>().Outcomes);
        Assert.Equal(FramePlace.Free, node.Place(pfn));
        Assert.Equal(free + 1, node.Memory.FreePages);
    }

    // ---- putback_lru_pages ------------------------------------------------------------------------------------------

    [Fact]
    public void V2_putback_returns_the_page_to_its_list_but_keeps_the_isolation_reference()
    {
        var node = NewNode();
        var pfns = node.FaultAndIsolate(Task1, node.Cpu(), 2);
        var token = node.Rig.NextToken();

        node.Send(new PutbackLruPages(token, node.Replies.Ref, pfns, KernelProfile.V2.PutbackDropsReference, PagevecCpu: -1));

        Assert.Equal(new PutbackDone(token, 0, 2), node.Replies.ExpectMsg<PutbackDone>());
        Assert.All(pfns, p =>
        {
            Assert.Equal(PageFlags.Lru | PageFlags.Active, node.Flags(p) & (PageFlags.Lru | PageFlags.Active));
            Assert.Equal(FramePlace.Lru, node.Place(p));
            Assert.Equal(2, node.Count(p));   // the leak Magnus Damm reported on 18 Oct 2005
        });
        Assert.Equal(2, node.Memory.NrActive);
    }

    [Fact]
    public void V2_fixed_putback_drops_the_isolation_reference()
    {
        var node = NewNode();
        var pfns = node.FaultAndIsolate(Task1, node.Cpu(), 2);

        node.Send(new PutbackLruPages(node.Rig.NextToken(), node.Replies.Ref, pfns,
            KernelProfile.V2Fixed.PutbackDropsReference, PagevecCpu: -1));

        node.Replies.ExpectMsg<PutbackDone>();
        Assert.All(pfns, p =>
        {
            Assert.True(node.Test(p, PageFlags.Lru));
            Assert.Equal(1, node.Count(p));
        });
    }

    [Fact]
    public void V2_fixed_putback_frees_a_page_whose_mapping_went_away_while_it_was_isolated()
    {
        var node = NewNode();
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        node.Send(new ZapPages(node.Rig.NextToken(), null, Task1, [pfn]));
        var free = node.Memory.FreePages;

        node.Send(new PutbackLruPages(node.Rig.NextToken(), node.Replies.Ref, [pfn], DropReference: true, PagevecCpu: -1));

        node.Replies.ExpectMsg<PutbackDone>();
        Assert.Equal(FramePlace.Free, node.Place(pfn));
        Assert.Equal(free + 1, node.Memory.FreePages);
    }

    [Fact]
    public void Putback_in_2_6_16_goes_through_the_cpu_pagevec_so_the_page_is_not_PG_lru_until_that_cpu_drains()
    {
        var node = NewNode(SmallMachine.Settings(KernelProfile.Linux2616));
        var cpu = node.Cpu();
        var pfn = node.FaultAndIsolate(Task1, cpu, 1).Single();
        var token = node.Rig.NextToken();

        node.Send(new PutbackLruPages(token, node.Replies.Ref, [pfn], KernelProfile.Linux2616.PutbackDropsReference, cpu));

        Assert.Equal(new PutbackDone(token, 0, 1), node.Replies.ExpectMsg<PutbackDone>());
        Assert.False(node.Test(pfn, PageFlags.Lru));
        Assert.False(node.Test(pfn, PageFlags.Active));   // move_to_lru: ClearPageActive, then lru_cache_add_active
        Assert.True(node.Pagevecs(cpu).LruAddActive.Contains(pfn));
        Assert.Equal((FramePlace.Pagevec, cpu), (node.Place(pfn), node.Owner(pfn)));
        Assert.Equal(2, node.Count(pfn));   // the isolation reference became the pagevec's
        Assert.Equal([IsolateOutcome.InPagevec], node.Isolate([pfn]).Outcomes);

        node.Drain(cpu);

        Assert.True(node.Test(pfn, PageFlags.Lru) && node.Test(pfn, PageFlags.Active));
        Assert.Equal(1, node.Count(pfn));
    }

    [Fact]
    public void Putback_in_2_6_16_sends_an_inactive_page_to_the_inactive_vector()
    {
        var node = NewNode(SmallMachine.Settings(KernelProfile.Linux2616));
        node.Send(new AllocPages(node.Rig.NextToken(), node.Replies.Ref, Task1, 2, NodeUnderTest.Items(1), [1, 0], 1,
            AllocPass.Low, false, AllocPurpose.AnonFault));
        var pfn = node.Rig.NodeProbes[1].ExpectMsg<LruCacheAdd>().Pfns.Single();
        node.Send(new PagevecLruAdd([pfn], Active: false, Cpu: 2, 0, null));
        node.Isolate([pfn]);

        node.Send(new PutbackLruPages(node.Rig.NextToken(), node.Replies.Ref, [pfn], true, node.Cpu(1)));

        Assert.True(node.Pagevecs(node.Cpu(1)).LruAdd.Contains(pfn));
        Assert.Equal(0, node.Pagevecs(node.Cpu(1)).LruAddActive.Count);
    }

    [Fact]
    public void Putback_in_2_6_16_through_a_cpu_of_another_node_hands_the_pages_to_that_nodes_pagevec()
    {
        var node = NewNode(SmallMachine.Settings(KernelProfile.Linux2616));
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();

        node.Send(new PutbackLruPages(node.Rig.NextToken(), node.Replies.Ref, [pfn], true, PagevecCpu: 2));

        var add = node.Rig.NodeProbes[1].ExpectMsg<LruCacheAdd>();
        Assert.Equal((2, true, null, null), (add.Cpu, add.Active, add.ReplyTo, add.Reply));
        Assert.Equal([pfn], add.Pfns);
        Assert.Equal((FramePlace.Pagevec, 2), (node.Place(pfn), node.Owner(pfn)));
    }
}

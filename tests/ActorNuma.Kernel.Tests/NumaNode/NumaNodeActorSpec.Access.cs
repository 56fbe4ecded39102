using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel.Tests;

/// <summary>What tasks ask of a node's frames: loads and stores, the reuse test of <c>do_wp_page</c>, fork's
/// <c>page_dup_rmap</c> and <c>zap_pte_range</c>.</summary>
public sealed partial class NumaNodeActorSpec
{
    [Fact]
    public void AccessPages_stores_into_and_loads_from_the_frames_and_the_zero_page_always_reads_zero()
    {
        var node = NewNode();
        var pfn = node.Fault(Task1, node.Cpu(), 1).Single();
        var token = node.Rig.NextToken();

        node.Send(new AccessPages(token, node.Replies.Ref,
            [new AccessItem(pfn, Write: true, 0x1234), new AccessItem(pfn, Write: false, 0), new AccessItem(0, Write: true, 7)]));

        var accessed = node.Replies.ExpectMsg<PagesAccessed>();
        Assert.Equal(token, accessed.Token);
        Assert.Equal([0x1234u, 0x1234u, 0u], accessed.Values);
    }

    [Fact]
    public void A_write_fault_on_a_page_its_only_mapper_holds_reuses_the_page()
    {
        var node = NewNode();
        var pfn = node.FaultOntoLru(Task1, node.Cpu(), 1).Single();
        var token = node.Rig.NextToken();

        node.Send(new WpPage(token, node.Replies.Ref, Task1, pfn));

        Assert.Equal(new WpPageReply(token, pfn, Reuse: true, NodeUnderTest.ContentsFor(0x100)), node.Replies.ExpectMsg<WpPageReply>());
    }

    [Fact]
    public void A_write_fault_on_a_page_that_fork_shared_copies_it()
    {
        var node = NewNode();
        var pfn = node.FaultOntoLru(Task1, node.Cpu(), 1).Single();
        node.DupRmap(Task2, pfn);

        node.Send(new WpPage(node.Rig.NextToken(), node.Replies.Ref, Task2, pfn));

        Assert.False(node.Replies.ExpectMsg<WpPageReply>().Reuse);
        Assert.Equal((2, 2), (node.Mapcount(pfn), node.Count(pfn)));
    }

    [Fact]
    public void A_write_fault_on_the_zero_page_or_on_a_locked_page_copies_it()
    {
        var node = NewNode();
        var pfn = node.FaultAndIsolate(Task1, node.Cpu(), 1).Single();
        node.Rig.StandInTask(Task1);
        node.Send(new SwapoutPass(node.Rig.NextToken(), node.Replies.Ref, 0, [pfn], false, 3));   // holds PG_locked

        node.Send(new WpPage(node.Rig.NextToken(), node.Replies.Ref, Task1, 0));
        node.Send(new WpPage(node.Rig.NextToken(), node.Replies.Ref, Task1, pfn));

        Assert.False(node.Replies.ExpectMsg<WpPageReply>().Reuse);
        Assert.False(node.Replies.ExpectMsg<WpPageReply>().Reuse);
    }

    [Fact]
    public void A_write_fault_on_a_swap_cache_page_leaves_can_share_swap_page_to_the_swap_device_which_knows_the_slot()
    {
        var node = NewNode();
        var pfn = MappedSwapCachePage(node);
        var token = node.Rig.NextToken();

        node.Send(new WpPage(token, node.Replies.Ref, Task1, pfn));

        Assert.Equal(new SwapDevice.CanShareSwapPage(token, node.Replies.Ref, Slot, pfn, Mapcount: 1, NodeUnderTest.ContentsFor(0x100)),
            node.Rig.SwapProbe.ExpectMsg<SwapDevice.CanShareSwapPage>());
        Assert.False(node.Replies.HasMessages);
    }

    [Fact]
    public void PageDupRmap_gives_each_page_one_more_mapping_and_reference_and_skips_the_zero_page()
    {
        var node = NewNode();
        var pfn = node.FaultOntoLru(Task1, node.Cpu(), 1).Single();

        node.DupRmap(Task2, pfn, 0);

        Assert.Equal((2, 2), (node.Mapcount(pfn), node.Count(pfn)));
        Assert.Equal([Task1, Task2], node.Memory.Mappers(node.Memory.Index(pfn)));
        Assert.Equal((0, 1), (node.Mapcount(0), node.Count(0)));
    }

    [Fact]
    public void ZapPages_of_the_last_mapping_of_a_swap_cache_page_offers_the_page_back_to_the_swap_device()
    {
        var node = NewNode();
        var pfn = MappedSwapCachePage(node);
        var token = node.Rig.NextToken();

        node.Send(new ZapPages(token, node.Replies.Ref, Task1, [pfn]));

        Assert.Equal(new ZapPagesDone(token), node.Replies.ExpectMsg<ZapPagesDone>());
        Assert.Equal(new SwapDevice.OfferSwapCache(Slot, pfn, ExpectedCount: 1), node.Rig.SwapProbe.ExpectMsg<SwapDevice.OfferSwapCache>());
        Assert.Equal((0, 1), (node.Mapcount(pfn), node.Count(pfn)));
    }

    [Fact]
    public void ZapPages_of_the_last_mapping_of_an_lru_page_frees_it_in_a_later_step()
    {
        var node = NewNode();
        var pfn = node.FaultOntoLru(Task1, node.Cpu(), 1).Single();
        var free = node.Memory.FreePages;

        node.Send(new ZapPages(node.Rig.NextToken(), null, Task1, [pfn]));

        Assert.Equal(FramePlace.Free, node.Place(pfn));
        Assert.Equal((free + 1, 0), (node.Memory.FreePages, node.Memory.NrActive));
        Assert.Equal(0, node.State.PendingReleases);
    }
}

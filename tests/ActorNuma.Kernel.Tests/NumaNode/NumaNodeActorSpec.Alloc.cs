using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel.Tests;

/// <summary>2.6.14 <c>__alloc_pages</c> walking a zonelist, and <c>zone_statistics</c>.</summary>
public sealed partial class NumaNodeActorSpec
{
    [Fact]
    public void AllocPages_allocates_while_free_pages_stay_above_pages_low_and_forwards_the_rest_to_the_next_zonelist_node()
    {
        var node = NewNode();
        var low = node.Memory.Watermarks.PagesLow;
        var allocatable = node.Memory.FreePages - low;
        var items = NodeUnderTest.Items(allocatable + 3);
        var token = node.Rig.NextToken();

        node.Send(new AllocPages(token, node.Replies.Ref, Task1, node.Cpu(), items, [0, 1], 0, AllocPass.Low, false,
            AllocPurpose.AnonFault));

        var allocated = node.Replies.ExpectMsg<PagesAllocated>();
        Assert.Equal(token, allocated.Token);
        Assert.Equal(items[..allocatable].Select(i => i.Vpn), allocated.Pages.Select(p => p.Vpn));
        Assert.Equal(low, node.Memory.FreePages);
        var forwarded = node.Rig.NodeProbes[1].ExpectMsg<AllocPages>();
        Assert.Equal(token, forwarded.Token);
        Assert.Equal(node.Replies.Ref, forwarded.ReplyTo);
        Assert.Equal(items[allocatable..], forwarded.Items);
        Assert.Equal(1, forwarded.ZonelistIndex);
        Assert.Equal(AllocPass.Low, forwarded.Pass);
    }

    [Fact]
    public void AllocPages_answers_AllocFailed_with_what_is_left_when_this_node_ends_the_zonelist()
    {
        var node = NewNode();
        var allocatable = node.Memory.FreePages - node.Memory.Watermarks.PagesLow;
        var items = NodeUnderTest.Items(allocatable + 2);
        var token = node.Rig.NextToken();

        // Node 1's zonelist, already forwarded once: node 0 is its last entry.
        node.Send(new AllocPages(token, node.Replies.Ref, Task1, 2, items, [1, 0], 1, AllocPass.Low, false,
            AllocPurpose.AnonFault));

        var failed = node.Replies.ExpectMsg<AllocFailed>();
        Assert.Equal(token, failed.Token);
        Assert.Equal(items[allocatable..], failed.Items);
        Assert.Equal(AllocPass.Low, failed.Pass);
        Assert.Equal(allocatable, node.Rig.NodeProbes[1].ExpectMsg<LruCacheAdd>().Pfns.Length);
    }

    [Fact]
    public void The_pages_min_pass_allocates_down_to_pages_min()
    {
        var node = NewNode();
        var wm = node.Memory.Watermarks;
        var items = NodeUnderTest.Items(node.Memory.FreePages);
        var token = node.Rig.NextToken();

        node.Send(new AllocPages(token, node.Replies.Ref, Task1, node.Cpu(), items, [1, 0], 1, AllocPass.Min, false,
            AllocPurpose.AnonFault));

        Assert.Equal(wm.PagesMin, node.Memory.FreePages);
        Assert.Equal(items.Length - (node.Memory.Pages - 1 - wm.PagesMin), node.Replies.ExpectMsg<AllocFailed>().Items.Length);
    }

    [Fact]
    public void A_node_at_its_watermark_forwards_the_whole_request()
    {
        var node = NewNode();
        node.Fault(Task1, node.Cpu(), node.Memory.FreePages - node.Memory.Watermarks.PagesLow);
        var token = node.Rig.NextToken();

        node.Send(new AllocPages(token, node.Replies.Ref, Task1, node.Cpu(), NodeUnderTest.Items(2, 0x900), [0, 1], 0,
            AllocPass.Low, false, AllocPurpose.AnonFault));

        Assert.Equal(2, node.Rig.NodeProbes[1].ExpectMsg<AllocPages>(m => m.Token == token).Items.Length);
        Assert.False(node.Replies.HasMessages);
    }

    [Fact]
    public void A_new_anonymous_page_holds_the_stored_data_is_referenced_mapped_once_and_sits_in_the_faulting_cpus_pagevec()
    {
        var node = NewNode();

        var pfn = node.Fault(Task1, node.Cpu(1), 1, firstVpn: 0x42).Single();

        Assert.Equal(NodeUnderTest.ContentsFor(0x42), node.Contents(pfn));
        Assert.Equal(PageFlags.Uptodate | PageFlags.Referenced, node.Flags(pfn));
        Assert.Equal(1, node.Mapcount(pfn));
        Assert.Equal(2, node.Count(pfn));   // the mapping's and the pagevec's
        Assert.Equal(FramePlace.Pagevec, node.Place(pfn));
        Assert.Equal(node.Cpu(1), node.Owner(pfn));
        Assert.True(node.Pagevecs(node.Cpu(1)).LruAddActive.Contains(pfn));
    }

    [Fact]
    public void A_page_allocated_for_a_cpu_of_another_node_goes_to_that_nodes_pagevec_which_completes_the_fault()
    {
        var node = NewNode();
        var token = node.Rig.NextToken();

        node.Send(new AllocPages(token, node.Replies.Ref, Task1, 2, NodeUnderTest.Items(2), [1, 0], 1, AllocPass.Low, false,
            AllocPurpose.AnonFault));

        var add = node.Rig.NodeProbes[1].ExpectMsg<LruCacheAdd>();
        Assert.Equal(2, add.Cpu);
        Assert.True(add.Active);
        Assert.Equal(node.Replies.Ref, add.ReplyTo);
        var reply = Assert.IsType<PagesAllocated>(add.Reply);
        Assert.Equal(token, reply.Token);
        Assert.Equal(add.Pfns, reply.Pages.Select(p => p.Pfn));
        Assert.All(add.Pfns, p => Assert.Equal((FramePlace.Pagevec, 2), (node.Place(p), node.Owner(p))));
        Assert.False(node.Replies.HasMessages);
    }

    [Fact]
    public void A_local_allocation_counts_numa_hit_and_local_node()
    {
        var node = NewNode();

        node.Fault(Task1, node.Cpu(), 3);

        Assert.Equal((3, 0, 3, 0), (node.Stat(VmEvent.NumaHit), node.Stat(VmEvent.NumaMiss),
            node.Stat(VmEvent.LocalNode), node.Stat(VmEvent.OtherNode)));
        Assert.All(node.State.ForeignFor, f => Assert.Equal(0, f));
    }

    [Fact]
    public void A_page_placed_off_the_zonelist_head_counts_numa_miss_here_and_numa_foreign_against_the_head()
    {
        var node = NewNode();

        node.Send(new AllocPages(node.Rig.NextToken(), node.Replies.Ref, Task1, 2, NodeUnderTest.Items(3), [1, 0], 1,
            AllocPass.Low, false, AllocPurpose.AnonFault));

        Assert.Equal((0, 3, 0, 3), (node.Stat(VmEvent.NumaHit), node.Stat(VmEvent.NumaMiss),
            node.Stat(VmEvent.LocalNode), node.Stat(VmEvent.OtherNode)));
        Assert.Equal(3, node.State.ForeignFor[1]);
        Assert.Equal(0, node.State.ForeignFor[0]);
    }

    [Fact]
    public void Local_or_other_node_follows_the_allocating_cpu_not_the_zonelist()
    {
        var node = NewNode();

        // A CPU of node 1 allocating with node 0 at the head (MPOL_BIND to node 0, say): a hit, but not local.
        node.Send(new AllocPages(node.Rig.NextToken(), node.Replies.Ref, Task1, 2, NodeUnderTest.Items(2), [0, 1], 0,
            AllocPass.Low, false, AllocPurpose.AnonFault));

        Assert.Equal((2, 0, 0, 2), (node.Stat(VmEvent.NumaHit), node.Stat(VmEvent.NumaMiss),
            node.Stat(VmEvent.LocalNode), node.Stat(VmEvent.OtherNode)));
    }

    [Fact]
    public void Interleave_hit_counts_only_interleaved_pages_that_came_from_the_chosen_node()
    {
        var node = NewNode();

        node.Send(new AllocPages(node.Rig.NextToken(), node.Replies.Ref, Task1, node.Cpu(), NodeUnderTest.Items(2), [0, 1], 0,
            AllocPass.Low, Interleave: true, AllocPurpose.AnonFault));
        node.Send(new AllocPages(node.Rig.NextToken(), node.Replies.Ref, Task1, node.Cpu(), NodeUnderTest.Items(3, 0x200),
            [1, 0], 1, AllocPass.Low, Interleave: true, AllocPurpose.AnonFault));

        Assert.Equal(2, node.Stat(VmEvent.InterleaveHit));
        Assert.Equal((2, 3), (node.Stat(VmEvent.NumaHit), node.Stat(VmEvent.NumaMiss)));
    }

    [Fact]
    public void GetNodeInfo_answers_the_sender_with_free_pages_lru_sizes_and_watermarks()
    {
        var node = NewNode();
        node.FaultOntoLru(Task1, node.Cpu(), 3);
        var asker = node.Rig.NewProbe("asker");

        node.Rig.Send(node.Actor, new GetNodeInfo(7), asker.Ref);

        var info = asker.ExpectMsg<NodeInfo>();
        Assert.Equal((7L, 0, 60, 3, 0), (info.Token, info.Node, info.FreePages, info.NrActive, info.NrInactive));
        Assert.Equal(node.Rig.Machine.Settings.WatermarksOf(0), info.Watermarks);
    }
}

using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel.Tests;

/// <summary>The per-CPU pagevecs of mm/swap.c: <c>lru_cache_add[_active]</c>, <c>__pagevec_lru_add</c>,
/// <c>lru_add_drain</c> (mm/swap.c, 2.6.16).</summary>
public sealed partial class NumaNodeActorSpec
{
    [Fact]
    public void LruCacheAdd_keeps_pages_in_the_cpu_pagevec_until_the_fourteenth_fills_it_and_flushes_all_onto_the_active_list()
    {
        var node = NewNode();
        var cpu = node.Cpu();

        var first = node.Fault(Task1, cpu, Pagevec.PagevecSize - 1);

        Assert.Equal(13, node.Pagevecs(cpu).LruAddActive.Count);
        Assert.All(first, p => Assert.False(node.Test(p, PageFlags.Lru)));
        Assert.Equal(0, node.Memory.NrActive);

        var last = node.Fault(Task1, cpu, 1, firstVpn: 0x200);

        Assert.Equal(0, node.Pagevecs(cpu).Count);
        Assert.Equal(14, node.Memory.NrActive);
        Assert.All(first.Concat(last), p =>
        {
            Assert.Equal(PageFlags.Lru | PageFlags.Active, node.Flags(p) & (PageFlags.Lru | PageFlags.Active));
            Assert.Equal(FramePlace.Lru, node.Place(p));
            Assert.Equal(1, node.Count(p));   // release_pages dropped the vector's reference
        });
    }

    [Fact]
    public void A_full_pagevec_is_split_by_node_own_pages_go_on_this_nodes_list_and_the_others_to_their_node_with_PagevecLruAdd()
    {
        var node = NewNode();
        var cpu = node.Cpu(1);
        var own = node.Fault(Task1, cpu, 7);
        int[] remote = [64, 65, 66, 67, 68, 69, 70];

        node.Send(new LruCacheAdd(cpu, remote, Active: true, node.Replies.Ref, "added"));

        node.Replies.ExpectMsg("added");
        var add = node.Rig.NodeProbes[1].ExpectMsg<PagevecLruAdd>();
        Assert.Equal(remote, add.Pfns);
        Assert.Equal((true, cpu, 0L, null), (add.Active, add.Cpu, add.Token, add.AckTo));
        Assert.All(own, p => Assert.Equal(FramePlace.Lru, node.Place(p)));
        Assert.Equal(0, node.Pagevecs(cpu).Count);
    }

    [Fact]
    public void LruCacheAdd_of_fewer_than_fourteen_pages_sends_nothing_to_their_node_but_still_answers()
    {
        var node = NewNode();

        node.Send(new LruCacheAdd(node.Cpu(), [64, 65], Active: false, node.Replies.Ref, "added"));

        node.Replies.ExpectMsg("added");
        Assert.Equal([64, 65], node.Pagevecs(node.Cpu()).LruAdd.Pages.ToArray());
        Assert.False(node.Rig.NodeProbes[1].HasMessages);
    }

    [Fact]
    public void LruAddDrain_flushes_the_inactive_vector_before_the_active_one_and_only_the_last_flush_asks_for_acknowledgements()
    {
        var node = NewNode();
        var cpu = node.Cpu();
        var own = node.Fault(Task1, cpu, 2);
        node.Send(new LruCacheAdd(cpu, [64, 65], Active: false, null, null));
        node.Send(new LruCacheAdd(cpu, [66], Active: true, null, null));
        var token = node.Rig.NextToken();

        node.Send(new LruAddDrain(cpu, token, node.Replies.Ref, [0, 1]));

        var node1 = node.Rig.NodeProbes[1];
        var inactive = node1.ExpectMsg<PagevecLruAdd>();
        Assert.Equal([64, 65], inactive.Pfns);
        Assert.Equal((false, 0L, null), (inactive.Active, inactive.Token, inactive.AckTo));
        var active = node1.ExpectMsg<PagevecLruAdd>();
        Assert.Equal([66], active.Pfns);
        Assert.Equal((true, token, node.Replies.Ref), (active.Active, active.Token, active.AckTo));
        Assert.Equal(new LruAddDrained(token, 0), node.Replies.ExpectMsg<LruAddDrained>());
        Assert.All(own, p => Assert.True(node.Test(p, PageFlags.Lru)));
        Assert.Equal(0, node.Pagevecs(cpu).Count);
        Assert.Equal(1, node.Stat(VmEvent.EmuLruAddDrain));
    }

    [Fact]
    public void Every_node_named_in_AckNodes_is_asked_to_acknowledge_even_when_the_drain_held_none_of_its_pages()
    {
        var node = NewNode();
        var token = node.Rig.NextToken();

        node.Send(new LruAddDrain(node.Cpu(1), token, node.Replies.Ref, [0, 1]));

        var ask = node.Rig.NodeProbes[1].ExpectMsg<PagevecLruAdd>();
        Assert.Empty(ask.Pfns);
        Assert.Equal((token, node.Replies.Ref), (ask.Token, ask.AckTo));
        Assert.Equal(new LruAddDrained(token, 0), node.Replies.ExpectMsg<LruAddDrained>());
        Assert.False(node.Replies.HasMessages);
    }

    [Fact]
    public void A_node_left_out_of_AckNodes_gets_its_pages_without_a_request_to_acknowledge()
    {
        var node = NewNode();
        node.Send(new LruCacheAdd(node.Cpu(), [64], Active: true, null, null));
        var token = node.Rig.NextToken();

        node.Send(new LruAddDrain(node.Cpu(), token, node.Replies.Ref, [0]));

        Assert.Null(node.Rig.NodeProbes[1].ExpectMsg<PagevecLruAdd>().AckTo);
        Assert.Equal(new LruAddDrained(token, 0), node.Replies.ExpectMsg<LruAddDrained>());
    }

    [Fact]
    public void PagevecLruAdd_from_another_nodes_cpu_puts_the_pages_on_the_list_drops_the_vectors_reference_and_acknowledges()
    {
        var node = NewNode();
        node.Send(new AllocPages(node.Rig.NextToken(), node.Replies.Ref, Task1, 2, NodeUnderTest.Items(2), [1, 0], 1,
            AllocPass.Low, false, AllocPurpose.AnonFault));
        var pfns = node.Rig.NodeProbes[1].ExpectMsg<LruCacheAdd>().Pfns;
        var token = node.Rig.NextToken();

        node.Send(new PagevecLruAdd(pfns, Active: false, Cpu: 2, token, node.Replies.Ref));

        Assert.Equal(new LruAddDrained(token, 0), node.Replies.ExpectMsg<LruAddDrained>());
        Assert.All(pfns, p =>
        {
            Assert.Equal(PageFlags.Lru, node.Flags(p) & (PageFlags.Lru | PageFlags.Active));
            Assert.Equal(1, node.Count(p));
        });
        Assert.Equal((0, 2), (node.Memory.NrActive, node.Memory.NrInactive));
    }

    [Fact]
    public void A_page_whose_last_user_left_while_it_sat_in_a_pagevec_is_freed_when_the_vector_drains()
    {
        var node = NewNode();
        var pfn = node.Fault(Task1, node.Cpu(), 1).Single();
        var free = node.Memory.FreePages;
        node.Send(new ZapPages(node.Rig.NextToken(), node.Replies.Ref, Task1, [pfn]));
        node.Replies.ExpectMsg<ZapPagesDone>();
        Assert.Equal(1, node.Count(pfn));

        node.Drain(node.Cpu());

        Assert.Equal(FramePlace.Free, node.Place(pfn));
        Assert.Equal(free + 1, node.Memory.FreePages);
    }

    [Fact]
    public void The_acknowledgements_of_a_drain_come_after_the_drained_pages_are_on_the_remote_nodes_lists()
    {
        // Two real nodes: node 1 allocates for CPU 0, so its pages wait in a pagevec that node 0 owns.
        var rig = NewRig();
        var node0 = rig.SpawnNode(0);
        var node1 = rig.SpawnNode(1);
        var replies = rig.NewProbe("replies");
        rig.Send(node1, new AllocPages(rig.NextToken(), replies.Ref, Task1, 0, NodeUnderTest.Items(3), [1, 0], 0,
            AllocPass.Low, false, AllocPurpose.AnonFault));
        var pfns = replies.ExpectMsg<PagesAllocated>().Pages.Select(p => p.Pfn).ToArray();
        var token = rig.NextToken();

        node0.Tell(new LruAddDrain(0, token, replies.Ref, [0, 1]), Akka.Actor.ActorRefs.NoSender);
        var acked = new List<int>();
        var onListWhenAcked = false;
        while (rig.Pump.RunOne())
        {
            while (replies.HasMessages)
            {
                var ack = replies.ExpectMsg<LruAddDrained>();
                acked.Add(ack.Node);
                var memory = rig.Node(1).Memory;
                if (ack.Node == 1)
                {
                    onListWhenAcked = pfns.All(p => memory.Test(memory.Index(p), PageFlags.Lru));
                }
            }
        }

        Assert.Equal([0, 1], acked.Order());
        Assert.True(onListWhenAcked);
    }
}

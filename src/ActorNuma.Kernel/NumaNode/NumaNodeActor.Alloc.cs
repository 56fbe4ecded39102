using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

public sealed partial class NumaNodeActor
{
    /// <summary>One node's turn in <c>get_page_from_freelist</c>-style zonelist walking of 2.6.14 <c>__alloc_pages</c>:
    /// allocate while <c>zone_watermark_ok</c> holds for the pass's mark, forward the rest along the zonelist.</summary>
    /// <remarks>Kernel: mm/page_alloc.c __alloc_pages(), buffered_rmqueue(), zone_statistics(). A node that is offline
    /// or going offline gives nothing and forwards everything (see <see cref="RefusesAllocation"/>).</remarks>
    private void HandleAllocPages(AllocPages m)
    {
        if (RefusesAllocation)
        {
            ForwardRest(m, m.Items);
            return;
        }

        var mark = m.Pass switch
        {
            AllocPass.Low => _m.Watermarks.PagesLow,
            AllocPass.Min => _m.Watermarks.PagesMin,
            _ => _m.Watermarks.PagesHigh,
        };
        var taken = 0;
        var swapIn = m.Purpose == AllocPurpose.SwapIn;
        // Built at the request's size (and cut only when the watermark stops the allocation short): no list grown and
        // copied per request. A swap-in keeps the frames it got, in item order, for StartSwapIns.
        var pages = swapIn ? [] : new AllocatedPage[m.Items.Length];
        var swapInPfns = swapIn ? new int[m.Items.Length] : [];
        while (taken < m.Items.Length && Watermarks.ZoneWatermarkOk(_m.FreePages, mark))
        {
            var item = m.Items[taken];
            var idx = _m.AllocFrame();
            if (swapIn)
            {
                swapInPfns[taken] = Pfn(idx);
            }
            else if (m.Purpose == AllocPurpose.MigrateTarget)
            {
                pages[taken] = new AllocatedPage(item.Vpn, Pfn(idx));
            }
            else
            {
                pages[taken] = PrepareAnonPage(m, item, idx);
            }
            taken++;
        }
        if (taken > 0)
        {
            CountZoneStatistics(m, taken);
            Trace.Emit("mm_page_alloc", $"node={_node} task={m.Task} cpu={m.Cpu} nr={taken} pass={m.Pass} purpose={m.Purpose} free={_m.FreePages}");
        }

        if (taken < m.Items.Length)
        {
            ForwardRest(m, m.Items[taken..]);
            if (!swapIn)
            {
                pages = pages[..taken];
            }
        }

        if (taken > 0 && m.Purpose == AllocPurpose.MigrateTarget)
        {
            m.ReplyTo.Tell(new PagesAllocated(m.Token, pages));
        }
        else if (taken > 0 && !swapIn)
        {
            AddToFaultingCpuPagevec(m.Cpu, pages, m.ReplyTo, new PagesAllocated(m.Token, pages));
        }

        if (taken > 0 && swapIn)
        {
            StartSwapIns(m, taken == swapInPfns.Length ? swapInPfns : swapInPfns[..taken]);
        }
    }

    private void ForwardRest(AllocPages m, AllocItem[] rest)
    {
        var next = m.ZonelistIndex + 1;
        if (next < m.Zonelist.Length)
        {
            NodeRef(m.Zonelist[next]).Tell(m with { Items = rest, ZonelistIndex = next });
        }
        else
        {
            m.ReplyTo.Tell(new AllocFailed(m.Token, rest, m.Pass));
        }
    }

    /// <summary><c>zone_statistics(zonelist, z)</c>: hit or miss against the zonelist's first zone, foreign on that zone's
    /// node, local or other against the allocating CPU's node; <c>interleave_hit</c> when an interleave allocation came
    /// from its chosen node's first zone. Every page of one request counts alike, so <paramref name="pages"/> are counted
    /// at once.</summary>
    private void CountZoneStatistics(AllocPages m, int pages)
    {
        var intended = m.Zonelist[0];
        if (intended == _node)
        {
            _m.Stat.Count(VmEvent.NumaHit, pages);
        }
        else
        {
            _m.Stat.Count(VmEvent.NumaMiss, pages);
            _state.ForeignCounts[intended] += pages;
        }
        _m.Stat.Count(Topology.CpuToNode(m.Cpu) == _node ? VmEvent.LocalNode : VmEvent.OtherNode, pages);
        if (m.Interleave && intended == _node)
        {
            _m.Stat.Count(VmEvent.InterleaveHit, pages);
        }
    }

    /// <summary><c>do_anonymous_page</c> / <c>do_wp_page</c> after the allocation: the page holds the data the store
    /// put there, is referenced (<c>SetPageReferenced</c>), mapped once (<c>page_add_anon_rmap</c>) and about to enter the
    /// faulting CPU's lru_add_active pagevec, whose reference it carries.</summary>
    private AllocatedPage PrepareAnonPage(AllocPages m, AllocItem item, int idx)
    {
        _m.SetContents(idx, item.Contents);
        _m.Set(idx, PageFlags.Uptodate | PageFlags.Referenced);
        _m.AddRmap(idx, m.Task, item.Vpn);
        _m.GetPage(idx);
        _m.SetPlace(idx, FramePlace.Pagevec, m.Cpu);
        return new AllocatedPage(item.Vpn, Pfn(idx));
    }

    /// <summary><c>lru_cache_add_active</c> on the faulting CPU: locally when this node owns that CPU, else through
    /// the CPU's node, which then completes the fault.</summary>
    private void AddToFaultingCpuPagevec(int cpu, AllocatedPage[] pages, IActorRef replyTo, object reply)
    {
        var cpuNode = Topology.CpuToNode(cpu);
        if (cpuNode == _node)
        {
            // HandleLruCacheAdd without the message: the pages go into this node's CPU's vector straight from the reply.
            var pvec = _pagevecs[cpu].LruAddActive;
            foreach (var page in pages)
            {
                AddToPagevec(cpu, pvec, active: true, page.Pfn);
            }

            replyTo.Tell(reply);
            return;
        }

        var pfns = new int[pages.Length];
        for (var k = 0; k < pfns.Length; k++)
        {
            pfns[k] = pages[k].Pfn;
        }

        NodeRef(cpuNode).Tell(new LruCacheAdd(cpu, pfns, Active: true, replyTo, reply));
    }
}

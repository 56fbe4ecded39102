using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

// The node's LRU side of migration: isolate_lru_page and putback_lru_pages.
public sealed partial class NumaNodeActor
{
    /// <summary>The locked part of <c>isolate_lru_page</c> for each page, with the reason of every failure.</summary>
    /// <remarks>Kernel: V2 1/2 mm/vmscan.c isolate_lru_page(); 2.6.16-rc2 migrate_page_add() for the sharing test.</remarks>
    private void HandleIsolate(IsolateLruPages m)
    {
        var outcomes = new IsolateOutcome[m.Pfns.Length];
        var isolated = 0;
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            outcomes[k] = IsolateOne(idx, m.SkipShared);
            if (outcomes[k] == IsolateOutcome.Isolated)
            {
                isolated++;
            }
        }
        Trace.Emit("mm_vmscan_lru_isolate", $"node={_node} isolator=migration nr_requested={m.Pfns.Length} nr_taken={isolated}");
        m.ReplyTo.Tell(new IsolateLruPagesResult(m.Token, _node, m.Pfns, outcomes));
    }

    private IsolateOutcome IsolateOne(int idx, bool skipShared)
    {
        if (skipShared && _m.Mapcount(idx) > 1)
        {
            return IsolateOutcome.Shared;
        }

        var place = _m.Place(idx);
        return _m.IsolateLruPage(idx, Isolator.Migration) switch
        {
            IsolateRc.Isolated => IsolateOutcome.Isolated,
            IsolateRc.BeingFreed => IsolateOutcome.BeingFreed,
            _ => place switch
            {
                FramePlace.Pagevec => IsolateOutcome.InPagevec,
                FramePlace.Isolated => IsolateOutcome.IsolatedElsewhere,
                _ => IsolateOutcome.NotLru,
            },
        };
    }

    /// <summary><c>putback_lru_pages</c> as the profile has it: V2 straight onto the lists keeping the isolation
    /// reference (the leak), the fix with <c>put_page</c>, 2.6.16 through the caller's pagevec (<c>move_to_lru</c>).</summary>
    private void HandlePutback(PutbackLruPages m)
    {
        ForgetSwapPtes(m.Pfns);
        var putBack = 0;
        if (m.PagevecCpu >= 0)
        {
            putBack = PutbackThroughPagevec(m);
        }
        else
        {
            foreach (var pfn in m.Pfns)
            {
                var idx = Idx(pfn);
                if (_m.PutbackLruPage(idx))
                {
                    putBack++;
                }
                else
                {
                    throw new InvalidOperationException($"putback_lru_pages: pfn {pfn} already PG_lru (BUG)");
                }

                if (m.DropReference)
                {
                    PutPage(idx);
                }
            }
        }

        Trace.Emit("mm_migrate_putback", $"node={_node} nr={putBack} drop_ref={(m.DropReference ? 1 : 0)} pagevec_cpu={m.PagevecCpu}");
        m.ReplyTo?.Tell(new PutbackDone(m.Token, _node, putBack));
    }

    /// <summary>2.6.16 <c>move_to_lru</c>: PG_active cleared and the page handed to <c>lru_cache_add[_active]</c> (which
    /// takes the pagevec's reference), then <c>put_page</c> of the isolation reference.</summary>
    private int PutbackThroughPagevec(PutbackLruPages m)
    {
        var active = new List<int>();
        var inactive = new List<int>();
        foreach (var pfn in m.Pfns)
        {
            var idx = Idx(pfn);
            (_m.TestAndClear(idx, PageFlags.Active) ? active : inactive).Add(pfn);
            _m.SetPlace(idx, FramePlace.Pagevec, m.PagevecCpu);
            _m.GetPage(idx);
            PutPage(idx);
        }
        var cpuNode = NodeRef(Topology.CpuToNode(m.PagevecCpu));
        if (inactive.Count > 0)
        {
            cpuNode.Tell(new LruCacheAdd(m.PagevecCpu, inactive.ToArray(), false, null, null));
        }

        if (active.Count > 0)
        {
            cpuNode.Tell(new LruCacheAdd(m.PagevecCpu, active.ToArray(), true, null, null));
        }

        return m.Pfns.Length;
    }
}

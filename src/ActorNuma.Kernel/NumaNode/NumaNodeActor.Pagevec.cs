using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>The per-CPU pagevecs of this node's CPUs: <c>lru_cache_add[_active]</c>, their flush to the LRU lists of
/// the pages' nodes (<c>__pagevec_lru_add[_active]</c>) and <c>lru_add_drain()</c>.</summary>
/// <remarks>Kernel: mm/swap.c.</remarks>
public sealed partial class NumaNodeActor
{
    /// <summary><c>lru_cache_add[_active]</c> on one of this node's CPUs: each page goes into the vector, and a full
    /// vector is flushed at once (<c>__pagevec_lru_add[_active]</c>).</summary>
    /// <remarks>Kernel: mm/swap.c lru_cache_add(), lru_cache_add_active().</remarks>
    private void HandleLruCacheAdd(LruCacheAdd m)
    {
        var pvecs = _pagevecs[m.Cpu];
        var pvec = m.Active ? pvecs.LruAddActive : pvecs.LruAdd;
        AddToPagevec(m.Cpu, pvec, m.Active, m.Pfns);
        if (m.DrainAfter)
        {
            _m.Stat.Count(VmEvent.EmuLruAddDrain);
            DrainPagevecs(m.Cpu, pvecs);
            AddToPagevec(m.Cpu, pvec, m.Active, m.AfterDrain);
        }
        if (m.ReplyTo is not null && m.Reply is not null)
        {
            m.ReplyTo.Tell(m.Reply);
        }
    }

    /// <summary><c>lru_cache_add[_active]</c> of each page in turn on one of this node's CPUs.</summary>
    private void AddToPagevec(int cpu, Pagevec pvec, bool active, ReadOnlySpan<int> pfns)
    {
        foreach (var pfn in pfns)
        {
            AddToPagevec(cpu, pvec, active, pfn);
        }
    }

    /// <summary><c>lru_cache_add[_active]</c>: a vector the page fills is flushed at once.</summary>
    private void AddToPagevec(int cpu, Pagevec pvec, bool active, int pfn)
    {
        if (pvec.Add(pfn) == 0)
        {
            FlushPagevec(cpu, pvec, active, token: 0, ackTo: null, ackNodes: []);
        }
    }

    /// <summary>Empties a vector: its pages go to their nodes' LRU lists. Nodes in <paramref name="ackNodes"/> get a
    /// message even when the vector holds none of their pages, so that a drain can wait for all of them.</summary>
    private void FlushPagevec(int cpu, Pagevec pvec, bool active, long token, IActorRef? ackTo, int[] ackNodes)
    {
        Span<int> held = stackalloc int[Pagevec.PagevecSize];
        held = held[..pvec.DrainInto(held)];
        if (ackNodes.Length == 0 && held.Length > 0 && OnOneNode(held) is var only and >= 0)
        {
            // The usual case, a full vector of one node's pages and nobody to acknowledge: one message, no grouping (and
            // for this node's own pages not even an array).
            if (only == _node)
            {
                PagevecLruAddToLists(held, active, cpu, token, ackTo: null);
            }
            else
            {
                NodeRef(only).Tell(new PagevecLruAdd(held.ToArray(), active, cpu, token, null));
            }

            return;
        }
        var pages = held.ToArray();
        var byNode = pages.GroupBy(Topology.PfnToNid).ToDictionary(g => g.Key, g => g.ToArray());
        foreach (var n in ackNodes)
        {
            byNode.TryAdd(n, []);
        }

        foreach (var (node, pfns) in byNode.OrderBy(kv => kv.Key))
        {
            var ack = ackNodes.Contains(node) ? ackTo : null;
            if (node == _node)
            {
                PagevecLruAddToLists(pfns, active, cpu, token, ack);
            }
            else
            {
                NodeRef(node).Tell(new PagevecLruAdd(pfns, active, cpu, token, ack));
            }
        }
    }

    /// <summary>The node of every page, or -1 when they span nodes.</summary>
    private int OnOneNode(ReadOnlySpan<int> pfns)
    {
        var node = Topology.PfnToNid(pfns[0]);
        for (var k = 1; k < pfns.Length; k++)
        {
            if (Topology.PfnToNid(pfns[k]) != node)
            {
                return -1;
            }
        }

        return node;
    }

    /// <summary><c>__pagevec_lru_add[_active]</c> then <c>release_pages</c> for this node's pages.</summary>
    private void HandlePagevecLruAdd(PagevecLruAdd m) => PagevecLruAddToLists(m.Pfns, m.Active, m.Cpu, m.Token, m.AckTo);

    /// <summary>The same for a vector this node flushes into its own lists: no message to itself.</summary>
    private void PagevecLruAddToLists(ReadOnlySpan<int> pfns, bool active, int cpu, long token, IActorRef? ackTo)
    {
        foreach (var pfn in pfns)
        {
            var idx = Idx(pfn);
            if (_m.Place(idx) != FramePlace.Pagevec || _m.Owner(idx) != cpu)
            {
                throw new InvalidOperationException(
                    $"__pagevec_lru_add: pfn {pfn} comes from cpu {cpu}'s pagevec but node {_node} has it in {_m.Place(idx)}");
            }

            _m.AddToLru(idx, active);
            // release_pages(): the vector's reference; a page whose last user left meanwhile is freed right here.
            if (_m.PutPage(idx) == PutResult.ReleasePending)
            {
                _m.PageCacheRelease(idx);
            }
        }
        if (ackTo is not null)
        {
            ackTo.Tell(new LruAddDrained(token, _node));
        }
    }

    /// <summary><c>lru_add_drain()</c> on one of this node's CPUs, as run by an IPI (V1/V2 isolate_lru_page), by
    /// keventd (<c>lru_add_drain_all</c>) or by the CPU itself.</summary>
    /// <remarks>Kernel: mm/swap.c lru_add_drain().</remarks>
    private void HandleLruAddDrain(LruAddDrain m)
    {
        var pvecs = _pagevecs[m.Cpu];
        var held = pvecs.Count;
        _m.Stat.Count(VmEvent.EmuLruAddDrain);
        Trace.Emit("lru_add_drain", $"cpu={m.Cpu} pages={held}");
        // The inactive vector first, then the active one, as lru_add_drain() does. Only the second flush carries the
        // acknowledgements: per-pair message order makes them arrive after the first flush's pages.
        FlushPagevec(m.Cpu, pvecs.LruAdd, active: false, 0, null, []);
        FlushPagevec(m.Cpu, pvecs.LruAddActive, active: true, m.Token, m.ReplyTo, m.AckNodes);
    }

    /// <summary><c>lru_add_drain()</c> on the reclaiming CPU, when this node owns it (the pagevecs of a CPU on another
    /// node were drained by the direct reclaimer before it asked).</summary>
    private void LocalLruAddDrain(int cpu)
    {
        if (cpu < 0 || !_pagevecs.TryGetValue(cpu, out var pvecs))
        {
            return;
        }

        DrainPagevecs(cpu, pvecs);
    }

    /// <summary><c>lru_add_drain()</c> with nobody to acknowledge: the inactive vector, then the active one.</summary>
    private void DrainPagevecs(int cpu, CpuPagevecs pvecs)
    {
        FlushPagevec(cpu, pvecs.LruAdd, active: false, 0, null, []);
        FlushPagevec(cpu, pvecs.LruAddActive, active: true, 0, null, []);
    }
}

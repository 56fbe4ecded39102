using System.Globalization;
using System.Text;
using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Kernel;

/// <summary>/proc/pid/numa_maps in the 2.6.18 format: one line per VMA, with the effective policy and, when any page is
/// present, the <c>gather_stats</c> counts and the pages per node.</summary>
/// <remarks>Kernel: 2.6.18 mm/mempolicy.c show_numa_map(), gather_stats(), mpol_to_str().</remarks>
public sealed partial class NumaTaskActor
{
    /// <summary>The <c>gather_stats</c> counts of one VMA.</summary>
    private sealed class NumaStats(int nodes)
    {
        public long Pages, Dirty, SwapCache, Active, Writeback, MapMax;
        public long[] PerNode { get; } = new long[nodes];
    }

    /// <summary>Pages described per DescribePages message: the arrays stay small (no large-object allocation per
    /// report), however large a VMA is.</summary>
    private const int DescribeChunk = 8192;

    /// <summary>Walks each VMA's present PTEs and asks the pages' nodes for the counts of their flags and their largest
    /// mapcount, a chunk at a time per node, adding each answer into the VMA's counts as it comes; the lines are written
    /// when the last is in.</summary>
    private void GatherNumaMaps(IActorRef replyTo)
    {
        // A snapshot: the counts are matched to VMAs by position, and a syscall in flight may change the list before
        // the nodes answer.
        var vmas = _state.OwnVmas.All.ToArray();
        var stats = new NumaStats?[vmas.Length];
        var requests = new List<(int Node, int Vma, int[] Pfns, bool[] PteDirty)>();
        var pending = new (List<int> Pfns, List<bool> Dirty)?[Topology.Nodes];
        void Send(int node, int vma)
        {
            if (pending[node] is not { } p || p.Pfns.Count == 0)
            {
                return;
            }

            requests.Add((node, vma, p.Pfns.ToArray(), p.Dirty.ToArray()));
            p.Pfns.Clear();
            p.Dirty.Clear();
        }
        for (var v = 0; v < vmas.Length; v++)
        {
            var vma = vmas[v];
            foreach (var (_, pte) in _state.OwnPageTable.Range(vma.Start >> MmConstants.PageShift, vma.End >> MmConstants.PageShift))
            {
                if (!pte.IsPresent || pte.Pfn == Topology.ZeroPfn)
                {
                    continue;
                }

                stats[v] ??= new NumaStats(Topology.Nodes);
                var node = Topology.PfnToNid(pte.Pfn);
                var p = pending[node] ??= (new List<int>(), new List<bool>());
                p.Pfns.Add(pte.Pfn);
                p.Dirty.Add(pte.Dirty);
                if (p.Pfns.Count == DescribeChunk)
                {
                    Send(node, v);
                }
            }
            for (var node = 0; node < pending.Length; node++)
            {
                Send(node, v);
            }
        }
        var done = Join(requests.Count, () => replyTo.Tell(new NumaMapsReport(FormatNumaMaps(vmas, stats))));
        foreach (var (node, v, pfns, pteDirty) in requests)
        {
            var token = Expect<NumaNode.PagesDescribed>(d =>
            {
                var s = stats[v]!;
                s.Pages += d.Pages;
                s.Dirty += d.Dirty;
                s.SwapCache += d.SwapCache;
                s.Active += d.Active;
                s.Writeback += d.Writeback;
                s.MapMax = Math.Max(s.MapMax, d.MapMax);
                s.PerNode[node] += d.Pages;
                done();
            });
            Directory.Node(node).Tell(new NumaNode.DescribePages(token, Self, pfns, pteDirty));
        }
    }

    private IReadOnlyList<string> FormatNumaMaps(Vma[] vmas, NumaStats?[] stats)
    {
        var lines = new List<string>();
        for (var v = 0; v < vmas.Length; v++)
        {
            var policy = PolicyAllocation.EffectivePolicy(vmas[v], _state.Policy);
            var sb = new StringBuilder();
            sb.Append(vmas[v].Start.ToString("x8", CultureInfo.InvariantCulture)).Append(' ').Append(policy);
            if (stats[v] is { } s)
            {
                AppendStats(sb, s);
            }

            lines.Add(sb.ToString());
        }
        return lines;
    }

    /// <summary>show_numa_map's fields: every page here is anonymous, so anon counts them all and mapped is never
    /// printed apart.</summary>
    private static void AppendStats(StringBuilder sb, NumaStats s)
    {
        var (n, anon) = (s.Pages, s.Pages);
        if (anon > 0)
        {
            sb.Append(" anon=").Append(anon);
        }

        if (s.Dirty > 0)
        {
            sb.Append(" dirty=").Append(s.Dirty);
        }

        if (n != anon && n != s.Dirty)
        {
            sb.Append(" mapped=").Append(n);
        }

        if (s.MapMax > 1)
        {
            sb.Append(" mapmax=").Append(s.MapMax);
        }

        if (s.SwapCache > 0)
        {
            sb.Append(" swapcache=").Append(s.SwapCache);
        }

        if (s.Active < n)
        {
            sb.Append(" active=").Append(s.Active);
        }

        if (s.Writeback > 0)
        {
            sb.Append(" writeback=").Append(s.Writeback);
        }

        for (var node = 0; node < s.PerNode.Length; node++)
        {
            if (s.PerNode[node] > 0)
            {
                sb.Append(" N").Append(node).Append('=').Append(s.PerNode[node]);
            }
        }
    }
}

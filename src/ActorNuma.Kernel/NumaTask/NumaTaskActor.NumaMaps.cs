using System.Globalization;
using System.Text;
using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Kernel;

/// <summary>/proc/pid/numa_maps in the 2.6.18 format: one line per VMA, with the effective policy and, when any page is
/// present, the <c>gather_stats</c> counts and the pages per node.</summary>
/// <remarks>Kernel: 2.6.18 mm/mempolicy.c show_numa_map(), gather_stats(), mpol_to_str().</remarks>
public sealed partial class NumaTaskActor
{
    private void GatherNumaMaps(IActorRef replyTo)
    {
        var present = new List<(Vma Vma, ulong Vpn, Pte Pte)>();
        foreach (var vma in _state.Vmas.All)
            foreach (var (vpn, pte) in _state.PageTable.Range(vma.Start >> MmConstants.PageShift, vma.End >> MmConstants.PageShift))
                if (pte.IsPresent && pte.Pfn != Topology.ZeroPfn) present.Add((vma, vpn, pte));
        var flags = new Dictionary<int, (PageFlags Flags, int Mapcount)>();
        var byNode = present.GroupBy(p => Topology.PfnToNid(p.Pte.Pfn)).ToList();
        var done = Join(byNode.Count, () => replyTo.Tell(new NumaMapsReport(FormatNumaMaps(present, flags))));
        foreach (var group in byNode)
        {
            var pfns = group.Select(p => p.Pte.Pfn).Distinct().ToArray();
            RequestOnce(Directory.Node(group.Key), t => new NumaNode.DescribePages(t, Self, pfns), r =>
            {
                var d = (NumaNode.PagesDescribed)r;
                for (var k = 0; k < pfns.Length; k++) flags[pfns[k]] = (d.Flags[k], d.Mapcounts[k]);
                done();
            });
        }
    }

    private IReadOnlyList<string> FormatNumaMaps(List<(Vma Vma, ulong Vpn, Pte Pte)> present,
        Dictionary<int, (PageFlags Flags, int Mapcount)> flags)
    {
        var lines = new List<string>();
        var byVma = present.GroupBy(p => p.Vma).ToDictionary(g => g.Key, g => g.ToList());
        foreach (var vma in _state.Vmas.All)
        {
            var policy = PolicyAllocation.EffectivePolicy(vma, _state.Policy);
            var sb = new StringBuilder();
            sb.Append(vma.Start.ToString("x8", CultureInfo.InvariantCulture)).Append(' ').Append(policy);
            if (byVma.TryGetValue(vma, out var pages)) AppendStats(sb, pages, flags);
            lines.Add(sb.ToString());
        }
        return lines;
    }

    private void AppendStats(StringBuilder sb, List<(Vma Vma, ulong Vpn, Pte Pte)> pages,
        Dictionary<int, (PageFlags Flags, int Mapcount)> flags)
    {
        long n = 0, anon = 0, dirty = 0, swapcache = 0, active = 0, writeback = 0, mapmax = 0;
        var perNode = new long[Topology.Nodes];
        foreach (var (_, _, pte) in pages)
        {
            var (f, mapcount) = flags[pte.Pfn];
            n++;
            anon++;
            if (pte.Dirty || f.HasFlag(PageFlags.Dirty)) dirty++;
            if (f.HasFlag(PageFlags.SwapCache)) swapcache++;
            if (f.HasFlag(PageFlags.Active)) active++;
            if (f.HasFlag(PageFlags.Writeback)) writeback++;
            mapmax = Math.Max(mapmax, mapcount);
            perNode[Topology.PfnToNid(pte.Pfn)]++;
        }
        if (anon > 0) sb.Append(" anon=").Append(anon);
        if (dirty > 0) sb.Append(" dirty=").Append(dirty);
        if (n != anon && n != dirty) sb.Append(" mapped=").Append(n);
        if (mapmax > 1) sb.Append(" mapmax=").Append(mapmax);
        if (swapcache > 0) sb.Append(" swapcache=").Append(swapcache);
        if (active < n) sb.Append(" active=").Append(active);
        if (writeback > 0) sb.Append(" writeback=").Append(writeback);
        for (var node = 0; node < perNode.Length; node++)
            if (perNode[node] > 0) sb.Append(" N").Append(node).Append('=').Append(perNode[node]);
    }
}

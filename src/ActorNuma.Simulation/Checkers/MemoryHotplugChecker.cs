using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Checkers;

/// <summary>Retired frames stay retired and unused (PG_hwpoison only, no reference, no mapping, off the free list), and
/// a node whose memory is offline holds no page in use. A node going offline may hold any page: offline_pages is still
/// moving them.</summary>
public sealed class MemoryHotplugChecker : IInvariantChecker
{
    public string Name => "memory-hotplug";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var retired = m.RetiredFrames;
            var marked = 0;
            for (var i = 0; i < m.Pages; i++)
            {
                var place = m.Place(i);
                if (place == FramePlace.Retired)
                {
                    marked++;
                    if (m.Count(i) != 0 || m.Mapcount(i) != 0 || m.Flags(i) != PageFlags.HwPoison)
                    {
                        violations.Add($"retired pfn {m.PfnOf(i)} (node {m.Node}) is in use: count {m.Count(i)}, mapcount {m.Mapcount(i)}, flags {PageFlagNames.Format(m.Flags(i))}");
                    }
                }
                else if (node.MemoryState == NumaNode.MemoryState.Offline && place != FramePlace.Free)
                {
                    violations.Add($"node {m.Node} is offline but pfn {m.PfnOf(i)} is {PageRefcountChecker.Where(m, i)}");
                }
            }
            if (marked != retired.Count)
            {
                violations.Add($"node {m.Node}: {marked} frames marked retired, {retired.Count} on its list of retired frames");
            }
        }
        var t = machine.Topology;
        foreach (var task in machine.Tasks.Where(x => !x.Exited))
        {
            foreach (var (vpn, pte) in task.PageTable.Entries())
            {
                if (!pte.IsPresent || pte.Pfn == t.ZeroPfn)
                {
                    continue;
                }

                var node = machine.Nodes[t.PfnToNid(pte.Pfn)];
                if (node.Memory.Place(node.Memory.Index(pte.Pfn)) == FramePlace.Retired)
                {
                    violations.Add($"task {task.Pid} maps retired pfn {pte.Pfn} at vpn {vpn:x}");
                }
            }
        }
    }
}

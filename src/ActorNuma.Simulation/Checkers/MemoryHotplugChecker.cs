using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Checkers;

/// <summary>Retired frames stay retired and unused (PG_hwpoison only, no reference, no mapping, off the free list), and
/// a node whose memory is offline holds no page in use. A node going offline may hold any page: offline_pages is still
/// moving them.</summary>
public sealed class MemoryHotplugChecker : IInvariantChecker
{
    private sealed class Scratch
    {
        public readonly MachineFrames Frames = new();
        /// <summary>Per frame, machine-wide (<see cref="MachineFrames"/>): whether it is retired.</summary>
        public bool[]? Retired;
    }

    private readonly CheckerScratch<Scratch> _scratch = new();

    public string Name => "memory-hotplug";

    public void Check(KernelMachine machine, ICollection<string> violations) => _scratch.Check(machine, violations, Check);

    private static void Check(KernelMachine machine, Scratch s, ICollection<string> violations)
    {
        var frames = s.Frames;
        frames.Load(machine);
        var retiredFrames = CheckerScratch.Cleared(ref s.Retired, frames.Total);
        var anyRetired = false;
        var nodes = machine.Nodes;
        for (var n = 0; n < nodes.Count; n++)
        {
            var node = nodes[n];
            var m = node.Memory;
            var offline = node.MemoryState == NumaNode.MemoryState.Offline;
            var places = m.Places;
            var counts = m.Counts;
            var mapcounts = m.Mapcounts;
            var flags = m.FlagWords;
            var marked = 0;
            for (var i = 0; i < places.Length; i++)
            {
                var place = places[i];
                if (place == FramePlace.Retired)
                {
                    marked++;
                    retiredFrames[frames.Offset(n) + i] = true;
                    if (counts[i] != 0 || mapcounts[i] != 0 || flags[i] != (uint)PageFlags.HwPoison)
                    {
                        violations.Add($"retired pfn {m.PfnOf(i)} (node {m.Node}) is in use: count {m.Count(i)}, mapcount {m.Mapcount(i)}, flags {PageFlagNames.Format(m.Flags(i))}");
                    }
                }
                else if (offline && place != FramePlace.Free)
                {
                    violations.Add($"node {m.Node} is offline but pfn {m.PfnOf(i)} is {PageRefcountChecker.Where(m, i)}");
                }
            }
            if (marked != m.RetiredFrames.Count)
            {
                violations.Add($"node {m.Node}: {marked} frames marked retired, {m.RetiredFrames.Count} on its list of retired frames");
            }

            anyRetired |= marked > 0;
        }

        // No frame is retired (a machine without memory errors): no PTE can map one.
        if (!anyRetired)
        {
            return;
        }

        var t = machine.Topology;
        foreach (var (task, first, raw) in LivePtePages.Of(machine))
        {
            var ptes = raw.Span;
            for (var k = 0; k < ptes.Length; k++)
            {
                var pte = new Pte(ptes[k]);
                if (!pte.IsPresent || pte.Pfn == t.ZeroPfn)
                {
                    continue;
                }

                if (retiredFrames[frames.Of(pte.Pfn)])
                {
                    violations.Add($"task {task.Pid} maps retired pfn {pte.Pfn} at vpn {first + (ulong)k:x}");
                }
            }
        }
    }
}

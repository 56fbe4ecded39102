using System.Runtime.InteropServices;
using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Checkers;

/// <summary>Every frame is in exactly one place (free, an LRU list, one CPU's pagevec, isolated, in flight), and the
/// node's counters agree with its lists.</summary>
public sealed class FramePlacementChecker : IInvariantChecker
{
    private sealed class Scratch
    {
        /// <summary>The CPU of the pagevec holding each pfn, over every node's pagevecs.</summary>
        public readonly Dictionary<int, int> InPagevec = new();
        /// <summary>Per frame of one node: the CPU + 1 of the pagevec holding it, 0 for none.</summary>
        public int[]? Held;
    }

    private readonly CheckerScratch<Scratch> _scratch = new();

    public string Name => "frame-placement";

    public void Check(KernelMachine machine, ICollection<string> violations) => _scratch.Check(machine, violations, Check);

    private static void Check(KernelMachine machine, Scratch s, ICollection<string> violations)
    {
        var inPagevec = s.InPagevec;
        inPagevec.Clear();
        foreach (var node in machine.Nodes)
        {
            foreach (var cpu in node.Pagevecs)
            {
                AddPagevec(inPagevec, cpu.LruAdd.Pages, cpu.Cpu, violations);
                AddPagevec(inPagevec, cpu.LruAddActive.Pages, cpu.Cpu, violations);
            }
        }

        HashSet<int>? isolatedByTasks = null;
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var freeLength = Length(m.FreeFrames);
            if (freeLength != m.FreePages)
            {
                violations.Add($"node {m.Node}: free list holds {freeLength}, free_pages says {m.FreePages}");
            }

            var places = m.Places;
            foreach (var i in m.FreeFrames)
            {
                if (places[i] != FramePlace.Free)
                {
                    violations.Add($"pfn {m.PfnOf(i)} is on node {m.Node}'s free list but in {places[i]}");
                }
            }

            var markedFree = Count(places, FramePlace.Free);
            if (markedFree != freeLength)
            {
                violations.Add($"node {m.Node}: {markedFree} frames marked free, {freeLength} on the free list");
            }

            var active = Length(m.LruFrames(active: true));
            var inactive = Length(m.LruFrames(active: false));
            if (active != m.NrActive)
            {
                violations.Add($"node {m.Node}: nr_active {m.NrActive}, active list holds {active}");
            }

            if (inactive != m.NrInactive)
            {
                violations.Add($"node {m.Node}: nr_inactive {m.NrInactive}, inactive list holds {inactive}");
            }

            var markedLru = Count(places, FramePlace.Lru);
            if (markedLru != active + inactive)
            {
                violations.Add($"node {m.Node}: {markedLru} frames marked on an LRU list, the lists hold {active + inactive}");
            }

            var held = CheckerScratch.Cleared(ref s.Held, m.Pages);
            foreach (var (pfn, cpu) in inPagevec)
            {
                if (m.Owns(pfn))
                {
                    held[m.Index(pfn)] = cpu + 1;
                }
            }

            var owners = m.Owners;
            for (var i = 0; i < places.Length; i++)
            {
                var place = places[i];
                var cpu = held[i] - 1;
                if (place == FramePlace.Pagevec && cpu != owners[i])
                {
                    violations.Add($"pfn {m.PfnOf(i)} is marked in cpu {owners[i]}'s pagevec, but {(cpu >= 0 ? $"cpu {cpu}'s" : "no pagevec")} holds it");
                }
                else if (place != FramePlace.Pagevec && cpu >= 0)
                {
                    violations.Add($"pfn {m.PfnOf(i)} is in cpu {cpu}'s pagevec but marked {place}");
                }

                if (place == FramePlace.InFlight)
                {
                    violations.Add($"pfn {m.PfnOf(i)} (node {m.Node}) is in flight at a quiescent point: no list, no pagevec, not isolated");
                }
            }
        }

        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var places = m.Places;
            var owners = m.Owners;
            for (var i = 0; i < places.Length; i++)
            {
                if (places[i] == FramePlace.Isolated && owners[i] == (int)Isolator.Migration
                    && !(isolatedByTasks ??= machine.Tasks.SelectMany(t => t.Isolated).ToHashSet()).Contains(m.PfnOf(i)))
                {
                    violations.Add($"pfn {m.PfnOf(i)} is isolated for migration, but no migration holds it");
                }
            }
        }
    }

    private static void AddPagevec(Dictionary<int, int> inPagevec, ReadOnlySpan<int> pages, int cpu, ICollection<string> violations)
    {
        foreach (var pfn in pages)
        {
            if (!inPagevec.TryAdd(pfn, cpu))
            {
                violations.Add($"pfn {pfn} is in the pagevecs of cpu {inPagevec[pfn]} and cpu {cpu}");
            }
        }
    }

    /// <summary>The frames in <paramref name="place"/> (a vectorised count of the place bytes).</summary>
    private static int Count(ReadOnlySpan<FramePlace> places, FramePlace place) =>
        MemoryMarshal.Cast<FramePlace, byte>(places).Count((byte)place);

    private static int Length(NodeMemory.FrameList list)
    {
        var n = 0;
        foreach (var _ in list)
        {
            n++;
        }

        return n;
    }
}

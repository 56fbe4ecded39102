using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Checkers;

/// <summary>No PTE points at a free frame, and each page's mapcount and reverse map match the PTEs that map it.</summary>
public sealed class PteChecker : IInvariantChecker
{
    private sealed class Scratch
    {
        public readonly MachineFrames Frames = new();
        /// <summary>Per frame, machine-wide (<see cref="MachineFrames"/>): its place and rmap page offset, copied from the
        /// nodes, read once per PTE.</summary>
        public FramePlace[]? Places;
        public uint[]? RmapVpns;
        /// <summary>Per frame: how many PTEs map it, and the first task whose PTE does (read only where one does).</summary>
        public int[]? Ptes;
        public int[]? FirstPid;
        /// <summary>Per frame: 1 + the index in <see cref="MorePids"/> of the second task whose PTE maps it, 0 for none
        /// (shared pages only); <see cref="MoreNext"/> chains the tasks after it, in the order of their PTEs.</summary>
        public int[]? MoreHead;
        public int[]? MoreTail;
        public readonly List<int> MorePids = new(), MoreNext = new();
        /// <summary>Per frame: whether its rmap names more than one task, and then its <see cref="IReadOnlyNodeMemory.Mappers"/>.</summary>
        public bool[]? SharedRmap;
        public NodeMemory.MapperSet[]? Mappers;
        /// <summary>The two sides <see cref="SameTasks"/> sorts.</summary>
        public readonly List<int> FromPtes = new(), FromRmap = new();

        /// <summary>Records that task <paramref name="pid"/>'s PTE maps frame <paramref name="g"/> after the first one.</summary>
        public void AddMore(int g, int pid)
        {
            var entry = MorePids.Count;
            MorePids.Add(pid);
            MoreNext.Add(-1);
            if (MoreHead![g] == 0)
            {
                MoreHead[g] = entry + 1;
            }
            else
            {
                MoreNext[MoreTail![g]] = entry;
            }

            MoreTail![g] = entry;
        }

        /// <summary>Fills <paramref name="pids"/> with the tasks whose PTEs map frame <paramref name="g"/>, in the order
        /// of their PTEs.</summary>
        public List<int> PtePids(int g, List<int> pids)
        {
            pids.Clear();
            pids.Add(FirstPid![g]);
            for (var e = MoreHead![g] - 1; e >= 0; e = MoreNext[e])
            {
                pids.Add(MorePids[e]);
            }

            return pids;
        }
    }

    private readonly CheckerScratch<Scratch> _scratch = new();

    public string Name => "pte";

    public void Check(KernelMachine machine, ICollection<string> violations) => _scratch.Check(machine, violations, Check);

    private static void Check(KernelMachine machine, Scratch s, ICollection<string> violations)
    {
        var t = machine.Topology;
        var nodes = machine.Nodes;
        var frames = s.Frames;
        frames.Load(machine);
        var places = CheckerScratch.Sized(ref s.Places, frames.Total);
        var rmapVpns = CheckerScratch.Sized(ref s.RmapVpns, frames.Total);
        var ptes = CheckerScratch.Cleared(ref s.Ptes, frames.Total);
        var firstPid = CheckerScratch.Sized(ref s.FirstPid, frames.Total);
        var moreHead = CheckerScratch.Cleared(ref s.MoreHead, frames.Total);
        CheckerScratch.Sized(ref s.MoreTail, frames.Total);
        s.MorePids.Clear();
        s.MoreNext.Clear();
        var sharedRmap = CheckerScratch.Cleared(ref s.SharedRmap, frames.Total);
        var mappers = CheckerScratch.Sized(ref s.Mappers, frames.Total);
        for (var n = 0; n < nodes.Count; n++)
        {
            var m = nodes[n].Memory;
            var offset = frames.Offset(n);
            m.Places.CopyTo(places.AsSpan(offset));
            m.RmapVpns.CopyTo(rmapVpns.AsSpan(offset));
            foreach (var (i, set) in m.SharedMappers)
            {
                sharedRmap[offset + i] = true;
                mappers[offset + i] = set;
            }
        }

        foreach (var (task, first, raw) in LivePtePages.Of(machine))
        {
            var entries = raw.Span;
            for (var k = 0; k < entries.Length; k++)
            {
                var pte = new Pte(entries[k]);
                var vpn = first + (ulong)k;
                if (!pte.IsPresent)
                {
                    continue;
                }

                if (pte.Pfn == t.ZeroPfn)
                {
                    if (pte.Writable)
                    {
                        violations.Add($"task {task.Pid} maps the zero page writable at vpn {vpn:x}");
                    }

                    continue;
                }
                var g = frames.Of(pte.Pfn);
                if (places[g] == FramePlace.Free)
                {
                    violations.Add($"task {task.Pid} vpn {vpn:x} maps free pfn {pte.Pfn}");
                }
                else if (rmapVpns[g] != (uint)vpn)
                {
                    violations.Add($"task {task.Pid} maps pfn {pte.Pfn} at vpn {vpn:x}, its rmap says {rmapVpns[g]:x}");
                }

                if (ptes[g]++ == 0)
                {
                    firstPid[g] = task.Pid;
                }
                else
                {
                    s.AddMore(g, task.Pid);
                }
            }
        }
        for (var n = 0; n < nodes.Count; n++)
        {
            var m = nodes[n].Memory;
            var offset = frames.Offset(n);
            var mapcounts = m.Mapcounts;
            var rmapTasks = m.RmapTasks;
            for (var i = 0; i < mapcounts.Length; i++)
            {
                var g = offset + i;
                if (places[g] is FramePlace.Free or FramePlace.Reserved)
                {
                    continue;
                }

                var count = ptes[g];
                if (mapcounts[i] != count)
                {
                    violations.Add($"pfn {m.PfnOf(i)}: mapcount {m.Mapcount(i)}, mapped by {count} ptes");
                }
                // One PTE and a reverse map of one task (the common case): the same task, without looking either up.
                else if (count == 1 && !sharedRmap[g] ? rmapTasks[i] != firstPid[g]
                         : count > 0 && !SameTasks(sharedRmap[g] ? mappers[g] : m.Mappers(i), s, g, moreHead[g] != 0))
                {
                    violations.Add($"pfn {m.PfnOf(i)}: rmap names tasks {string.Join(",", m.Mappers(i))}, ptes in {string.Join(",", s.PtePids(g, []))}");
                }
            }
        }
    }

    /// <summary>The rmap's tasks and the tasks whose PTEs map frame <paramref name="g"/> are the same multiset; the
    /// common case (one mapper on each side) without sorting.</summary>
    private static bool SameTasks(NodeMemory.MapperSet rmap, Scratch s, int g, bool morePtes)
    {
        if (!morePtes)
        {
            var e = rmap.GetEnumerator();
            return e.MoveNext() && e.Current == s.FirstPid![g] && !e.MoveNext();
        }
        var fromPtes = s.PtePids(g, s.FromPtes);
        fromPtes.Sort();
        var fromRmap = s.FromRmap;
        fromRmap.Clear();
        foreach (var pid in rmap)
        {
            fromRmap.Add(pid);
        }

        fromRmap.Sort();
        return fromRmap.SequenceEqual(fromPtes);
    }
}

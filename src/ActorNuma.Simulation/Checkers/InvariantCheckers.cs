using System.Numerics;
using System.Runtime.InteropServices;
using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Checkers;

/// <summary>One invariant the kernel must keep, checked against the machine's state at a quiescent point. Checkers
/// only read; they never change what they look at, and they do not care how the run is driven.</summary>
public interface IInvariantChecker
{
    string Name { get; }
    void Check(KernelMachine machine, ICollection<string> violations);
}

/// <summary>The checkers every run uses.</summary>
public static class InvariantCheckers
{
    public static IReadOnlyList<IInvariantChecker> All { get; } =
    [
        new FramePlacementChecker(),
        new LruFlagsChecker(),
        new PageRefcountChecker(),
        new SwapAccountingChecker(),
        new PteChecker(),
        new DataChecker(),
        new MemoryHotplugChecker(),
    ];

    /// <summary>Runs every checker; returns the violations, each prefixed with the checker's name.</summary>
    public static List<string> RunAll(KernelMachine machine)
    {
        var violations = new List<string>();
        var found = new List<string>();
        foreach (var checker in All)
        {
            found.Clear();
            checker.Check(machine, found);
            foreach (var v in found)
            {
                violations.Add($"{checker.Name}: {v}");
            }
        }
        return violations;
    }
}

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

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var s = _scratch.Take();
        Check(machine, s, violations);
        _scratch.Return(s);
    }

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

/// <summary>PG_lru is set iff the page is on an LRU list, PG_active iff on the active list.</summary>
public sealed class LruFlagsChecker : IInvariantChecker
{
    private sealed class Scratch
    {
        /// <summary>Per frame of one node: which list it is on, 1 the active, 2 the inactive (a frame on both counts as
        /// on the active), 0 none.</summary>
        public byte[]? On;
    }

    private readonly CheckerScratch<Scratch> _scratch = new();

    public string Name => "lru-flags";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var s = _scratch.Take();
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var on = CheckerScratch.Cleared(ref s.On, m.Pages);
            foreach (var i in m.LruFrames(active: false))
            {
                on[i] = 2;
            }

            foreach (var i in m.LruFrames(active: true))
            {
                on[i] = 1;
            }

            var flags = m.FlagWords;
            for (var i = 0; i < flags.Length; i++)
            {
                var lru = (flags[i] & (uint)PageFlags.Lru) != 0;
                if (lru != (on[i] != 0))
                {
                    violations.Add($"pfn {m.PfnOf(i)}: PG_lru is {(lru ? "set" : "clear")} but the page is {(on[i] != 0 ? "" : "not ")}on an LRU list");
                }

                var isActive = (flags[i] & (uint)PageFlags.Active) != 0;
                if (on[i] != 0 && isActive != (on[i] == 1))
                {
                    violations.Add($"pfn {m.PfnOf(i)}: PG_active is {(isActive ? "set" : "clear")} on the {(on[i] == 1 ? "active" : "inactive")} list");
                }
            }
        }
        _scratch.Return(s);
    }
}

/// <summary>A frame's reference count is exactly its users: one per mapping PTE, the swap cache, the pagevec that holds
/// it, its isolator, and work in progress that holds it across a wait (a fault sleeping on the page lock or waiting for
/// its read: <see cref="NodeMemory.Holds"/>). One more is a leaked reference (a frame that can never be freed, as V2's putback leaves it);
/// one less is a use after free waiting to happen.</summary>
public sealed class PageRefcountChecker : IInvariantChecker
{
    private sealed class Scratch
    {
        /// <summary>Per frame of one node: whether work in progress holds it (<see cref="IReadOnlyNodeMemory.HeldFrames"/>).</summary>
        public bool[]? Held;
    }

    private readonly CheckerScratch<Scratch> _scratch = new();

    public string Name => "page-refcount";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var s = _scratch.Take();
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var places = m.Places;
            var flags = m.FlagWords;
            var counts = m.Counts;
            var mapcounts = m.Mapcounts;
            // Holds are few: mark their frames, and look up only those.
            var heldFrames = m.HeldFrames;
            var anyHeld = heldFrames.Count > 0;
            var isHeld = anyHeld ? CheckerScratch.Cleared(ref s.Held, m.Pages) : [];
            if (anyHeld)
            {
                foreach (var i in heldFrames)
                {
                    isHeld[i] = true;
                }
            }

            for (var i = 0; i < places.Length; i++)
            {
                var place = places[i];
                if (place is FramePlace.Free or FramePlace.Reserved)
                {
                    continue;
                }

                var held = anyHeld && isHeld[i] ? m.Holds(i).Count : 0;
                var expected = mapcounts[i] + ((flags[i] & (uint)PageFlags.SwapCache) != 0 ? 1 : 0)
                               + (place is FramePlace.Pagevec or FramePlace.Isolated ? 1 : 0) + held;
                var count = counts[i];
                if (count == expected)
                {
                    continue;
                }

                var holder = held == 0 ? default : m.Holds(i).Last;
                var holders = held == 0 ? "" : $", {held} held by task {holder.Task}'s {holder.What}";
                var what = count > expected
                    ? m.Mapcount(i) == 0 && !m.Test(i, PageFlags.SwapCache) && place == FramePlace.Lru
                        ? "a leaked reference: no task maps it and nothing else holds it, so it can never be freed"
                        : "a leaked reference"
                    : "a missing reference";
                violations.Add($"pfn {m.PfnOf(i)} (node {m.Node}, {Where(m, i)}, {PageFlagNames.Format(m.Flags(i))}): count {count}, " +
                               $"users {expected} (mapcount {m.Mapcount(i)}{holders}): {what}");
            }
        }
        _scratch.Return(s);
    }

    /// <summary>Where the frame is and who holds it there: the CPU whose pagevec, the isolator, the list.</summary>
    internal static string Where(IReadOnlyNodeMemory m, int i) => m.Place(i) switch
    {
        FramePlace.Pagevec => $"in cpu {m.Owner(i)}'s pagevec",
        FramePlace.Isolated => $"isolated by {((Isolator)m.Owner(i) == Isolator.Reclaim ? "reclaim" : "migration")}",
        FramePlace.Lru => m.Test(i, PageFlags.Active) ? "on the active list" : "on the inactive list",
        var place => place.ToString(),
    };
}

/// <summary>Each slot's count equals its swap-cache reference plus the PTEs that hold it; the swap cache and the frames'
/// PG_swapcache agree; nr_swap_pages counts the free slots.</summary>
public sealed class SwapAccountingChecker : IInvariantChecker
{
    private sealed class Scratch
    {
        /// <summary>Per slot: the swap PTEs that name it.</summary>
        public int[]? PteRefs;
    }

    private readonly CheckerScratch<Scratch> _scratch = new();

    public string Name => "swap-accounting";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var swap = machine.Swap;
        if (swap is null)
        {
            return;
        }

        var s = _scratch.Take();
        Check(machine, swap.Map, CheckerScratch.Cleared(ref s.PteRefs, swap.Map.TotalSwapPages + 1), violations);
        _scratch.Return(s);
    }

    private static void Check(KernelMachine machine, IReadOnlySwapMap map, int[] pteRefs, ICollection<string> violations)
    {
        var total = map.TotalSwapPages;
        foreach (var (task, first, raw) in LivePtePages.Of(machine))
        {
            var ptes = raw.Span;
            for (var k = 0; k < ptes.Length; k++)
            {
                var pte = new Pte(ptes[k]);
                if (!pte.IsSwap)
                {
                    continue;
                }

                if (!IsValid(pte.SwapSlot, total))
                {
                    violations.Add($"task {task.Pid} vpn {first + (ulong)k:x}: swap pte to invalid slot {pte.SwapSlot}");
                }
                else
                {
                    pteRefs[pte.SwapSlot]++;
                }
            }
        }

        var slotCounts = map.Counts;
        var cachedPfns = map.CachedPfns;
        // The frames' side first, without reporting yet: when every PG_swapcache frame is cached by its slot and they
        // are as many as the cached slots, every cached slot is one of theirs (a slot caches one frame), so the slots'
        // side need not look up the frame of each cached slot; and when, besides, every slot's count is right, it has
        // nothing to report and only the free slots to count. Each report comes in the order the slot loop makes them.
        var (swapCacheFrames, framesDisagree, nodesAsTopology) = ScanSwapCacheFrames(machine, cachedPfns, total);
        var cachedSlots = total - cachedPfns.Slice(1, total).Count(-1);
        var lookUpFrames = framesDisagree > 0 || !nodesAsTopology || cachedSlots != swapCacheFrames;
        var free = lookUpFrames || !SlotsAccounted(slotCounts.Slice(1, total), pteRefs.AsSpan(1, total), cachedPfns.Slice(1, total))
            ? CheckSlots(machine, map, pteRefs, lookUpFrames, violations)
            : slotCounts.Slice(1, total).Count((ushort)0);
        if (free != map.NrSwapPages)
        {
            violations.Add($"nr_swap_pages {map.NrSwapPages}, free slots {free}");
        }

        if (framesDisagree == 0)
        {
            return;
        }

        foreach (var nodeState in machine.Nodes)
        {
            var m = nodeState.Memory;
            var flags = m.FlagWords;
            var entries = m.SwapEntries;
            for (var i = 0; i < flags.Length; i++)
            {
                if (!SwapCacheFrameAgrees(flags[i], entries[i], m.FirstPfn + i, cachedPfns, total))
                {
                    violations.Add($"pfn {m.PfnOf(i)} is PG_swapcache for slot {m.SwapEntry(i)}, which the swap cache does not map to it");
                }
            }
        }
    }

    /// <summary>Reports each slot whose count is not its PTEs plus its swap-cache reference and, with
    /// <paramref name="lookUpFrames"/>, each cached slot whose frame is not PG_swapcache for it; returns the free slots.</summary>
    private static int CheckSlots(KernelMachine machine, IReadOnlySwapMap map, int[] pteRefs, bool lookUpFrames, ICollection<string> violations)
    {
        var total = map.TotalSwapPages;
        var slotCounts = map.Counts;
        var cachedPfns = map.CachedPfns;
        var free = 0;
        for (var slot = 1; slot <= total; slot++)
        {
            var cached = cachedPfns[slot];
            var expected = pteRefs[slot] + (cached >= 0 ? 1 : 0);
            if (slotCounts[slot] != expected)
            {
                violations.Add($"slot {slot}: swap_map {slotCounts[slot]}, references {expected} ({pteRefs[slot]} ptes{(cached >= 0 ? " + swap cache" : "")})");
            }

            if (slotCounts[slot] == 0)
            {
                free++;
            }

            if (!lookUpFrames || cached < 0)
            {
                continue;
            }

            var node = machine.Nodes[machine.Topology.PfnToNid(cached)].Memory;
            var i = node.Index(cached);
            if (!node.Test(i, PageFlags.SwapCache) || node.SwapEntry(i) != slot)
            {
                violations.Add($"slot {slot} is cached by pfn {cached}, which is not PG_swapcache for it");
            }
        }

        return free;
    }

    /// <summary>Whether every slot's count is its PTEs plus one for a swap-cache reference (a cached pfn is not
    /// negative): a vector compare of every slot, after which the slot-by-slot loop with its reports need not run.</summary>
    private static bool SlotsAccounted(ReadOnlySpan<ushort> counts, ReadOnlySpan<int> pteRefs, ReadOnlySpan<int> cachedPfns)
    {
        // count - ptes - 1 - (cached >> 31): zero iff the count is right, as cached >> 31 is -1 for no frame, 0 for one.
        var wrong = Vector<int>.Zero;
        var k = 0;
        for (; k + Vector<ushort>.Count <= counts.Length; k += Vector<ushort>.Count)
        {
            Vector.Widen(new Vector<ushort>(counts[k..]), out var low, out var high);
            var h = k + Vector<int>.Count;
            wrong |= Vector.AsVectorInt32(low) - new Vector<int>(pteRefs[k..]) - Vector<int>.One
                     - Vector.ShiftRightArithmetic(new Vector<int>(cachedPfns[k..]), 31);
            wrong |= Vector.AsVectorInt32(high) - new Vector<int>(pteRefs[h..]) - Vector<int>.One
                     - Vector.ShiftRightArithmetic(new Vector<int>(cachedPfns[h..]), 31);
        }

        var rest = 0;
        for (; k < counts.Length; k++)
        {
            rest |= counts[k] - pteRefs[k] - 1 - (cachedPfns[k] >> 31);
        }

        return wrong == Vector<int>.Zero && rest == 0;
    }

    /// <summary>The PG_swapcache frames, those of them whose slot the swap cache does not map to them, and whether each
    /// node's frames are where the topology puts them (the slots' side looks a cached pfn up by its node id).</summary>
    private static (int Frames, int Disagree, bool NodesAsTopology) ScanSwapCacheFrames(KernelMachine machine, ReadOnlySpan<int> cachedPfns, int total)
    {
        var (frames, disagree, nodesAsTopology) = (0, 0, true);
        var t = machine.Topology;
        var nodes = machine.Nodes;
        for (var n = 0; n < nodes.Count; n++)
        {
            var m = nodes[n].Memory;
            nodesAsTopology &= m.Pages == 0 || (t.PfnToNid(m.FirstPfn) == n && t.PfnToNid(m.FirstPfn + m.Pages - 1) == n);
            var flags = m.FlagWords;
            var entries = m.SwapEntries;
            for (var i = 0; i < flags.Length; i++)
            {
                if ((flags[i] & (uint)PageFlags.SwapCache) != 0)
                {
                    frames++;
                }

                if (!SwapCacheFrameAgrees(flags[i], entries[i], m.FirstPfn + i, cachedPfns, total))
                {
                    disagree++;
                }
            }
        }

        return (frames, disagree, nodesAsTopology);
    }

    /// <summary>A frame that is not PG_swapcache, or whose slot the swap cache maps to it.</summary>
    private static bool SwapCacheFrameAgrees(uint flags, int entry, int pfn, ReadOnlySpan<int> cachedPfns, int total) =>
        (flags & (uint)PageFlags.SwapCache) == 0 || (IsValid(entry, total) && cachedPfns[entry] == pfn);

    /// <summary><see cref="IReadOnlySwapMap.IsValid"/>: slots 1 to total_swap_pages (0 is the header).</summary>
    private static bool IsValid(int slot, int total) => slot >= 1 && slot <= total;
}

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

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var s = _scratch.Take();
        Check(machine, s, violations);
        _scratch.Return(s);
    }

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

/// <summary>Every read returned the last value its task wrote (recorded by the tasks as they read).</summary>
public sealed class DataChecker : IInvariantChecker
{
    public string Name => "data";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        foreach (var v in machine.DataViolations)
        {
            violations.Add(v);
        }
    }
}

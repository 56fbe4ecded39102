using System.Buffers;
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
        foreach (var checker in All)
        {
            var found = new List<string>();
            checker.Check(machine, found);
            violations.AddRange(found.Select(v => $"{checker.Name}: {v}"));
        }
        return violations;
    }
}

/// <summary>Every frame is in exactly one place (free, an LRU list, one CPU's pagevec, isolated, in flight), and the
/// node's counters agree with its lists.</summary>
public sealed class FramePlacementChecker : IInvariantChecker
{
    public string Name => "frame-placement";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var inPagevec = new Dictionary<int, int>();
        foreach (var node in machine.Nodes)
        {
            foreach (var cpu in node.Pagevecs)
            {
                foreach (var pfn in cpu.LruAdd.Pages.ToArray().Concat(cpu.LruAddActive.Pages.ToArray()))
                {
                    if (!inPagevec.TryAdd(pfn, cpu.Cpu))
                    {
                        violations.Add($"pfn {pfn} is in the pagevecs of cpu {inPagevec[pfn]} and cpu {cpu.Cpu}");
                    }
                }
            }
        }

        HashSet<int>? isolatedByTasks = null;
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var free = m.FreeList().ToArray();
            if (free.Length != m.FreePages)
            {
                violations.Add($"node {m.Node}: free list holds {free.Length}, free_pages says {m.FreePages}");
            }

            var places = m.Places;
            foreach (var i in free)
            {
                if (places[i] != FramePlace.Free)
                {
                    violations.Add($"pfn {m.PfnOf(i)} is on node {m.Node}'s free list but in {places[i]}");
                }
            }

            var counts = m.CountPlaces();
            if (counts[(int)FramePlace.Free] != free.Length)
            {
                violations.Add($"node {m.Node}: {counts[(int)FramePlace.Free]} frames marked free, {free.Length} on the free list");
            }

            var (active, inactive) = m.WalkLru();
            if (active.Count != m.NrActive)
            {
                violations.Add($"node {m.Node}: nr_active {m.NrActive}, active list holds {active.Count}");
            }

            if (inactive.Count != m.NrInactive)
            {
                violations.Add($"node {m.Node}: nr_inactive {m.NrInactive}, inactive list holds {inactive.Count}");
            }

            if (counts[(int)FramePlace.Lru] != active.Count + inactive.Count)
            {
                violations.Add($"node {m.Node}: {counts[(int)FramePlace.Lru]} frames marked on an LRU list, the lists hold {active.Count + inactive.Count}");
            }

            // The pagevec lookup per frame: the CPU + 1 of the pagevec holding each of this node's frames, 0 for none.
            var held = ArrayPool<int>.Shared.Rent(m.Pages);
            try
            {
                Array.Clear(held, 0, m.Pages);
                foreach (var (pfn, cpu) in inPagevec)
                {
                    if (m.Owns(pfn))
                    {
                        held[m.Index(pfn)] = cpu + 1;
                    }
                }

                var owners = m.Owners;
                for (var i = 0; i < m.Pages; i++)
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
            finally
            {
                ArrayPool<int>.Shared.Return(held);
            }
        }

        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var places = m.Places;
            var owners = m.Owners;
            for (var i = 0; i < m.Pages; i++)
            {
                if (places[i] == FramePlace.Isolated && owners[i] == (int)Isolator.Migration
                    && !(isolatedByTasks ??= machine.Tasks.SelectMany(t => t.Isolated).ToHashSet()).Contains(m.PfnOf(i)))
                {
                    violations.Add($"pfn {m.PfnOf(i)} is isolated for migration, but no migration holds it");
                }
            }
        }
    }
}

/// <summary>PG_lru is set iff the page is on an LRU list, PG_active iff on the active list.</summary>
public sealed class LruFlagsChecker : IInvariantChecker
{
    public string Name => "lru-flags";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var (active, inactive) = m.WalkLru();
            // Which list each frame is on: 1 the active, 2 the inactive (a frame on both counts as on the active).
            var on = ArrayPool<byte>.Shared.Rent(m.Pages);
            try
            {
                Array.Clear(on, 0, m.Pages);
                foreach (var i in inactive)
                {
                    on[i] = 2;
                }

                foreach (var i in active)
                {
                    on[i] = 1;
                }

                var flags = m.FlagWords;
                for (var i = 0; i < m.Pages; i++)
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
            finally
            {
                ArrayPool<byte>.Shared.Return(on);
            }
        }
    }
}

/// <summary>A frame's reference count is exactly its users: one per mapping PTE, the swap cache, the pagevec that holds
/// it, its isolator, and work in progress that holds it across a wait (a fault sleeping on the page lock or waiting for
/// its read: <see cref="NodeMemory.Holds"/>). One more is a leaked reference (a frame that can never be freed, as V2's putback leaves it);
/// one less is a use after free waiting to happen.</summary>
public sealed class PageRefcountChecker : IInvariantChecker
{
    public string Name => "page-refcount";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var places = m.Places;
            var flags = m.FlagWords;
            var counts = m.Counts;
            var mapcounts = m.Mapcounts;
            var anyHeld = m.HeldFrames.Count > 0;
            for (var i = 0; i < m.Pages; i++)
            {
                var place = places[i];
                if (place is FramePlace.Free or FramePlace.Reserved)
                {
                    continue;
                }

                var (held, holder) = anyHeld ? m.Holds(i) : default;
                var expected = mapcounts[i] + ((flags[i] & (uint)PageFlags.SwapCache) != 0 ? 1 : 0)
                               + (place is FramePlace.Pagevec or FramePlace.Isolated ? 1 : 0) + held;
                var count = counts[i];
                if (count == expected)
                {
                    continue;
                }

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
    public string Name => "swap-accounting";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var swap = machine.Swap;
        if (swap is null)
        {
            return;
        }

        var map = swap.Map;
        // Pooled: this runs at every checkpoint of every schedule explore runs.
        var pteRefs = ArrayPool<int>.Shared.Rent(map.TotalSwapPages + 1);
        try
        {
            Array.Clear(pteRefs, 0, map.TotalSwapPages + 1);
            Check(machine, map, pteRefs, violations);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(pteRefs);
        }
    }

    private static void Check(KernelMachine machine, IReadOnlySwapMap map, int[] pteRefs, ICollection<string> violations)
    {
        foreach (var task in machine.Tasks)
        {
            if (task.Exited)
            {
                continue;
            }

            foreach (var (first, raw) in task.PageTable.PtePages())
            {
                var ptes = raw.Span;
                for (var k = 0; k < ptes.Length; k++)
                {
                    var pte = new Pte(ptes[k]);
                    if (!pte.IsSwap)
                    {
                        continue;
                    }

                    if (!map.IsValid(pte.SwapSlot))
                    {
                        violations.Add($"task {task.Pid} vpn {first + (ulong)k:x}: swap pte to invalid slot {pte.SwapSlot}");
                    }
                    else
                    {
                        pteRefs[pte.SwapSlot]++;
                    }
                }
            }
        }

        var free = 0;
        var slotCounts = map.Counts;
        var cachedPfns = map.CachedPfns;
        for (var slot = 1; slot <= map.TotalSwapPages; slot++)
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

            if (cached < 0)
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
        if (free != map.NrSwapPages)
        {
            violations.Add($"nr_swap_pages {map.NrSwapPages}, free slots {free}");
        }

        foreach (var nodeState in machine.Nodes)
        {
            var m = nodeState.Memory;
            var flags = m.FlagWords;
            for (var i = 0; i < m.Pages; i++)
            {
                if ((flags[i] & (uint)PageFlags.SwapCache) != 0 && (!map.IsValid(m.SwapEntry(i)) || cachedPfns[m.SwapEntry(i)] != m.PfnOf(i)))
                {
                    violations.Add($"pfn {m.PfnOf(i)} is PG_swapcache for slot {m.SwapEntry(i)}, which the swap cache does not map to it");
                }
            }
        }
    }
}

/// <summary>No PTE points at a free frame, and each page's mapcount and reverse map match the PTEs that map it.</summary>
public sealed class PteChecker : IInvariantChecker
{
    public string Name => "pte";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var t = machine.Topology;
        // Per frame of each node: the first task whose PTE maps it and how many PTEs do; the tasks after the first
        // (shared pages only) in a dictionary. Pooled arrays, not a list per mapped page: this runs at every checkpoint
        // of a soak run, over every page.
        var nodes = machine.Nodes;
        var firstPid = new int[nodes.Count][];
        var ptes = new int[nodes.Count][];
        for (var n = 0; n < nodes.Count; n++)
        {
            firstPid[n] = ArrayPool<int>.Shared.Rent(nodes[n].Memory.Pages);
            ptes[n] = ArrayPool<int>.Shared.Rent(nodes[n].Memory.Pages);
            Array.Clear(ptes[n], 0, nodes[n].Memory.Pages);
        }
        var more = new Dictionary<int, List<int>>();
        try
        {
            foreach (var task in machine.Tasks)
            {
                if (task.Exited)
                {
                    continue;
                }

                foreach (var (first, raw) in task.PageTable.PtePages())
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
                        var nid = t.PfnToNid(pte.Pfn);
                        var m = nodes[nid].Memory;
                        var i = m.Index(pte.Pfn);
                        if (m.Place(i) == FramePlace.Free)
                        {
                            violations.Add($"task {task.Pid} vpn {vpn:x} maps free pfn {pte.Pfn}");
                        }
                        else if (m.RmapVpn(i) != (uint)vpn)
                        {
                            violations.Add($"task {task.Pid} maps pfn {pte.Pfn} at vpn {vpn:x}, its rmap says {m.RmapVpn(i):x}");
                        }

                        if (ptes[nid][i]++ == 0)
                        {
                            firstPid[nid][i] = task.Pid;
                        }
                        else
                        {
                            if (!more.TryGetValue(pte.Pfn, out var list))
                            {
                                more[pte.Pfn] = list = new();
                            }

                            list.Add(task.Pid);
                        }
                    }
                }
            }
            for (var n = 0; n < nodes.Count; n++)
            {
                var m = nodes[n].Memory;
                var places = m.Places;
                var mapcounts = m.Mapcounts;
                for (var i = 0; i < m.Pages; i++)
                {
                    if (places[i] is FramePlace.Free or FramePlace.Reserved)
                    {
                        continue;
                    }

                    var count = ptes[n][i];
                    if (mapcounts[i] != count)
                    {
                        violations.Add($"pfn {m.PfnOf(i)}: mapcount {m.Mapcount(i)}, mapped by {count} ptes");
                    }
                    else if (count > 0 && !SameTasks(m.Mappers(i), firstPid[n][i], more.GetValueOrDefault(m.PfnOf(i))))
                    {
                        violations.Add($"pfn {m.PfnOf(i)}: rmap names tasks {string.Join(",", m.Mappers(i))}, ptes in " +
                                       string.Join(",", new[] { firstPid[n][i] }.Concat(more.GetValueOrDefault(m.PfnOf(i)) ?? [])));
                    }
                }
            }
        }
        finally
        {
            foreach (var a in firstPid)
            {
                ArrayPool<int>.Shared.Return(a);
            }

            foreach (var a in ptes)
            {
                ArrayPool<int>.Shared.Return(a);
            }
        }
    }

    /// <summary>The rmap's tasks and the PTEs' tasks are the same multiset; the common case (one mapper) without sorting.</summary>
    private static bool SameTasks(NodeMemory.MapperSet rmap, int first, List<int>? rest)
    {
        if (rest is null)
        {
            var e = rmap.GetEnumerator();
            return e.MoveNext() && e.Current == first && !e.MoveNext();
        }
        var fromPtes = new List<int>(rest.Count + 1) { first };
        fromPtes.AddRange(rest);
        fromPtes.Sort();
        var fromRmap = new List<int>(fromPtes.Count);
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

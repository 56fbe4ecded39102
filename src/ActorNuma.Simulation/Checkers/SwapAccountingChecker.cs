using System.Numerics;
using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Checkers;

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

using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Run;

/// <summary>/proc/vmstat and the per-node numastat files, summed from the counters each actor keeps, as the kernel sums
/// its per-CPU counters when the file is read.</summary>
public static class KernelStats
{
    /// <summary>Every counter by its kernel name (emulator counters carry the emu_ prefix), plus a few gauges.</summary>
    public static SortedDictionary<string, long> Vmstat(KernelMachine machine)
    {
        var totals = VmStat.NewTotals();
        foreach (var node in machine.Nodes)
        {
            node.Memory.Stat.AddTo(totals);
        }

        foreach (var task in machine.Tasks)
        {
            task.Stat.AddTo(totals);
        }

        machine.ForgottenTaskStat.AddTo(totals);
        machine.Swap?.Stat.AddTo(totals);
        foreach (var k in machine.KswapdStats)
        {
            k.AddTo(totals);
        }

        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var e in VmEventNames.All)
        {
            result[VmEventNames.Name(e)] = totals[(int)e];
        }

        result["numa_foreign"] = machine.Nodes.Sum(n => n.ForeignFor.Sum());
        foreach (var (name, value) in Gauges(machine))
        {
            result[name] = value;
        }

        return result;
    }

    /// <summary>The names /proc/vmstat (<see cref="Vmstat"/>) has, in its order, whatever the machine: what
    /// expect-vmstat may name.</summary>
    public static IReadOnlyList<string> VmstatNames { get; } =
        [.. VmEventNames.All.Select(VmEventNames.Name), .. GaugeNames(swap: true)];

    /// <summary>The counters each node (and its kswapd) kept, by node: the per-zone detail 2.6.14's vmstat shows as
    /// pgscan_kswapd_normal and friends, here one zone per node.</summary>
    public static SortedDictionary<string, SortedDictionary<string, long>> PerNode(KernelMachine machine)
    {
        var result = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        var kswapd = machine.KswapdStats;
        foreach (var node in machine.Nodes)
        {
            var totals = VmStat.NewTotals();
            node.Memory.Stat.AddTo(totals);
            if (node.Memory.Node < kswapd.Count)
            {
                kswapd[node.Memory.Node].AddTo(totals);
            }

            var counters = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var e in VmEventNames.All)
            {
                if (totals[(int)e] != 0 && !VmEventNames.IsNumaStat(e))
                {
                    counters[VmEventNames.Name(e)] = totals[(int)e];
                }
            }

            counters["nr_free_pages"] = node.Memory.FreePages;
            counters["nr_active"] = node.Memory.NrActive;
            counters["nr_inactive"] = node.Memory.NrInactive;
            result[$"node{node.Memory.Node}"] = counters;
        }
        return result;
    }

    /// <summary><c>/sys/devices/system/node/nodeN/numastat</c> for every node.</summary>
    /// <summary>Every retired frame (soft_offline_page's PG_hwpoison), node by node in the order they were retired;
    /// null when there is none, so a report without memory errors keeps its shape.</summary>
    public static IReadOnlyList<RetiredFrame>? RetiredFrames(KernelMachine machine)
    {
        var frames = machine.Nodes.SelectMany(n => n.Memory.RetiredFrames.Select(i => new RetiredFrame(n.Memory.Node, n.Memory.PfnOf(i))))
            .ToList();
        return frames.Count == 0 ? null : frames;
    }

    /// <summary>The nodes whose memory is offline (MEM_OFFLINE); null when every node is online.</summary>
    public static IReadOnlyList<int>? OfflineNodes(KernelMachine machine)
    {
        var nodes = machine.Nodes.Where(n => n.MemoryState == NumaNode.MemoryState.Offline).Select(n => n.Memory.Node).ToList();
        return nodes.Count == 0 ? null : nodes;
    }

    public static SortedDictionary<string, SortedDictionary<string, long>> Numastat(KernelMachine machine)
    {
        var result = new SortedDictionary<string, SortedDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var node in machine.Nodes)
        {
            var s = node.Memory.Stat;
            var n = node.Memory.Node;
            result[$"node{n}"] = new SortedDictionary<string, long>(StringComparer.Ordinal)
            {
                ["numa_hit"] = s[VmEvent.NumaHit],
                ["numa_miss"] = s[VmEvent.NumaMiss],
                ["numa_foreign"] = machine.Nodes.Sum(x => x.ForeignFor[n]),
                ["interleave_hit"] = s[VmEvent.InterleaveHit],
                ["local_node"] = s[VmEvent.LocalNode],
                ["other_node"] = s[VmEvent.OtherNode],
            };
        }
        return result;
    }

    /// <summary>2.6.14's nr_* gauges that the emulator can compute, and its own (emu_nr_*).</summary>
    private static IEnumerable<(string, long)> Gauges(KernelMachine machine)
    {
        long dirty = 0, writeback = 0, mapped = 0, swapcache = 0;
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            for (var i = 0; i < m.Pages; i++)
            {
                if (m.Place(i) is FramePlace.Free or FramePlace.Reserved)
                {
                    continue;
                }

                if (m.Test(i, PageFlags.Dirty))
                {
                    dirty++;
                }

                if (m.Test(i, PageFlags.Writeback))
                {
                    writeback++;
                }

                if (m.Mapcount(i) > 0)
                {
                    mapped++;
                }

                if (m.Test(i, PageFlags.SwapCache))
                {
                    swapcache++;
                }
            }
        }
        long[] values =
        [
            dirty, writeback, mapped,
            machine.Nodes.Sum(n => (long)n.Memory.FreePages),
            machine.Nodes.Sum(n => (long)n.Memory.NrActive),
            machine.Nodes.Sum(n => (long)n.Memory.NrInactive),
            swapcache,
            machine.Swap?.Map.TotalSwapPages ?? 0,
            machine.Swap?.Map.NrSwapPages ?? 0,
        ];
        return GaugeNames(machine.Swap is not null).Select((name, i) => (name, values[i]));
    }

    /// <summary>The gauges' names in the order <see cref="Gauges"/> computes them; the swap ones only with a swap area.</summary>
    private static IEnumerable<string> GaugeNames(bool swap)
    {
        string[] always = ["nr_dirty", "nr_writeback", "nr_mapped", "emu_nr_free", "emu_nr_active", "emu_nr_inactive", "emu_nr_swapcache"];
        return swap ? [.. always, "emu_swap_total", "emu_swap_free"] : always;
    }
}

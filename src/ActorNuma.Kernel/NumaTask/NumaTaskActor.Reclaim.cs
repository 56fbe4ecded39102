using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>The allocating task's part of reclaim: waking kswapd, direct reclaim, and the OOM killer.</summary>
public sealed partial class NumaTaskActor
{

    /// <summary><c>wakeup_kswapd()</c> for every zone of the zonelist (each node checks pages_low itself).</summary>
    private void WakeupKswapds(int[] zonelist)
    {
        if (!_machine.Settings.KswapdEnabled)
        {
            return;
        }

        foreach (var node in zonelist)
        {
            Directory.Node(node).Tell(new Kswapd.Wakeup(node, 0));
        }
    }

    /// <summary><c>try_to_free_pages()</c>: allocstall; priorities 12 down to 0, shrink_zone on each zone of the zonelist
    /// in order, until 32 pages were reclaimed (progress) or the priorities run out (none); a congestion wait below
    /// priority 10 when anything was scanned. The task's CPU drains its pagevecs first (each shrink_cache batch of the
    /// kernel starts with lru_add_drain on the current CPU).</summary>
    /// <remarks>Kernel: 2.6.14 mm/vmscan.c try_to_free_pages(), shrink_caches().</remarks>
    private void TryToFreePages(int[] zonelist, Action<long> then)
    {
        Count(VmEvent.Allocstall);
        Trace.Emit("mm_vmscan_direct_reclaim_begin", $"task={Pid} zonelist={string.Join(",", zonelist)}");
        long totalScanned = 0, totalReclaimed = 0;
        var priority = VmScan.DefPriority;
        void End(long progress)
        {
            foreach (var node in zonelist)
            {
                Directory.Node(node).Tell(new EndReclaimRun());
            }

            Trace.Emit("mm_vmscan_direct_reclaim_end", $"task={Pid} nr_reclaimed={totalReclaimed}");
            then(progress);
        }
        void Priority()
        {
            if (priority < 0) { End(0); return; }
            long scannedNow = 0;
            var zone = 0;
            void NextZone()
            {
                if (zone == zonelist.Length)
                {
                    if (VmScan.ReclaimedEnough(totalReclaimed)) { End(totalReclaimed); return; }
                    var wait = VmScan.CongestionWaitAfter(scannedNow, priority);
                    priority--;
                    if (wait)
                    {
                        CongestionWait(VmScan.CongestionWait, Priority);
                    }
                    else
                    {
                        Priority();
                    }

                    return;
                }
                var node = zonelist[zone++];
                Directory.Node(node).Tell(new ShrinkZone(Expect<ShrinkZoneResult>(res =>
                    {
                        scannedNow += res.Scanned;
                        totalScanned += res.Scanned;
                        totalReclaimed += res.Reclaimed;
                        NextZone();
                    }), Self, priority, IsKswapd: false, DrainCpu: _state.Cpu, SkipIfAboveHigh: false, SetAllUnreclaimable: false));
            }
            NextZone();
        }
        // zone->temp_priority = DEF_PRIORITY for every zone of the zonelist; then the priority loop.
        foreach (var node in zonelist)
        {
            Directory.Node(node).Tell(new Kswapd.BeginReclaimRun(IsKswapd: false));
        }

        var ownNode = Topology.CpuToNode(_state.Cpu);
        if (zonelist.Contains(ownNode))
        {
            Priority();
        }
        else
        {
            DrainCpus([_state.Cpu], zonelist, Priority);
        }
    }

    /// <summary>__alloc_pages after reclaim made no progress and the pages_high try failed: <c>out_of_memory()</c>, then
    /// restart the allocation. A task the killer chose dies of its own fault.</summary>
    /// <param name="zonelist">The allocation's zonelist: one that leaves out a node is a constrained allocation
    /// (<c>constrained_alloc()</c> rebuilds the node set from it).</param>
    private void OutOfMemory(int[] zonelist, Action restart, Action killed)
    {
        var constrained = zonelist.Distinct().Count() < Topology.Nodes;
        Directory.Kernel.Tell(new KernelRoot.OutOfMemory(Expect<KernelRoot.OomDone>(r =>
        {
            if (r.Victim == Pid || r.Victim == 0)
            {
                killed();
            }
            else
            {
                restart();
            }
        }), Self, Pid, constrained));
    }

    /// <summary><c>blk_congestion_wait(WRITE, timeout)</c>: sleeps until the swap device completes a write, or for the
    /// whole timeout when none does.</summary>
    private void CongestionWait(TimeSpan timeout, Action then) =>
        Directory.Swap.Tell(new SwapDevice.CongestionWait(Expect<SwapDevice.CongestionWaitDone>(_ => then()), Self, timeout));
}

using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary><c>kswapd%d</c>: sleeps until the allocator finds its node below pages_low, then runs
/// <c>balance_pgdat</c> — priorities 12 down to 0, a shrink_zone of its node's zone at each, until the zone is above
/// pages_high — and sleeps again. The zone's lists belong to the node, so kswapd drives and the node shrinks.</summary>
/// <remarks>Kernel: 2.6.14 mm/vmscan.c kswapd(), balance_pgdat().</remarks>
public sealed class KswapdActor : KernelActor, IWithTimers
{
    private readonly int _node;
    private readonly IActorRef _nodeRef;
    private readonly VmStat _stat = new();
    private readonly int _cpu;
    private readonly ReplyRegistry _replies;
    private readonly Action<ShrinkZoneResult> _onShrunk;
    private readonly Action<SwapDevice.CongestionWaitDone> _afterNap;
    private bool _running;
    private int _priority;
    private long _totalScanned;
    private long _totalReclaimed;
    private long _reclaimedSinceWake;
    private int _lastFree;

    public KswapdActor(KernelMachine machine, int node, IActorRef nodeRef) : base(machine)
    {
        _node = node;
        _nodeRef = nodeRef;
        _cpu = machine.Topology.CpusOf(node).First();
        _replies = new ReplyRegistry($"kswapd{node}");
        _onShrunk = OnShrunk;
        _afterNap = _ => AfterNap();
        machine.RegisterKswapd(node, _stat);
    }

    public static Props Props(KernelMachine machine, int node, IActorRef nodeRef) =>
        Akka.Actor.Props.Create(() => new KswapdActor(machine, node, nodeRef)).OnKernelDispatcher();

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void OnKernelMessage(object message)
    {
        switch (message)
        {
            case Kswapd.Wakeup m:
                // wakeup_kswapd only wakes a sleeping kswapd: while it balances, the wakeup has nothing to do.
                if (_running)
                {
                    return;
                }

                _running = true;
                _reclaimedSinceWake = 0;
                Machine.Trace.Emit("mm_vmscan_kswapd_wake", $"nid={_node} order={m.Order} free={m.FreePages}");
                LoopAgain();
                break;
            case IKernelReply m: _replies.Deliver(m); break;
            default: Unhandled(message); break;
        }
    }

    /// <summary>balance_pgdat's <c>loop_again</c>: a new run, counted in pageoutrun; the zone's temp_priority goes back to
    /// DEF_PRIORITY and sc.nr_mapped is read.</summary>
    private void LoopAgain()
    {
        _stat.Count(VmEvent.Pageoutrun);
        _totalScanned = 0;
        _totalReclaimed = 0;
        _priority = VmScan.DefPriority;
        _nodeRef.Tell(new Kswapd.BeginReclaimRun(IsKswapd: true));
        Shrink();
    }

    private void Shrink()
    {
        _nodeRef.Tell(new ShrinkZone(_replies.Expect(_onShrunk), Self, _priority, IsKswapd: true, DrainCpu: _cpu, SkipIfAboveHigh: true,
            SetAllUnreclaimable: true));
    }

    /// <summary>One priority of balance_pgdat's loop. The zone was above pages_high when looked at, or is
    /// all_unreclaimable below DEF_PRIORITY (the search for a zone to scan skips it): no zone needs scanning, so
    /// <c>goto out</c> with all_zones_ok and kswapd sleeps. Otherwise the zone was scanned (all_zones_ok = 0): count what
    /// was done, take the congestion nap below priority 10 if anything was scanned, then leave the loop once 32 pages
    /// were reclaimed in this run, else go on with the next priority.</summary>
    /// <remarks>Kernel: 2.6.14 mm/vmscan.c balance_pgdat(): the nap (<c>blk_congestion_wait(WRITE, HZ/10)</c>) comes
    /// before the <c>total_reclaimed &gt;= SWAP_CLUSTER_MAX</c> break.</remarks>
    private void OnShrunk(ShrinkZoneResult m)
    {
        _lastFree = m.FreePages;
        if (m.AboveHigh || m.Skipped) { EndRun(balanced: true); return; }
        _totalScanned += m.Scanned;
        _totalReclaimed += m.Reclaimed;
        _reclaimedSinceWake += m.Reclaimed;
        if (VmScan.CongestionWaitAfter(_totalScanned, _priority))
        {
            Machine.Directory.Swap.Tell(new SwapDevice.CongestionWait(_replies.Expect(_afterNap), Self, VmScan.CongestionWait));
            return;
        }
        AfterNap();
    }

    private void AfterNap()
    {
        if (VmScan.ReclaimedEnough(_totalReclaimed)) { EndRun(balanced: false); return; }
        if (--_priority >= 0) { Shrink(); return; }
        // The priorities ran out with the zone still below pages_high: out, then goto loop_again. A zone with nothing
        // reclaimable becomes all_unreclaimable (pages_scanned >= 4 x its LRU pages, even 0 >= 0 on empty lists), and
        // the next run's search skips it below DEF_PRIORITY, so kswapd sleeps.
        EndRun(balanced: false);
    }

    /// <summary>balance_pgdat's <c>out</c>: prev_priority = temp_priority; if the zone is not yet balanced,
    /// <c>goto loop_again</c>; else kswapd goes back to sleep on kswapd_wait.</summary>
    private void EndRun(bool balanced)
    {
        _nodeRef.Tell(new EndReclaimRun());
        if (!balanced) { LoopAgain(); return; }
        _running = false;
        Machine.Trace.Emit("mm_vmscan_kswapd_sleep", $"nid={_node} reclaimed={_reclaimedSinceWake} free={_lastFree}");
    }
}

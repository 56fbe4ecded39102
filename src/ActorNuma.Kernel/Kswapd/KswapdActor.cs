using Akka.Actor;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary><c>kswapd%d</c>: sleeps until the allocator finds its node below pages_low, then runs
/// <c>balance_pgdat</c> — priorities 12 down to 0, a shrink_zone of its node's zone at each, until the zone is above
/// pages_high — and sleeps again. The zone's lists belong to the node, so kswapd drives and the node shrinks.</summary>
/// <remarks>Kernel: 2.6.14 mm/vmscan.c kswapd(), balance_pgdat().</remarks>
public sealed class KswapdActor : UntypedActor, IWithTimers
{
    /// <summary>blk_congestion_wait(WRITE, HZ/10).</summary>
    private static readonly TimeSpan CongestionWait = TimeSpan.FromMilliseconds(100);

    private readonly KernelMachine _machine;
    private readonly int _node;
    private readonly IActorRef _nodeRef;
    private readonly VmStat _stat = new();
    private readonly int _cpu;
    private bool _running;
    private long _token;
    private int _priority;
    private long _totalScanned;
    private long _totalReclaimed;

    public KswapdActor(KernelMachine machine, int node, IActorRef nodeRef)
    {
        _machine = machine;
        _node = node;
        _nodeRef = nodeRef;
        _cpu = machine.Topology.CpusOf(node).First();
        machine.RegisterKswapd(node, _stat);
    }

    public static Props Props(KernelMachine machine, int node, IActorRef nodeRef) =>
        Akka.Actor.Props.Create(() => new KswapdActor(machine, node, nodeRef)).OnKernelDispatcher();

    public ITimerScheduler Timers { get; set; } = null!;

    private sealed record CongestionWaitDone(long Token);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Kswapd.Wakeup m:
                // wakeup_kswapd only wakes a sleeping kswapd: while it balances, the wakeup has nothing to do.
                if (_running) return;
                _running = true;
                _machine.Trace.Emit("mm_vmscan_kswapd_wake", $"nid={_node} order={m.Order}");
                LoopAgain();
                break;
            case ShrinkZoneResult m when m.Token == _token: OnShrunk(m); break;
            case CongestionWaitDone m when m.Token == _token: NextPriority(); break;
            default: Unhandled(message); break;
        }
    }

    /// <summary>balance_pgdat's <c>loop_again</c>: a new run, counted in pageoutrun.</summary>
    private void LoopAgain()
    {
        _stat.Count(VmEvent.Pageoutrun);
        _totalScanned = 0;
        _totalReclaimed = 0;
        _priority = NumaNodeActor.DefPriority;
        Shrink();
    }

    private void Shrink()
    {
        _token++;
        _nodeRef.Tell(new ShrinkZone(_token, Self, _priority, IsKswapd: true, DrainCpu: _cpu, SkipIfAboveHigh: true,
            SetAllUnreclaimable: true));
    }

    /// <summary>The zone was above pages_high when looked at (all_zones_ok): done. Otherwise count what was done, wait
    /// for congestion below priority 10 if anything was scanned, stop at 32 reclaimed, else the next priority.</summary>
    private void OnShrunk(ShrinkZoneResult m)
    {
        if (m.AboveHigh) { EndRun(balanced: true); return; }
        _totalScanned += m.Scanned;
        _totalReclaimed += m.Reclaimed;
        if (_totalReclaimed >= NumaNodeActor.SwapClusterMax) { EndRun(balanced: false); return; }
        if (_totalScanned > 0 && _priority < NumaNodeActor.DefPriority - 2)
        {
            Timers.StartSingleTimer("congestion", new CongestionWaitDone(_token), CongestionWait);
            return;
        }
        NextPriority();
    }

    private void NextPriority()
    {
        if (--_priority >= 0) { Shrink(); return; }
        if (_totalScanned == 0)
        {
            // A whole run from priority 12 to 0 found nothing on the lists to scan. 2.6.14 would goto loop_again and
            // spin without ever sleeping; the emulator lets kswapd sleep until the next wakeup instead, so that a run
            // whose memory is all pinned still reaches a quiescent point.
            _nodeRef.Tell(new EndReclaimRun());
            _running = false;
            _machine.Trace.Emit("mm_vmscan_kswapd_sleep", $"nid={_node} reclaimed=0 reason=nothing_to_scan");
            return;
        }
        EndRun(balanced: false);
    }

    /// <summary>The end of the priority loop: prev_priority = temp_priority; if the zone is not yet balanced,
    /// <c>goto loop_again</c>; else kswapd sleeps.</summary>
    private void EndRun(bool balanced)
    {
        _nodeRef.Tell(new EndReclaimRun());
        if (!balanced) { LoopAgain(); return; }
        _running = false;
        _machine.Trace.Emit("mm_vmscan_kswapd_sleep", $"nid={_node} reclaimed={_totalReclaimed}");
    }
}

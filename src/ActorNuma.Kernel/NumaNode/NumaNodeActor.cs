using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>One NUMA node: <c>pg_data_t</c> with its single zone, <c>zone-&gt;lru_lock</c> and the per-CPU pagevecs of
/// the CPUs on the node. Every change to one of its frames happens in this actor.</summary>
public sealed partial class NumaNodeActor : KernelActor, IWithTimers
{
    private readonly KernelMachine _machine;
    private readonly int _node;
    private readonly NodeMemory _m;
    private readonly Dictionary<int, CpuPagevecs> _pagevecs;
    private readonly NodeState _state;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    /// <summary>The batches of this node waiting for other actors (swapout passes, shrink_list, page_referenced,
    /// swap-in reads), by token.</summary>
    private readonly ReplyRegistry _replies;

    public NumaNodeActor(KernelMachine machine, int node) : base(machine)
    {
        _machine = machine;
        _node = node;
        _replies = new ReplyRegistry($"node {node}");
        var t = machine.Topology;
        _m = new NodeMemory(node, t.FirstPfn(node), t.PagesPerNode, machine.Settings.WatermarksOf(node),
            holdsZeroPage: node == t.PfnToNid(t.ZeroPfn));
        _pagevecs = t.CpusOf(node).ToDictionary(c => c, c => new CpuPagevecs(c));
        _state = new NodeState(_m, _pagevecs.Values.OrderBy(p => p.Cpu).ToArray());
        _waitTable = new WaitTable<Waiter>(t.PagesPerNode);
        machine.Register(_state);
    }

    public static Props Props(KernelMachine machine, int node) =>
        Akka.Actor.Props.Create(() => new NumaNodeActor(machine, node)).OnKernelDispatcher();

    public ITimerScheduler Timers { get; set; } = null!;

    // ---- lifecycle ----------------------------------------------------------------------------------------------

    private IActorRef _kswapd = ActorRefs.Nobody;

    protected override void PreStart()
    {
        if (_machine.Settings.KswapdEnabled)
        {
            _kswapd = Context.ActorOf(KswapdActor.Props(_machine, _node, Self), $"kswapd{_node}");
        }
        // Registered either way (Nobody without kswapd), as it always was.
        Directory.AddKswapd(_node, _kswapd);
    }

    protected override SupervisorStrategy SupervisorStrategy() => KernelRootActor.KernelBugStrategy(_machine);

    private Topology Topology => _machine.Topology;
    private KernelDirectory Directory => _machine.Directory;
    private KernelTrace Trace => _machine.Trace;

    protected override void OnKernelMessage(object message)
    {
        switch (message)
        {
            case AllocPages m: HandleAllocPages(m); break;
            case LruCacheAdd m: HandleLruCacheAdd(m); break;
            case PagevecLruAdd m: HandlePagevecLruAdd(m); break;
            case LruAddDrain m: HandleLruAddDrain(m); break;
            case IsolateLruPages m: HandleIsolate(m); break;
            case PutbackLruPages m: HandlePutback(m); break;
            case SwapoutPass m: HandleSwapoutPass(m); break;
            case AccessPages m: HandleAccess(m); break;
            case WpPage m: HandleWpPage(m); break;
            case PageDupRmap m: HandlePageDupRmap(m); break;
            case ZapPages m: HandleZap(m); break;
            case SwapCacheHit m: HandleSwapCacheHit(m); break;
            case TryRemoveExclusive m: HandleTryRemoveExclusive(m); break;
            case RemoveExclusiveAfterSwapIn m:
                Directory.Swap.Tell(SwapDevice.SwapInExclusiveAnswer.Of(
                    RemoveExclusiveSwapPage(m.Slot, m.Pfn, RemoveExclusiveAfterSwapIn.ExpectedCount, evenIfShared: false)));
                break;
            case SwapDevice.AddedToSwap m: HandleAddedToSwap(m); break;
            case NumaTask.UnmapResult m: HandleUnmapResult(m); break;
            case SwapDevice.SwapWriteStarted m: HandleSwapWriteStarted(m); break;
            case SwapDevice.EndSwapWrite m: HandleEndSwapWrite(m); break;
            case SwapDevice.SwapCacheAdded m: HandleSwapCacheAdded(m); break;
            case SwapDevice.MigratedSwapCacheLeft m: HandleMigratedSwapCacheLeft(m); break;
            case SwapDevice.SwapReadDone m: HandleSwapReadDone(m); break;
            case PageCacheReleaseDeferred m: HandleDeferredRelease(m); break;
            case IMigrateMessage m: HandleMigrateMessage(m); break;
            case IHotplugMessage m: HandleHotplug(m); break;
            case DescribePages m:
                m.ReplyTo.Tell(Describe(m));
                break;
            case GetNodeInfo m:
                Sender.Tell(new NodeInfo(m.Token, _node, _m.FreePages, _m.NrActive, _m.NrInactive, _m.Watermarks));
                break;
            default:
                HandleReclaim(message);
                break;
        }
        FlushWokenBatches();
        ReleaseEndedPageouts();
    }

    // ---- helpers shared by every concern ----------------------------------------------------------------------

    /// <summary>The frame index of one of this node's pfns. Called for every page of every message, so the throw for a
    /// foreign pfn lives in a helper of its own and the JIT inlines the check.</summary>
    private int Idx(int pfn) => _m.Owns(pfn) ? _m.Index(pfn) : NotOwn(pfn);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private int NotOwn(int pfn) => throw new InvalidOperationException($"node {_node} got pfn {pfn}, which is not its own");

    private int Pfn(int idx) => _m.PfnOf(idx);

    private IActorRef NodeRef(int node) => Directory.Node(node);

    /// <summary>A put_page whose count reached zero on an LRU page: <c>__page_cache_release</c> runs as a separate
    /// step, as it takes zone-&gt;lru_lock after the atomic decrement in the kernel.</summary>
    private sealed record PageCacheReleaseDeferred(int Idx);

    private void PutPage(int idx)
    {
        if (_m.PutPage(idx) == PutResult.ReleasePending)
        {
            _state.PendingReleases++;
            Self.Tell(new PageCacheReleaseDeferred(idx));
        }
    }

    private void HandleDeferredRelease(PageCacheReleaseDeferred m)
    {
        _state.PendingReleases--;
        if (_m.Count(m.Idx) == 0 && _m.Place(m.Idx) is not (FramePlace.Free or FramePlace.Retired))
        {
            _m.PageCacheRelease(m.Idx);
        }
    }

    /// <summary><c>unlock_page</c>: clears PG_locked and wakes whoever waits on the page lock.</summary>
    private void UnlockPage(int idx)
    {
        _m.Clear(idx, PageFlags.Locked);
        Wake(idx, PageFlags.Locked);
    }

    /// <summary>One sleeper on a page bit: a continuation (<see cref="Action"/>), a page of a swapout pass
    /// (<see cref="PageoutBatch"/>), which resumes its pass where the bit says (after lock_page, after
    /// wait_on_page_writeback), or a swap-cache hit waiting in lock_page (<see cref="SwapHitSleeper"/>); the last two
    /// without a closure per page. One reference, so a queue entry of the wait table is 16 bytes.</summary>
    private readonly record struct Waiter(object Target)
    {
        public Waiter(Action then) : this((object)then)
        {
        }
    }

    /// <summary>A do_swap_page hit asleep in <c>lock_page</c>: it goes on with <see cref="SwapCacheHits"/>, pinned.</summary>
    private sealed record SwapHitSleeper(NumaNode.SwapCacheHit Request, SwapHit Hit);

    /// <summary>numa_maps' <c>gather_stats</c> for the pages of <paramref name="m"/>, summed here.</summary>
    /// <remarks>Kernel: 2.6.16 mm/mempolicy.c gather_stats().</remarks>
    private PagesDescribed Describe(DescribePages m)
    {
        int dirty = 0, swapCache = 0, active = 0, writeback = 0, mapMax = 0;
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            // Bit tests, not Enum.HasFlag: unoptimised (tier-0) code boxes HasFlag's argument, per page.
            var f = _m.Flags(idx);
            if (m.PteDirty is { } pteDirty && pteDirty[k] || (f & PageFlags.Dirty) != 0)
            {
                dirty++;
            }

            if ((f & PageFlags.SwapCache) != 0)
            {
                swapCache++;
            }

            if ((f & PageFlags.Active) != 0)
            {
                active++;
            }

            if ((f & PageFlags.Writeback) != 0)
            {
                writeback++;
            }

            mapMax = Math.Max(mapMax, _m.Mapcount(idx));
        }
        return new PagesDescribed(m.Token, m.Pfns.Length, dirty, swapCache, active, writeback, mapMax);
    }

    private readonly WaitTable<Waiter> _waitTable;

    private void Sleep(int idx, PageFlags bit, Waiter w) => _waitTable.Add(idx, bit, w);

    /// <summary><c>wake_up_page(page, bit)</c>: runs the sleepers of the page and bit in the order they slept.</summary>
    private void Wake(int idx, PageFlags bit)
    {
        if (!_waitTable.Take(idx, bit, out var first, out var more))
        {
            return;
        }

        Run(first);
        if (more is null)
        {
            return;
        }

        foreach (var w in more)
        {
            Run(w);
        }

        void Run(Waiter w)
        {
            switch (w.Target)
            {
                case PageoutBatch batch when bit == PageFlags.Locked: SwapoutLocked(batch, idx); break;
                case PageoutBatch batch: SwapoutWritebackDone(batch, idx); break;
                case SwapHitSleeper s: SwapCacheHits(s.Request, [s.Hit], pinned: true); break;
                default: ((Action)w.Target)(); break;
            }
        }
    }

    /// <summary>Frames that something waits on, for the liveness view of the checkers.</summary>
    internal int Waiters => _waitTable.Count;
}

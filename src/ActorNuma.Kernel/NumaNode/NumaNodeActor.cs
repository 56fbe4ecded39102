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
    private long _nextToken;

    public NumaNodeActor(KernelMachine machine, int node) : base(machine)
    {
        _machine = machine;
        _node = node;
        var t = machine.Topology;
        _m = new NodeMemory(node, t.FirstPfn(node), t.PagesPerNode, machine.Settings.WatermarksOf(node),
            holdsZeroPage: node == t.PfnToNid(t.ZeroPfn));
        _pagevecs = t.CpusOf(node).ToDictionary(c => c, c => new CpuPagevecs(c));
        _state = new NodeState(_m, _pagevecs.Values.OrderBy(p => p.Cpu).ToArray());
        _lockWaiters = new FrameWaitQueue(SwapoutLocked);
        _writebackWaiters = new FrameWaitQueue(SwapoutWritebackDone);
        machine.Register(_state);
    }

    public static Props Props(KernelMachine machine, int node) =>
        Akka.Actor.Props.Create(() => new NumaNodeActor(machine, node)).OnKernelDispatcher();

    public ITimerScheduler Timers { get; set; } = null!;

    private Topology Topology => _machine.Topology;
    private KernelDirectory Directory => _machine.Directory;
    private KernelTrace Trace => _machine.Trace;
    private long NextToken() => ++_nextToken;

    protected override void OnReceive(object message)
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
            case SwapDevice.AddedToSwap m: HandleAddedToSwap(m); break;
            case NumaTask.UnmapResult m: HandleUnmapResult(m); break;
            case SwapDevice.SwapWriteStarted m: HandleSwapWriteStarted(m); break;
            case SwapDevice.EndSwapWrite m: HandleEndSwapWrite(m); break;
            case SwapDevice.SwapCacheAdded m: HandleSwapCacheAdded(m); break;
            case SwapDevice.SwapReadDone m: HandleSwapReadDone(m); break;
            case PageCacheReleaseDeferred m: HandleDeferredRelease(m); break;
            case DescribePages m:
                m.ReplyTo.Tell(new PagesDescribed(m.Token, m.Pfns.Select(p => _m.Flags(Idx(p))).ToArray(),
                    m.Pfns.Select(p => _m.Mapcount(Idx(p))).ToArray()));
                break;
            case GetNodeInfo m:
                Sender.Tell(new NodeInfo(m.Token, _node, _m.FreePages, _m.NrActive, _m.NrInactive, _m.Watermarks));
                break;
            default:
                HandleReclaim(message);
                break;
        }
        FlushWokenBatches();
    }

    // ---- helpers shared by every concern ----------------------------------------------------------------------

    private int Idx(int pfn)
    {
        if (!_m.Owns(pfn)) throw new InvalidOperationException($"node {_node} got pfn {pfn}, which is not its own");
        return _m.Index(pfn);
    }

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
        if (_m.Count(m.Idx) == 0 && _m.Place(m.Idx) != FramePlace.Free) _m.PageCacheRelease(m.Idx);
    }

    /// <summary><c>unlock_page</c>: clears PG_locked and wakes whoever waits on the page lock.</summary>
    private void UnlockPage(int idx)
    {
        _m.Clear(idx, PageFlags.Locked);
        Wake(_lockWaiters, idx);
    }

    /// <summary>One sleeper on a frame: a continuation, or a page of a swapout pass, which resumes its pass where the
    /// queue says (after lock_page, after wait_on_page_writeback) without a closure per page.</summary>
    private readonly record struct Waiter(Action? Then, SwapoutBatch? Batch);

    /// <summary>A <c>wait_queue_head_t</c> per frame, for one kind of wait. Almost every waiting frame has a single
    /// sleeper, so the first one is kept inline and only further ones get a list; they wake in the order they queued.</summary>
    private sealed class FrameWaitQueue(Action<SwapoutBatch, int> resumeSwapout)
    {
        private readonly Dictionary<int, Waiter> _first = new();
        private readonly Dictionary<int, List<Waiter>> _more = new();

        public Action<SwapoutBatch, int> ResumeSwapout { get; } = resumeSwapout;
        public int Count => _first.Count;

        public void Add(int idx, Waiter w)
        {
            if (_first.TryAdd(idx, w)) return;
            if (!_more.TryGetValue(idx, out var list)) _more[idx] = list = new();
            list.Add(w);
        }

        /// <summary>Takes every sleeper of the frame off the queue (one that waits again queues anew).</summary>
        public bool TryTake(int idx, out Waiter first, out List<Waiter>? more)
        {
            more = null;
            if (!_first.Remove(idx, out first)) return false;
            _more.Remove(idx, out more);
            return true;
        }
    }

    private readonly FrameWaitQueue _lockWaiters;
    private readonly FrameWaitQueue _writebackWaiters;

    /// <summary>Runs the frame's waiters in the order they queued; one that waits again queues anew (they are all off
    /// the queue before the first runs).</summary>
    private static void Wake(FrameWaitQueue waiters, int idx)
    {
        if (!waiters.TryTake(idx, out var first, out var more)) return;
        Run(first);
        if (more is null) return;
        foreach (var w in more) Run(w);

        void Run(Waiter w)
        {
            if (w.Batch is { } batch) waiters.ResumeSwapout(batch, idx);
            else w.Then!();
        }
    }

    /// <summary>Frames that something waits on, for the liveness view of the checkers.</summary>
    internal int Waiters => _lockWaiters.Count + _writebackWaiters.Count;
}

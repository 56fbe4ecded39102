using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Kernel;

/// <summary>A task and its mm: VMAs with their policies, the page table, the task policy, the CPU it runs on, and what
/// it last wrote to each page. It runs one syscall at a time (mmap_sem for the emulator's purposes); the page-table
/// requests of other actors (try_to_unmap, page_referenced) are served at once, as the PTE lock allows in the kernel.</summary>
public sealed partial class NumaTaskActor : KernelActor, IWithTimers
{
    private readonly KernelMachine _machine;
    private readonly TaskState _state;
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Queue<(Syscall Call, IActorRef ReplyTo)> _queue = new();
    private readonly ReplyRegistry _replies;
    private IActorRef? _caller;
    private Syscall? _current;
    private int _ilNext;
    private uint _writeSeq;

    public NumaTaskActor(KernelMachine machine, TaskState state) : base(machine)
    {
        _machine = machine;
        _state = state;
        _replies = new ReplyRegistry($"task {state.Pid}");
        _ilNext = 0;
        machine.Register(state);
    }

    public static Props Props(KernelMachine machine, TaskState state) =>
        Akka.Actor.Props.Create(() => new NumaTaskActor(machine, state)).OnKernelDispatcher();

    public ITimerScheduler Timers { get; set; } = null!;

    private int Pid => _state.Pid;
    private Topology Topology => _machine.Topology;
    private KernelProfile Profile => _machine.Profile;
    private KernelDirectory Directory => _machine.Directory;
    private KernelTrace Trace => _machine.Trace;
    private int CpuNode => Topology.CpuToNode(_state.Cpu);

    protected override void OnKernelMessage(object message)
    {
        switch (message)
        {
            case Syscall call:
                _queue.Enqueue((call, Sender));
                if (_current is null)
                {
                    RunNext();
                }

                break;
            case TryToUnmap or PageReferenced or IMigrationPteRequest when _pageTableLock is PageTableLock.CopyingPageRange copy:
                copy.Waiting.Enqueue(message);
                break;
            case TryToUnmap m: HandleTryToUnmap(m); break;
            case PageReferenced m: HandlePageReferenced(m); break;
            case IMigrationPteRequest m: HandleMigrationPteRequest(m); break;
            case Resume m: HandleResume(m, Sender); break;
            case DoMovePages m when HoldsMmapSemForWrite:
                _deferredMoves.Enqueue(m);
                break;
            case DoMovePages m: HandleDoMovePages(m); break;
            case QueryPages m: QueryRange(m, Sender); break;
            case GetNumaMaps: GatherNumaMaps(Sender); break;
            case DoMigratePages m when HoldsMmapSemForWrite:
                _mmapSem.Readers.Enqueue(m);
                break;
            case DoMigratePages m: HandleDoMigratePages(m); break;
            case OomKill m: HandleOomKill(m); break;
            case GetTotalVm m:
                Sender.Tell(new TotalVm(m.Token, Pid, _state.OwnVmas.All.Sum(v => v.Pages), _state.Exited));
                break;
            case IKernelReply r:
                _replies.Deliver(r);
                _state.PendingReplies = _replies.Count;
                break;
            default: throw _replies.Unexpected(message);
        }
    }

    // ---- one syscall at a time --------------------------------------------------------------------------------

    private void RunNext()
    {
        while (_current is null && _queue.Count > 0)
        {
            if (StoppedHoldsQueue() || MmapSemWriterWaits(_queue.Peek().Call))
            {
                return;
            }

            var (call, replyTo) = _queue.Dequeue();
            _current = call;
            _caller = replyTo;
            _state.Busy = call.ToString();
            if (_state.Exited) { Complete(SyscallResult.Fail(Errno.ESRCH)); continue; }
            Dispatch(call);
        }
    }

    private void Dispatch(Syscall call)
    {
        switch (call)
        {
            case Mmap m: DoMmap(m); break;
            case Munmap m: DoMunmap(m); break;
            case Touch m: DoTouch(m); break;
            case Mbind m: DoMbind(m); break;
            case SetMempolicy m: DoSetMempolicy(m); break;
            case GetMempolicy m: DoGetMempolicy(m); break;
            case SchedSetaffinity m: DoSchedSetaffinity(m); break;
            case Swapout m: DoSwapout(m); break;
            case Exit: DoExit(SyscallResult.Ok()); break;
            case Fork m: DoFork(m); break;
            case MigratePages m: DoMigratePagesCall(m); break;
            case MovePages m: DoMovePagesCall(m); break;
            case Suspend m: DoSuspend(m); break;
            case OfflineNode m: DoOfflineNode(m); break;
            case OnlineNode m: DoOnlineNode(m); break;
            case InjectEcc m: DoInjectEcc(m); break;
            case Waitpid m: DoWaitpid(m); break;
            default: Complete(SyscallResult.Fail(Errno.EINVAL)); break;
        }
    }

    /// <summary>Ends the current syscall with its result and starts the next queued one.</summary>
    private void Complete(SyscallResult result)
    {
        var caller = _caller;
        _current = null;
        _state.Busy = null;
        _caller = null;
        caller?.Tell(result);
        if (_killPending && !_state.Exited)
        {
            _killPending = false;
            _current = new Exit();
            DoExit(SyscallResult.Fail(Errno.ENOMEM));
            return;
        }
        ReleaseMmapSem();
        while (_deferredMoves.Count > 0)
        {
            HandleDoMovePages(_deferredMoves.Dequeue());
        }

        RunNext();
    }


    // ---- replies matched to requests by token -----------------------------------------------------------------

    private long NextToken() => _replies.NextToken();

    /// <summary>The token of a request answered by one <typeparamref name="TReply"/>, which <paramref name="then"/>
    /// handles: <c>target.Tell(new Request(Expect&lt;Reply&gt;(r =&gt; ...), ...))</c>.</summary>
    private long Expect<TReply>(Action<TReply> then) where TReply : IKernelReply => Waiting(_replies.Expect(then));

    /// <summary>The token of a request answered by <paramref name="replies"/> replies.</summary>
    private long Expect<TReply>(int replies, Action<TReply> then) where TReply : IKernelReply =>
        Waiting(_replies.Expect(replies, then));

    /// <summary>The token of a request whose replies come until <paramref name="then"/> returns true.</summary>
    private long ExpectUntil<TReply>(Func<TReply, bool> then) where TReply : IKernelReply => Waiting(_replies.ExpectUntil(then));

    private long Waiting(long token)
    {
        _state.PendingReplies = _replies.Count;
        return token;
    }

    /// <summary>Runs <paramref name="then"/> after <paramref name="count"/> calls of the returned countdown.</summary>
    private static Action Join(int count, Action then)
    {
        if (count == 0) { then(); return () => { }; }
        var left = count;
        return () => { if (--left == 0) { then(); } };
    }

    // ---- rmap requests from nodes (served at once) ------------------------------------------------------------

    /// <summary><c>try_to_unmap_one</c> for each page. A young PTE fails and loses its young bit (ptep_clear_flush_young),
    /// unless the caller ignores it (2.6.16 migration). The answer reaches the node through the swap device, after
    /// <c>swap_duplicate</c> of the entries now in the PTEs.</summary>
    /// <remarks>Kernel: mm/rmap.c try_to_unmap_one().</remarks>
    private void HandleTryToUnmap(TryToUnmap m)
    {
        var n = m.Items.Length;
        var outcomes = new UnmapOutcome[n];
        var dirty = new bool[n];
        var pfns = new int[n];
        var unmapped = 0;
        for (var k = 0; k < n; k++)
        {
            var (pfn, vpn, slot) = m.Items[k];
            pfns[k] = pfn;
            var pte = _state.OwnPageTable.Get(vpn);
            if (_state.Exited || !pte.IsPresent || pte.Pfn != pfn) { outcomes[k] = UnmapOutcome.NotMapped; continue; }
            if (pte.Young && !m.IgnoreYoung)
            {
                _state.OwnPageTable.Set(vpn, pte.MkOld());
                outcomes[k] = UnmapOutcome.Young;
                continue;
            }
            dirty[k] = pte.Dirty;
            _state.OwnPageTable.Set(vpn, Pte.Swap(slot));
            unmapped++;
            outcomes[k] = UnmapOutcome.Unmapped;
        }
        // The slots of the PTEs now holding swap entries, in item order, in an array of their exact size.
        var slots = new int[unmapped];
        for (int k = 0, j = 0; j < unmapped; k++)
        {
            if (outcomes[k] == UnmapOutcome.Unmapped)
            {
                slots[j++] = m.Items[k].Slot;
            }
        }
        var result = new UnmapResult(m.Token, Pid, pfns, outcomes, dirty);
        Directory.Swap.Tell(new SwapDevice.SwapDuplicateAndForward(slots, m.Node, result));
    }

    /// <summary><c>page_referenced_one</c>: reports and clears the young bit of each PTE.</summary>
    private void HandlePageReferenced(PageReferenced m)
    {
        var young = new bool[m.Pfns.Length];
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var pte = _state.OwnPageTable.Get(m.Vpns[k]);
            if (_state.Exited || !pte.IsPresent || pte.Pfn != m.Pfns[k] || !pte.Young)
            {
                continue;
            }

            young[k] = true;
            _state.OwnPageTable.Set(m.Vpns[k], pte.MkOld());
        }
        m.Node.Tell(new PageReferencedResult(m.Token, Pid, m.Pfns, young));
    }

    // ---- queries ----------------------------------------------------------------------------------------------

    /// <summary>Counts the range's pages by where they are. Only the entries that exist are walked, so a huge range costs
    /// what its page table holds. The swap-cache count asks each node about its present pages (PG_swapcache lives
    /// with the frame), as numa_maps' gather_stats reads it.</summary>
    private void QueryRange(QueryPages m, IActorRef replyTo)
    {
        var perNode = new SortedDictionary<int, long>();
        long swapped = 0, present = 0;
        var start = m.Addr >> MmConstants.PageShift;
        var end = start + (ulong)Math.Max(0, m.Pages);
        if (end < start)
        {
            end = ulong.MaxValue;
        }

        var byNode = m.SwapCache ? new Dictionary<int, List<int>>() : null;
        foreach (var (_, pte) in _state.OwnPageTable.Range(start, end))
        {
            if (pte.IsSwap) { swapped++; continue; }
            if (!pte.IsPresent || pte.Pfn == Topology.ZeroPfn)
            {
                continue;
            }

            present++;
            var nid = Topology.PfnToNid(pte.Pfn);
            perNode[nid] = perNode.GetValueOrDefault(nid) + 1;
            if (byNode is null)
            {
                continue;
            }

            if (!byNode.TryGetValue(nid, out var list))
            {
                byNode[nid] = list = new();
            }

            list.Add(pte.Pfn);
        }
        var report = new PagesReport(perNode, swapped, (long)(end - start) - present - swapped);
        if (byNode is null) { replyTo.Tell(report); return; }
        long inCache = 0;
        var chunks = byNode.SelectMany(kv => kv.Value.Chunk(DescribeChunk).Select(c => (Node: kv.Key, Pfns: c))).ToList();
        var done = Join(chunks.Count, () => replyTo.Tell(report with { SwapCache = inCache }));
        foreach (var (node, pfns) in chunks)
        {
            Directory.Node(node).Tell(new NumaNode.DescribePages(Expect<NumaNode.PagesDescribed>(r =>
            {
                inCache += r.SwapCache;
                done();
            }), Self, pfns));
        }
    }

    private void Count(VmEvent e, long n = 1) => _state.OwnStat.Count(e, n);
}

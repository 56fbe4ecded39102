using System.Globalization;
using static ActorNuma.Kernel.SwapDevice;

namespace ActorNuma.Kernel;

/// <summary>The swap area and its block device: <c>swap_map</c>, the swap cache (<c>swapper_space</c>), what each slot
/// holds, and a write and a read queue (<see cref="SwapDeviceQueue"/>) of the configured depth and per-page latency.</summary>
public sealed class SwapDeviceActor : KernelActor, IWithTimers
{
    private readonly SwapMap _map;
    private readonly SwapState _state;
    private readonly SwapDeviceQueue _writeQueue;
    private readonly SwapDeviceQueue _readQueue;
    private long _timerSeq;
    /// <summary>The device asks nobody for an answer: any reply that reaches it is a BUG, raised here.</summary>
    private readonly ReplyRegistry _replies = new("swap device");

    public SwapDeviceActor(KernelMachine machine) : base(machine)
    {
        _map = new SwapMap(machine.Settings.SwapSlots);
        _state = new SwapState(_map);
        _writeQueue = new SwapDeviceQueue(machine.Settings.SwapQueueDepth, machine.Settings.SwapWriteLatency);
        _readQueue = new SwapDeviceQueue(machine.Settings.SwapQueueDepth, machine.Settings.SwapReadLatency);
        machine.Register(_state);
    }

    public static Props Props(KernelMachine machine) =>
        Akka.Actor.Props.Create(() => new SwapDeviceActor(machine)).OnKernelDispatcher();

    public ITimerScheduler Timers { get; set; } = null!;

    private KernelTrace Trace => Machine.Trace;
    private IActorRef NodeOf(int pfn) => Machine.Directory.Node(Machine.Topology.PfnToNid(pfn));
    private TimeSpan Now => Machine.Trace.Now;

    private sealed record WriteDone(IActorRef Node, int[] Pfns);
    private sealed record CongestionTimedOut(IActorRef ReplyTo, long Token);

    /// <summary>The sleepers of <c>blk_congestion_wait(WRITE, ...)</c>, in the order they came, each its timeout's key.</summary>
    private readonly List<(IActorRef ReplyTo, long Token, TimeSpan Since, TimeSpan Timeout)> _congestionWaiters = new();

    /// <summary>The write queue's congestion-off threshold with the default <c>nr_requests</c> (BLKDEV_MAX_RQ, 128):
    /// <c>nr_requests - nr_requests/8 - nr_requests/16 - 1</c>. Each page written is one request here (the elevator's
    /// merging of adjacent slots is not modelled).</summary>
    /// <remarks>Kernel: 2.6.14 drivers/block/ll_rw_blk.c blk_queue_congestion_threshold().</remarks>
    private const int CongestionOffThreshold = 128 - 128 / 8 - 128 / 16 - 1;

    /// <summary>A write request completed (<c>end_that_request_last</c> → <c>freed_request</c>) with fewer requests in
    /// flight than the congestion-off threshold: <c>clear_queue_congested</c> wakes every sleeper of the write queue,
    /// after the pages' own end_page_writeback. While more are in flight the queue stays congested and they sleep on.</summary>
    /// <remarks>Kernel: 2.6.14 drivers/block/ll_rw_blk.c freed_request(), clear_queue_congested().</remarks>
    private void WakeCongestionWaiters()
    {
        foreach (var waiter in _congestionWaiters)
        {
            CancelKernelTimer(Timers, (waiter.ReplyTo, waiter.Token));
            CongestionWaitEnds(waiter, timedOut: false);
        }
        _congestionWaiters.Clear();
    }

    /// <summary>Where a sleeper is in <see cref="_congestionWaiters"/> (-1: gone). A loop, not a lambda: a lambda that
    /// captures the message makes the compiler allocate its closure on entry to <see cref="OnKernelMessage"/>, that is
    /// for every message the device handles.</summary>
    private int CongestionWaiterIndex(IActorRef replyTo, long token)
    {
        for (var k = 0; k < _congestionWaiters.Count; k++)
        {
            if (_congestionWaiters[k].ReplyTo.Equals(replyTo) && _congestionWaiters[k].Token == token)
            {
                return k;
            }
        }

        return -1;
    }

    /// <summary>A sleeper of <c>blk_congestion_wait</c> wakes: traced as the later kernel's
    /// <c>writeback_congestion_wait</c> tracepoint does (the timeout and the time actually slept, in microseconds).</summary>
    /// <remarks>Kernel: 2.6.37 mm/backing-dev.c congestion_wait(), trace_writeback_congestion_wait().</remarks>
    private void CongestionWaitEnds((IActorRef ReplyTo, long Token, TimeSpan Since, TimeSpan Timeout) waiter, bool timedOut)
    {
        Trace.Emit("writeback_congestion_wait",
            $"usec_timeout={(long)waiter.Timeout.TotalMicroseconds} usec_delayed={(long)(Now - waiter.Since).TotalMicroseconds}");
        waiter.ReplyTo.Tell(new CongestionWaitDone(waiter.Token, timedOut));
    }

    private sealed record ReadDone(IActorRef Node, long Token, int[] Slots, int[] Pfns);

    protected override void OnKernelMessage(object message)
    {
        switch (message)
        {
            case AddToSwap m: HandleAddToSwap(m); break;
            case SwapDuplicateAndForward m:
                foreach (var slot in m.Slots)
                {
                    if (!_map.SwapDuplicate(slot))
                    {
                        throw new InvalidOperationException($"swap_duplicate: bad entry {slot}");
                    }
                }

                m.ForwardTo.Tell(m.Message);
                break;
            case SwapWritepage m: HandleWritepage(m); break;
            case WriteDone m:
                _state.WritesInFlight -= m.Pfns.Length;
                m.Node.Tell(new EndSwapWrite(m.Pfns));
                if (_state.WritesInFlight < CongestionOffThreshold)
                {
                    WakeCongestionWaiters();
                }

                break;
            case CongestionWait m:
                _congestionWaiters.Add((m.ReplyTo, m.Token, Now, m.Timeout));
                StartKernelTimer(Timers, (m.ReplyTo, m.Token), new CongestionTimedOut(m.ReplyTo, m.Token), m.Timeout);
                break;
            case CongestionTimedOut m:
                var at = CongestionWaiterIndex(m.ReplyTo, m.Token);
                CongestionWaitEnds(_congestionWaiters[at], timedOut: true);
                _congestionWaiters.RemoveAt(at);
                break;
            case SwapCacheDeleted m:
                for (var k = 0; k < m.Slots.Length; k++)
                {
                    _map.DeleteFromSwapCache(m.Slots[k], m.Pfns[k]);
                    _map.SwapFree(m.Slots[k]);
                }
                break;
            case ExclusiveRemoved m:
                ExclusiveSwapPagesRemoved(m.Slots, m.Pfns);
                break;
            case ExclusiveRefused:
                break;
            case SwapInExclusiveAnswer m: SwapInExclusiveAnswered(m.Removed); break;
            case LookupSwapCache m: Lookup(m.Token, m.Task, m.TaskId, m.Slots, m.Vpns); break;
            case SwapCacheHitStale m: Lookup(m.Token, m.Task, m.TaskId, m.Slots, m.Vpns); break;
            case ReadSwapCacheAsync m: HandleReadSwapCacheAsync(m); break;
            case ReadDone m:
                _state.ReadsInFlight -= m.Slots.Length;
                HandleReadDone(m);
                break;
            case SwapFree m: HandleSwapFree(m); break;
            case SwapFreeAfterSwapIn m: HandleSwapFreeAfterSwapIn(m); break;
            case OfferSwapCache m:
                if (_map.Count(m.Slot) == 1 && _map.CachedPfn(m.Slot) == m.Pfn)
                {
                    NodeOf(m.Pfn).Tell(new NumaNode.TryRemoveExclusive([m.Slot], [m.Pfn], m.ExpectedCount));
                }

                break;
            case CanShareSwapPage m:
                // Behind the swap-ins still queued: a fault's own swap_free comes before its do_wp_page asks.
                if (_swapInExclusivePending is not null || _swapInFrees.Count > 0)
                {
                    _swapInFrees.Enqueue((null, m));
                }
                else
                {
                    AnswerCanShare(m);
                }

                break;
            case GetSwapInfo m: Sender.Tell(new SwapInfo(m.Token, _map.TotalSwapPages, _map.NrSwapPages)); break;
            case MigratedLeaveSwapCache m:
            {
                var deleted = _map.CachedPfn(m.Slot) == m.Pfn && _map.Count(m.Slot) == 1;
                if (deleted)
                {
                    _map.DeleteFromSwapCache(m.Slot, m.Pfn);
                    _map.SwapFree(m.Slot);
                }

                m.Node.Tell(new MigratedSwapCacheLeft(m.Slot, m.Pfn, deleted));
                break;
            }
            case SwapCacheReplace m:
                for (var k = 0; k < m.Slots.Length; k++)
                {
                    _map.DeleteFromSwapCache(m.Slots[k], m.OldPfns[k]);
                    _map.AddToSwapCache(m.Slots[k], m.NewPfns[k]);
                }
                break;
            case IKernelReply m: _replies.Deliver(m); break;
            default: Unhandled(message); break;
        }
    }

    /// <summary><c>add_to_swap</c>: <c>get_swap_page</c> then <c>__add_to_swap_cache</c> (the slot starts with the
    /// cache's reference). Without a free slot the page gets 0 and stays in RAM.</summary>
    private void HandleAddToSwap(AddToSwap m)
    {
        var slots = new int[m.Pfns.Length];
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var slot = _map.GetSwapPage();
            if (slot == 0)
            {
                continue;
            }

            var err = _map.AddToSwapCache(slot, m.Pfns[k]);
            if (err != Errno.None)
            {
                throw new InvalidOperationException($"__add_to_swap_cache({slot}) of a fresh slot: {err}");
            }

            slots[k] = slot;
        }
        m.ReplyTo.Tell(new AddedToSwap(m.Token, m.Pfns, slots));
    }

    /// <summary><c>swap_writepage</c>: <c>remove_exclusive_swap_page</c> first; otherwise <c>pswpout</c> and the page's
    /// data goes to the slot, completing after the queue's latency.</summary>
    /// <remarks>Kernel: mm/page_io.c swap_writepage(), end_swap_bio_write().</remarks>
    private void HandleWritepage(SwapWritepage m)
    {
        var written = _written;
        var exclusive = _exclusive;
        written.Clear();
        exclusive.Clear();
        foreach (var item in m.Items)
        {
            if (item.PageCountIsTwo && _map.Count(item.Slot) == 1 && _map.CachedPfn(item.Slot) == item.Pfn)
            {
                _map.DeleteFromSwapCache(item.Slot, item.Pfn);
                _map.SwapFree(item.Slot);
                exclusive.Add(item.Pfn);
                continue;
            }
            _map.Write(item.Slot, item.Contents);
            _state.OwnStat.Count(VmEvent.Pswpout);
            _state.OwnStat.Count(VmEvent.Pgpgout, 4);
            written.Add(item.Pfn);
        }
        // One array of the written pages for both messages: neither receiver writes to a message's arrays.
        var writtenPfns = written.ToArray();
        m.Node.Tell(new SwapWriteStarted(m.Token, writtenPfns, exclusive.ToArray()));
        if (written.Count == 0)
        {
            return;
        }

        _state.WritesInFlight += written.Count;
        Submit(_writeQueue, written.Count, new WriteDone(m.Node, writtenPfns));
    }

    /// <summary>Per-actor scratch of <see cref="HandleWritepage"/> and <see cref="HandleReadSwapCacheAsync"/> (a message
    /// gets arrays made from them, never them).</summary>
    private readonly List<int> _written = new();
    private readonly List<int> _exclusive = new();
    private readonly List<int> _readSlots = new();
    private readonly List<int> _readPfns = new();

    /// <summary><c>end_swap_bio_read</c> for a finished read: each slot's data, to the node.</summary>
    private void HandleReadDone(ReadDone m)
    {
        var contents = new uint[m.Slots.Length];
        for (var k = 0; k < m.Slots.Length; k++)
        {
            contents[k] = _map.Contents(m.Slots[k]);
        }
        m.Node.Tell(new SwapReadDone(m.Token, m.Slots, m.Pfns, contents));
    }

    /// <summary>Queues a request's pages on one direction of the device; <paramref name="completion"/> comes back to this
    /// actor when the last of them is done (at once on a device without latency).</summary>
    private void Submit(SwapDeviceQueue queue, int pages, object completion)
    {
        var now = Now;
        var due = queue.Submit(now, pages);
        if (due <= now)
        {
            Self.Tell(completion);
        }
        else
        {
            StartKernelTimer(Timers, ++_timerSeq, completion, due - now);
        }
    }

    /// <summary><c>lookup_swap_cache</c> for each slot: hits go to their pages' nodes with swap_map[slot], one message
    /// per node; misses go back to the task in one message.</summary>
    private void Lookup(long token, IActorRef task, int taskId, int[] slots, uint[] vpns)
    {
        var missSlots = _missSlots;
        var missVpns = _missVpns;
        missSlots.Clear();
        missVpns.Clear();
        var hits = _hitsByNode ??= new List<NumaNode.SwapHit>[Machine.Topology.Nodes];
        for (var k = 0; k < slots.Length; k++)
        {
            var pfn = _map.CachedPfn(slots[k]);
            if (pfn < 0) { missSlots.Add(slots[k]); missVpns.Add(vpns[k]); continue; }
            var node = Machine.Topology.PfnToNid(pfn);
            (hits[node] ??= new()).Add(new NumaNode.SwapHit(slots[k], pfn, vpns[k]));
        }
        // One message per node, in node order.
        for (var node = 0; node < hits.Length; node++)
        {
            if (hits[node] is not { Count: > 0 } list)
            {
                continue;
            }

            Machine.Directory.Node(node).Tell(new NumaNode.SwapCacheHit(token, task, taskId, list.ToArray()));
            list.Clear();
        }

        if (missSlots.Count == 0)
        {
            return;
        }

        var starts = new int[missSlots.Count];
        var counts = new int[missSlots.Count];
        for (var k = 0; k < starts.Length; k++)
        {
            (starts[k], counts[k]) = ValidSwapHandles(missSlots[k]);
        }
        task.Tell(new SwapCacheMiss(token, missSlots.ToArray(), missVpns.ToArray(), starts, counts));
    }

    /// <summary>Per-actor scratch of <see cref="Lookup"/>: misses, and hits by node (emptied as each node is told).</summary>
    private readonly List<int> _missSlots = new();
    private readonly List<uint> _missVpns = new();
    private List<NumaNode.SwapHit>[]? _hitsByNode;

    /// <summary><c>valid_swaphandles()</c>: the aligned cluster of 2^page_cluster slots holding <paramref name="slot"/>
    /// (slot 0, the header, left out), cut at the end of the area and at the first free slot.</summary>
    /// <remarks>Kernel: 2.6.14 mm/swapfile.c valid_swaphandles().</remarks>
    private (int Start, int Count) ValidSwapHandles(int slot)
    {
        var cluster = Machine.Settings.EffectivePageCluster;
        if (cluster == 0)
        {
            return (0, 0);
        }

        var i = 1 << cluster;
        var toff = (slot >> cluster) << cluster;
        if (toff == 0) { toff++; i--; }
        var start = toff;
        var count = 0;
        do
        {
            if (toff > _map.TotalSwapPages || _map.Count(toff) == 0)
            {
                break;
            }

            toff++;
            count++;
        } while (--i > 0);
        return (start, count);
    }

    /// <summary>The slot side of <c>read_swap_cache_async</c> for each new page: <c>add_to_swap_cache</c> takes the cache's
    /// reference on the slot (<c>swap_duplicate</c>) and fails with -EEXIST when another fault's page caches it by now;
    /// the others are read (<c>swap_readpage</c>, pswpin) and complete together after the queue's latency.</summary>
    private void HandleReadSwapCacheAsync(ReadSwapCacheAsync m)
    {
        var exists = new bool[m.Slots.Length];
        var readSlots = _readSlots;
        var readPfns = _readPfns;
        readSlots.Clear();
        readPfns.Clear();
        for (var k = 0; k < m.Slots.Length; k++)
        {
            // -ENOENT: a readahead slot freed since valid_swaphandles looked (swap_duplicate fails); the page is dropped
            // like a lost -EEXIST race.
            if (!_map.SwapDuplicate(m.Slots[k])) { exists[k] = true; continue; }
            exists[k] = _map.AddToSwapCache(m.Slots[k], m.Pfns[k]) == Errno.EEXIST;
            if (exists[k]) { _map.SwapFree(m.Slots[k]); continue; }
            readSlots.Add(m.Slots[k]);
            readPfns.Add(m.Pfns[k]);
        }
        m.Node.Tell(new SwapCacheAdded(m.Token, m.Slots, m.Pfns, exists));
        if (readSlots.Count == 0)
        {
            return;
        }

        _state.OwnStat.Count(VmEvent.Pswpin, readSlots.Count);
        _state.OwnStat.Count(VmEvent.Pgpgin, 4L * readSlots.Count);
        _state.ReadsInFlight += readSlots.Count;
        // Every slot read (the usual case): the request's arrays, which SwapCacheAdded carries too, read by all and
        // written by none.
        var all = readSlots.Count == m.Slots.Length;
        Submit(_readQueue, readSlots.Count, new ReadDone(m.Node, m.Token, all ? m.Slots : readSlots.ToArray(), all ? m.Pfns : readPfns.ToArray()));
    }

    /// <summary><c>swap_free</c> for each entry; with FreeCache, <c>free_swap_and_cache</c>: a slot left with only the
    /// cache's reference asks the page's node to drop the page from the cache.</summary>
    private void HandleSwapFree(SwapFree m)
    {
        var offers = new ExclusiveOffers(this, expectedCount: 1);
        foreach (var slot in m.Slots)
        {
            _map.SwapFree(slot);
            if (!m.FreeCache || _map.Count(slot) != 1)
            {
                continue;
            }

            var pfn = _map.CachedPfn(slot);
            // free_swap_and_cache(): "Only cache user (+us), or swap space full? Free it!"
            if (pfn >= 0)
            {
                offers.Add(slot, pfn, evenIfShared: _map.VmSwapFull);
            }
        }
        offers.Send();
    }

    /// <summary>Swap-ins whose <c>swap_free</c> and <c>vm_swap_full()</c> test have not run yet, in fault order, and
    /// the page whose <c>remove_exclusive_swap_page</c> is out at a node (at most one). The queue holds whole messages (the faults of a
    /// round, from <see cref="_swapInNext"/> on for the first) and the can_share_swap_page questions between them: a
    /// queue entry per fault grew with every fault waiting.</summary>
    private readonly Queue<(SwapFreeAfterSwapIn? Faults, CanShareSwapPage? Share)> _swapInFrees = new();
    private int _swapInNext;
    private (int Slot, int Pfn)? _swapInExclusivePending;

    /// <summary>do_swap_page: <c>swap_free(entry)</c>, then <c>remove_exclusive_swap_page</c> if <c>vm_swap_full()</c>. The
    /// kernel asks vm_swap_full() once per fault, after the previous fault's remove_exclusive_swap_page has freed its
    /// slot, so the faults are taken one at a time: while a node decides one page, the faults after it wait.</summary>
    /// <remarks>Kernel: 2.6.14 mm/memory.c do_swap_page(); mm/swapfile.c remove_exclusive_swap_page().</remarks>
    private void HandleSwapFreeAfterSwapIn(SwapFreeAfterSwapIn m)
    {
        if (m.Slots.Length > 0)
        {
            _swapInFrees.Enqueue((m, null));
        }

        SwapFreeAfterSwapIns();
    }

    private void SwapFreeAfterSwapIns()
    {
        while (_swapInExclusivePending is null && _swapInFrees.TryPeek(out var head))
        {
            if (head.Share is { } share)
            {
                _swapInFrees.Dequeue();
                AnswerCanShare(share);
                continue;
            }
            var faults = head.Faults!;
            var (slot, pfn) = (faults.Slots[_swapInNext], faults.Pfns[_swapInNext]);
            if (++_swapInNext == faults.Slots.Length)
            {
                _swapInFrees.Dequeue();
                _swapInNext = 0;
            }
            _map.SwapFree(slot);
            if (!_map.VmSwapFull || _map.Count(slot) != 1 || _map.CachedPfn(slot) != pfn)
            {
                continue;
            }

            _swapInExclusivePending = (slot, pfn);
            NodeOf(pfn).Tell(new NumaNode.RemoveExclusiveAfterSwapIn(slot, pfn));
        }
    }

    /// <summary><c>can_share_swap_page</c> for do_wp_page: the page's mapcount plus, when that is at most one, the slot's
    /// references other than the cache's own; shareable iff the sum is 1.</summary>
    private void AnswerCanShare(CanShareSwapPage m)
    {
        var share = m.Mapcount + (_map.Count(m.Slot) - 1) == 1;
        m.Task.Tell(new CanShareSwapPageResult(m.Token, m.Pfn, share, m.Contents));
    }

    /// <summary>The node took these pages out of the swap cache (<c>remove_exclusive_swap_page</c>): the entries and
    /// the cache's references on their slots go.</summary>
    private void ExclusiveSwapPagesRemoved(int[] slots, int[] pfns)
    {
        for (var k = 0; k < slots.Length; k++)
        {
            ExclusiveSwapPageRemoved(slots[k], pfns[k]);
        }
        Trace.EmitEach(RemovedTrace, slots.Length, (Slots: slots, Pfns: pfns), static (s, k) => new TraceValues(s.Slots[k], s.Pfns[k]));
    }

    private void ExclusiveSwapPageRemoved(int slot, int pfn)
    {
        _map.DeleteFromSwapCache(slot, pfn);
        _map.SwapFree(slot);
    }

    private static readonly TraceLayout RemovedTrace = new("mm_remove_exclusive_swap_page", "slot", "pfn");

    /// <summary>The node answered for the page of <see cref="_swapInExclusivePending"/>; the faults after it go on.</summary>
    private void SwapInExclusiveAnswered(bool removed)
    {
        var (slot, pfn) = _swapInExclusivePending
            ?? throw new KernelBugException("remove_exclusive_swap_page answered for a swap-in while none was asked");
        if (removed)
        {
            ExclusiveSwapPageRemoved(slot, pfn);
            Trace.EmitEach(RemovedTrace, 1, (Slot: slot, Pfn: pfn), static (s, _) => new TraceValues(s.Slot, s.Pfn));
        }

        _swapInExclusivePending = null;
        SwapFreeAfterSwapIns();
    }

    /// <summary>The remove_exclusive_swap_page requests of one message, one TryRemoveExclusive per node (and per
    /// EvenIfShared, which vm_swap_full can change between two slots), each in slot order.</summary>
    private sealed class ExclusiveOffers(SwapDeviceActor device, int expectedCount)
    {
        private List<(int Node, bool EvenIfShared, List<int> Slots, List<int> Pfns)>? _groups;

        public void Add(int slot, int pfn, bool evenIfShared)
        {
            var node = device.Machine.Topology.PfnToNid(pfn);
            _groups ??= new();
            foreach (var g in _groups)
            {
                if (g.Node == node && g.EvenIfShared == evenIfShared) { g.Slots.Add(slot); g.Pfns.Add(pfn); return; }
            }

            _groups.Add((node, evenIfShared, [slot], [pfn]));
        }

        public void Send()
        {
            if (_groups is null)
            {
                return;
            }

            foreach (var g in _groups)
            {
                device.Machine.Directory.Node(g.Node).Tell(
                    new NumaNode.TryRemoveExclusive(g.Slots.ToArray(), g.Pfns.ToArray(), expectedCount, g.EvenIfShared));
            }
        }
    }
}

using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>The node's part of <c>do_swap_page</c>: mapping a page found in the swap cache, and reading a slot into a new
/// page (<c>read_swap_cache_async</c>).</summary>
public sealed partial class NumaNodeActor
{
    /// <summary>The swap-ins of one allocation in progress: the first <see cref="Count"/> items of the request, which
    /// got frames here (the rest went on along the zonelist), in the order the swap device answers for them.</summary>
    private sealed record SwapInRead(AllocPages Request, int Count)
    {
        /// <summary>The item of a slot the device names, with <paramref name="from"/> the position to search from: the
        /// device answers in request order (SwapReadDone for a subsequence of it), so one forward walk finds each, as a
        /// lookup by slot would (the fault's slots are distinct).</summary>
        public AllocItem Item(int slot, ref int from)
        {
            var items = Request.Items;
            for (var k = from; k < Count; k++)
            {
                if (items[k].SwapSlot == slot)
                {
                    from = k + 1;
                    return items[k];
                }
            }

            throw new KernelBugException($"swap-in answer for slot {slot}, which the allocation did not read (or not in its order)");
        }
    }

    /// <summary>New pages for swap-ins: locked (<c>__add_to_swap_cache</c> sets PG_locked, and the read holds it), each
    /// with the allocation's reference; the device adds them to the swap cache, or answers that another fault already
    /// did (-EEXIST).</summary>
    /// <param name="pfns">The new frames of the request's first items, one each: the request to the device carries it.</param>
    private void StartSwapIns(AllocPages m, int[] pfns)
    {
        var slots = new int[pfns.Length];
        for (var k = 0; k < pfns.Length; k++)
        {
            _m.Set(Idx(pfns[k]), PageFlags.Locked);
            slots[k] = m.Items[k].SwapSlot;
        }

        var token = _replies.Open(new SwapInRead(m, pfns.Length));
        Directory.Swap.Tell(new SwapDevice.ReadSwapCacheAsync(token, Self, slots, pfns));
    }

    /// <summary>The rest of <c>read_swap_cache_async</c> once the page is in the swap cache, as 2.6.14 orders it:
    /// <c>lru_cache_add_active</c> before the read is submitted, so a page under read I/O sits in the faulting CPU's
    /// pagevec and, after <c>swapin_readahead</c>'s closing <c>lru_add_drain()</c>, on the active list, locked until the
    /// read completes. A readahead page then drops the allocation's reference (<c>page_cache_release(new_page)</c>) and
    /// keeps only the swap cache's; the faulting page's reference is the fault's, held until the read is in and the PTE
    /// maps the page.</summary>
    /// <remarks>Kernel: 2.6.14 mm/swap_state.c read_swap_cache_async(); mm/memory.c swapin_readahead().</remarks>
    private void HandleSwapCacheAdded(SwapDevice.SwapCacheAdded m)
    {
        var read = _replies.State<SwapInRead>(m);
        var r = read.Request;
        var racedVpns = _swapInRacedVpns;
        var racedSlots = _swapInRacedSlots;
        var cluster = _swapInCluster;
        var alone = _swapInAlone;
        racedVpns.Clear();
        racedSlots.Clear();
        cluster.Clear();
        alone.Clear();
        var from = 0;
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            var item = read.Item(m.Slots[k], ref from);
            if (m.Exists[k])
            {
                _m.Clear(idx, PageFlags.Locked);
                PutPage(idx);
                racedVpns.Add(item.Vpn);
                racedSlots.Add(m.Slots[k]);
                continue;
            }
            _m.AddToSwapCache(idx, m.Slots[k], forWrite: false);   // SwapReadDone follows after the read latency.
            _m.GetPage(idx);                                       // lru_cache_add_active's reference
            _m.SetPlace(idx, FramePlace.Pagevec, r.Cpu);
            if (item.Kind == SwapInKind.Readahead)
            {
                PutPage(idx);
            }
            else
            {
                _m.Hold(idx, new NodeMemory.PageHold(r.Task, "do_swap_page waiting for the read"));
            }

            (item.Kind == SwapInKind.Fault ? alone : cluster).Add(m.Pfns[k]);
        }
        if (racedVpns.Count == m.Pfns.Length)
        {
            _replies.Close(m.Token);
        }

        if (racedVpns.Count > 0)
        {
            r.ReplyTo.Tell(new SwapInRaced(r.Token, racedVpns.ToArray(), racedSlots.ToArray()));
        }

        if (cluster.Count + alone.Count == 0)
        {
            return;
        }
        // swapin_readahead() ends with lru_add_drain(), after the cluster's pages went into the pagevec and before the
        // faulting page, when the cluster did not cover it, is read on its own.
        var add = new LruCacheAdd(r.Cpu, cluster.ToArray(), Active: true, null, null) { DrainAfter = true, AfterDrain = alone.ToArray() };
        var cpuNode = Topology.CpuToNode(r.Cpu);
        if (cpuNode == _node)
        {
            HandleLruCacheAdd(add);
        }
        else
        {
            NodeRef(cpuNode).Tell(add);
        }
    }

    /// <summary>The pages of a <see cref="HandleSwapCacheAdded"/> that go into the pagevec with the cluster, and after
    /// the drain, and the faults that lost the race (per-actor scratch: a message owns only the arrays made from
    /// them).</summary>
    private readonly List<int> _swapInCluster = new();
    private readonly List<int> _swapInAlone = new();
    private readonly List<uint> _swapInRacedVpns = new();
    private readonly List<int> _swapInRacedSlots = new();

    /// <summary>The reads finished (<c>end_swap_bio_read</c>): each page is up to date and unlocked; the faulting pages
    /// then go on in do_swap_page (<c>mark_page_accessed</c>, the PTE maps the page with the fault's reference).</summary>
    private void HandleSwapReadDone(SwapDevice.SwapReadDone m)
    {
        var read = _replies.State<SwapInRead>(m);
        _replies.Close(m.Token);
        var r = read.Request;
        var pages = new MappedSwapPage[m.Pfns.Length];
        var from = 0;
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            var item = read.Item(m.Slots[k], ref from);
            _m.SetContents(idx, m.Contents[k]);
            _m.Set(idx, PageFlags.Uptodate);
            UnlockPage(idx);
            if (item.Kind != SwapInKind.Readahead)
            {
                _m.ReleaseHold(idx);
                MarkPageAccessed(idx);
                _m.AddRmap(idx, r.Task, item.Vpn);
            }
            pages[k] = new MappedSwapPage(m.Slots[k], m.Pfns[k], m.Contents[k], item.Kind);
        }
        r.ReplyTo.Tell(new SwapCacheMapped(r.Token, pages));
    }

    /// <summary><c>lookup_swap_cache</c> hits: each page is mapped where it is, after <c>lock_page</c> (a read or an
    /// eviction step in progress holds it) and a check that it still caches the slot; stale hits go back to the swap
    /// device, which looks again.</summary>
    private void HandleSwapCacheHit(NumaNode.SwapCacheHit m) => SwapCacheHits(m, m.Hits, pinned: false);

    /// <param name="pinned">The hits already hold the reference <c>lookup_swap_cache</c> took: they waited for the
    /// page lock.</param>
    /// <remarks>Kernel: mm/memory.c do_swap_page(): <c>lookup_swap_cache()</c> (find_get_page, a page reference) comes
    /// before <c>lock_page()</c>, so a page the fault sleeps on cannot be freed meanwhile: swapout_pages and shrink_list
    /// free only at page_count == 2 (cache + isolator), and with the fault's reference they keep the page and unlock
    /// it, and the fault maps it where it is. That reference becomes the mapping's.</remarks>
    private void SwapCacheHits(NumaNode.SwapCacheHit m, ReadOnlySpan<SwapHit> hits, bool pinned)
    {
        // The mapped pages gather in per-actor scratch and the answer gets an array of exactly them: most hits of a
        // readahead cluster find their page still locked by its read and sleep, so an array at the hits' size was
        // mostly empty. (Taken off the field while in use: nothing here wakes a sleeper, but a nested call would get
        // a list of its own.)
        var mapped = _mappedScratch ?? new List<MappedSwapPage>();
        _mappedScratch = null;
        mapped.Clear();
        // Stale hits are rare: a list only for a call that meets one.
        List<SwapHit>? stale = null;
        foreach (var hit in hits)
        {
            var idx = Idx(hit.Pfn);
            if (pinned)
            {
                _m.ReleaseHold(idx);
            }

            if (!StillCaches(idx, hit.Slot))
            {
                if (pinned)
                {
                    PutPage(idx);
                }

                (stale ??= new()).Add(hit);
                continue;
            }
            if (_m.Test(idx, PageFlags.Locked))
            {
                if (!pinned)
                {
                    _m.GetPage(idx);
                }

                _m.Hold(idx, new NodeMemory.PageHold(m.TaskId, "do_swap_page sleeping in lock_page"));
                Sleep(idx, PageFlags.Locked, new Waiter(new SwapHitSleeper(m, hit)));
                continue;
            }
            MarkPageAccessed(idx);
            if (!pinned)
            {
                _m.GetPage(idx);
            }

            _m.AddRmap(idx, m.TaskId, hit.Vpn);
            mapped.Add(new MappedSwapPage(hit.Slot, hit.Pfn, _m.Contents(idx)));
        }
        if (mapped.Count > 0)
        {
            Trace.Emit("mm_swap_cache_hit", $"node={_node} task={m.TaskId} nr={mapped.Count} first_pfn={mapped[0].Pfn}");
            m.Task.Tell(new SwapCacheMapped(m.Token, mapped.ToArray()));
        }
        mapped.Clear();
        _mappedScratch = mapped;
        if (stale is not null)
        {
            Directory.Swap.Tell(new SwapDevice.SwapCacheHitStale(m.Token, m.Task, m.TaskId, stale.Select(h => h.Slot).ToArray(),
                stale.Select(h => h.Vpn).ToArray()));
        }
    }

    private List<MappedSwapPage>? _mappedScratch;

    private bool StillCaches(int idx, int slot) =>
        _m.Test(idx, PageFlags.SwapCache) && _m.SwapEntry(idx) == slot && _m.Place(idx) != FramePlace.Free;

    /// <summary><c>mark_page_accessed</c>: inactive,unreferenced → inactive,referenced → active (activate_page);
    /// active,unreferenced → active,referenced.</summary>
    /// <remarks>Kernel: mm/swap.c mark_page_accessed().</remarks>
    private void MarkPageAccessed(int idx)
    {
        if (!_m.Test(idx, PageFlags.Active) && _m.Test(idx, PageFlags.Referenced) && _m.Test(idx, PageFlags.Lru))
        {
            _m.ActivatePage(idx);
            _m.Clear(idx, PageFlags.Referenced);
        }
        else if (!_m.Test(idx, PageFlags.Referenced))
        {
            _m.Set(idx, PageFlags.Referenced);
        }
    }
}

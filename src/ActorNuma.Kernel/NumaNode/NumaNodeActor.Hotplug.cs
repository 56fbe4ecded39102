using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>The node's side of memory hot-remove and of soft memory errors: its memory state (the allocator refuses
/// its frames unless it is online), the scan for frames still in use, and the retirement of frames.</summary>
public sealed partial class NumaNodeActor
{
    private MemoryState _memoryState = MemoryState.Online;

    /// <summary>While offline or going offline no frame of this node is handed out: every allocation goes on along its
    /// zonelist (an isolated pageblock's free pages are not on the free lists <c>__rmqueue</c> looks at).</summary>
    private bool RefusesAllocation => _memoryState != MemoryState.Online;

    private void HandleHotplug(IHotplugMessage message)
    {
        switch (message)
        {
            case StartIsolatePageRange m: HandleStartIsolate(m); break;
            case ScanNodePages m: HandleScanNodePages(m); break;
            case EndOffline m: HandleEndOffline(m); break;
            case OnlinePages m: HandleOnlinePages(m); break;
            case SoftOfflinePage m: HandleSoftOfflinePage(m); break;
            case SoftOfflineCheck m: HandleSoftOfflineCheck(m); break;
            default: throw new InvalidOperationException($"node {_node}: unexpected {message.GetType().Name}");
        }
    }

    /// <summary>The checks of memory_block_change_state and <c>start_isolate_page_range()</c>.</summary>
    /// <remarks>Kernel: 2.6.24 drivers/base/memory.c memory_block_change_state(); mm/page_isolation.c
    /// start_isolate_page_range(); mm/page_alloc.c set_migratetype_isolate().</remarks>
    private void HandleStartIsolate(StartIsolatePageRange m)
    {
        var error = _memoryState != MemoryState.Online ? Errno.EINVAL
            : Enumerable.Range(0, _m.Pages).Any(i => _m.Place(i) == FramePlace.Reserved) ? Errno.EBUSY
            : Errno.None;
        if (error == Errno.None)
        {
            _memoryState = MemoryState.GoingOffline;
            _state.MemoryState = _memoryState;
        }
        Trace.Emit("start_isolate_page_range", $"node={_node} rc={(error == Errno.None ? "0" : "-" + error)} free={_m.FreePages}");
        m.ReplyTo.Tell(new PageRangeIsolated(m.Token, _node, error));
    }

    /// <summary><c>scan_lru_pages()</c> (the pages do_migrate_range can take) and <c>check_pages_isolated()</c> (every
    /// frame free, or retired: a PG_hwpoison frame is never in use again).</summary>
    /// <remarks>Kernel: 2.6.24 mm/memory_hotplug.c scan_lru_pages(), check_pages_isolated().</remarks>
    private void HandleScanNodePages(ScanNodePages m)
    {
        var lru = new List<int>();
        var inUse = 0;
        for (var i = 0; i < _m.Pages; i++)
        {
            var place = _m.Place(i);
            if (place is FramePlace.Free or FramePlace.Retired)
            {
                continue;
            }

            inUse++;
            if (place == FramePlace.Lru)
            {
                lru.Add(Pfn(i));
            }
        }
        Trace.Emit("scan_lru_pages", $"node={_node} lru={lru.Count} in_use={inUse}");
        m.ReplyTo.Tell(new NodePagesScanned(m.Token, _node, lru.ToArray(), inUse));
    }

    /// <summary>Success: <c>offline_isolated_pages()</c>, the node is MEM_OFFLINE. Failure:
    /// <c>undo_isolate_page_range()</c>: MEM_ONLINE again, its free frames allocatable; pages already moved away stay
    /// where they went, as nothing in offline_pages' failed_removal path moves them back.</summary>
    /// <remarks>Kernel: 2.6.24 mm/memory_hotplug.c offline_pages() (its failed_removal label),
    /// mm/page_isolation.c undo_isolate_page_range().</remarks>
    private void HandleEndOffline(EndOffline m)
    {
        _memoryState = m.Offlined ? MemoryState.Offline : MemoryState.Online;
        _state.MemoryState = _memoryState;
        var pages = m.Offlined ? _m.FreePages : 0;
        Trace.Emit(m.Offlined ? "offline_isolated_pages" : "undo_isolate_page_range", $"node={_node} pages={pages} free={_m.FreePages}");
        m.ReplyTo.Tell(new OfflineEnded(m.Token, _node, pages));
    }

    /// <summary><c>online_pages()</c>: EINVAL unless the block is offline; then the node's frames are allocatable.</summary>
    /// <remarks>Kernel: 2.6.24 drivers/base/memory.c memory_block_change_state(), mm/memory_hotplug.c online_pages().</remarks>
    private void HandleOnlinePages(OnlinePages m)
    {
        if (_memoryState != MemoryState.Offline)
        {
            m.ReplyTo.Tell(new PagesOnlined(m.Token, _node, Errno.EINVAL, 0));
            return;
        }
        _memoryState = MemoryState.Online;
        _state.MemoryState = _memoryState;
        Trace.Emit("online_pages", $"node={_node} pages={_m.FreePages}");
        m.ReplyTo.Tell(new PagesOnlined(m.Token, _node, Errno.None, _m.FreePages));
    }

    /// <summary>The start of <c>soft_offline_page()</c>: a free frame is retired at once; a poisoned one is EBUSY; the
    /// zero page (PG_reserved) cannot move (EIO, "unknown non LRU page type"); a page in use is marked, so that whoever
    /// frees it last retires the frame instead.</summary>
    /// <remarks>Kernel: 2.6.33 mm/memory-failure.c soft_offline_page(), get_any_page().</remarks>
    private void HandleSoftOfflinePage(SoftOfflinePage m)
    {
        var idx = Idx(m.Pfn);
        var place = _m.Place(idx);
        SoftOfflineState state;
        if (place == FramePlace.Retired || _m.PoisonPending(idx))
        {
            state = SoftOfflineState.AlreadyPoisoned;
        }
        else if (place == FramePlace.Reserved)
        {
            state = SoftOfflineState.Unmovable;
        }
        else if (place == FramePlace.Free)
        {
            _m.RetireFree(idx);
            state = SoftOfflineState.RetiredFree;
        }
        else
        {
            _m.MarkPoisonPending(idx);
            state = SoftOfflineState.InUse;
        }
        var where = place == FramePlace.Free ? "free" : PlaceName(idx);
        Trace.Emit("soft_offline_page", $"node={_node} pfn={m.Pfn} state={state} where={where} free={_m.FreePages}");
        m.ReplyTo.Tell(new SoftOfflineStarted(m.Token, state, where));
    }

    private void HandleSoftOfflineCheck(SoftOfflineCheck m)
    {
        var idx = Idx(m.Pfn);
        var retired = _m.Place(idx) == FramePlace.Retired;
        if (!retired && m.GiveUp)
        {
            _m.ClearPoisonPending(idx);
        }

        m.ReplyTo.Tell(new SoftOfflineChecked(m.Token, retired, retired ? "retired" : PlaceName(idx)));
    }

    /// <summary>Where an in-use page is, with the states that keep soft_offline_page from moving it now.</summary>
    private string PlaceName(int idx)
    {
        var place = _m.Place(idx) switch
        {
            FramePlace.Pagevec => $"pagevec(cpu {_m.Owner(idx)})",
            FramePlace.Isolated => (Isolator)_m.Owner(idx) == Isolator.Reclaim ? "isolated(reclaim)" : "isolated(migration)",
            var p => p.ToString().ToLowerInvariant(),
        };
        var bits = _m.Flags(idx) & (PageFlags.Locked | PageFlags.Writeback);
        return bits == PageFlags.None ? place : $"{place},{PageFlagNames.Format(bits)}";
    }
}

using Akka.Actor;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>The node's part of <c>do_swap_page</c>: mapping a page found in the swap cache, and reading a slot into a new
/// page (<c>read_swap_cache_async</c>).</summary>
public sealed partial class NumaNodeActor
{
    private sealed record SwapInRead(AllocPages Request, AllocItem Item);

    private readonly Dictionary<long, SwapInRead> _swapIns = new();

    /// <summary>A new page for a swap-in: locked (the read holds the lock), with the reference the mapping will own;
    /// the device adds it to the swap cache, or answers that another fault already did (-EEXIST).</summary>
    private void StartSwapIn(AllocPages m, AllocItem item, int idx)
    {
        _m.Set(idx, PageFlags.Locked);
        var token = NextToken();
        _swapIns[token] = new SwapInRead(m, item);
        Directory.Swap.Tell(new SwapDevice.ReadSwapCacheAsync(token, Self, item.SwapSlot, Pfn(idx)));
    }

    private void HandleSwapCacheAdded(SwapDevice.SwapCacheAdded m)
    {
        var read = _swapIns[m.Token];
        var idx = Idx(m.Pfn);
        if (!m.Exists)
        {
            _m.AddToSwapCache(idx, m.Slot, forWrite: false);
            return;   // SwapReadDone follows after the read latency.
        }
        _swapIns.Remove(m.Token);
        _m.Clear(idx, PageFlags.Locked);
        PutPage(idx);
        read.Request.ReplyTo.Tell(new SwapInRaced(read.Request.Token, read.Item.Vpn, m.Slot));
    }

    /// <summary>The read finished: the page is up to date and unlocked, <c>mark_page_accessed</c>, mapped by the faulting
    /// task, and handed to the faulting CPU's pagevec (the kernel does that before the read; doing it after keeps
    /// the pagevec free of pages whose data is not there yet, and changes no outcome the checkers or reports see).</summary>
    private void HandleSwapReadDone(SwapDevice.SwapReadDone m)
    {
        _swapIns.Remove(m.Token, out var read);
        var idx = Idx(m.Pfn);
        _m.SetContents(idx, m.Contents);
        _m.Set(idx, PageFlags.Uptodate);
        UnlockPage(idx);
        var r = read!.Request;
        MarkPageAccessed(idx);
        var canWrite = CanShareSwapPage(idx, m.SlotRefs);
        _m.AddRmap(idx, r.Task, read.Item.Vpn);
        _m.GetPage(idx);
        _m.SetPlace(idx, FramePlace.Pagevec, r.Cpu);
        var reply = new SwapCacheMapped(r.Token, m.Slot, m.Pfn, m.Contents, canWrite);
        var cpuNode = Topology.CpuToNode(r.Cpu);
        var add = new LruCacheAdd(r.Cpu, [m.Pfn], Active: true, r.ReplyTo, reply);
        if (cpuNode == _node) HandleLruCacheAdd(add);
        else NodeRef(cpuNode).Tell(add);
    }

    /// <summary><c>lookup_swap_cache</c> hit: the page is mapped where it is, after <c>lock_page</c> (a read or an
    /// eviction step in progress holds it) and a check that it still caches the slot.</summary>
    private void HandleSwapCacheHit(SwapCacheHit m)
    {
        var idx = Idx(m.Pfn);
        if (!StillCaches(idx, m.Slot))
        {
            Directory.Swap.Tell(new SwapDevice.SwapCacheHitStale(m.Token, m.Task, m.TaskId, m.Slot, m.Vpn));
            return;
        }
        if (_m.Test(idx, PageFlags.Locked))
        {
            Enqueue(_lockWaiters, idx, () => HandleSwapCacheHit(m));
            return;
        }
        MarkPageAccessed(idx);
        var canWrite = CanShareSwapPage(idx, m.SlotRefs);
        _m.GetPage(idx);
        _m.AddRmap(idx, m.TaskId, m.Vpn);
        Trace.Emit("mm_swap_cache_hit", $"node={_node} pfn={m.Pfn} slot={m.Slot} task={m.TaskId}");
        m.Task.Tell(new SwapCacheMapped(m.Token, m.Slot, m.Pfn, _m.Contents(idx), canWrite));
    }

    private bool StillCaches(int idx, int slot) =>
        _m.Test(idx, PageFlags.SwapCache) && _m.SwapEntry(idx) == slot && _m.Place(idx) != FramePlace.Free;

    /// <summary><c>can_share_swap_page</c> before this PTE maps the page: its mapcount plus, when that is at most one,
    /// the slot's references other than the cache's own. Shareable iff the sum is 1.</summary>
    private bool CanShareSwapPage(int idx, int slotRefs)
    {
        var count = _m.Mapcount(idx);
        if (count <= 1 && _m.Test(idx, PageFlags.SwapCache)) count += slotRefs - 1;
        return count == 1;
    }

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
            _m.Set(idx, PageFlags.Referenced);
    }
}

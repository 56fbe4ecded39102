
namespace ActorNuma.Kernel;

/// <summary>The public protocol of <see cref="NumaNodeActor"/>: the verbs of mm/page_alloc.c, mm/swap.c and mm/vmscan.c
/// that act on one node's frames. Frames are named by their machine-wide pfn.</summary>
public static partial class NumaNode
{
    // ---- allocation (__alloc_pages) -------------------------------------------------------------------------

    /// <summary>Which watermark an allocation pass checks (2.6.14 <c>__alloc_pages</c>: pages_low, then pages_min).</summary>
    internal enum AllocPass { Low, Min, High }

    /// <summary>Why a page is allocated; decides what happens to it next.</summary>
    internal enum AllocPurpose
    {
        /// <summary><c>do_anonymous_page</c> on a write: the new page goes to the faulting CPU's lru_add_active pagevec.</summary>
        AnonFault,
        /// <summary><c>do_wp_page</c>: the copy of a shared or zero page.</summary>
        CowCopy,
        /// <summary><c>read_swap_cache_async</c>: the page is added to the swap cache and read from the slot.</summary>
        SwapIn,
        /// <summary>2.6.18 <c>get_new_page</c> of a migration: the page is handed back unmapped, off every list.</summary>
        MigrateTarget,
    }

    /// <summary>How a swap-in page takes part in <c>swapin_readahead</c>.</summary>
    internal enum SwapInKind : byte
    {
        /// <summary>Not a swap-in, or the faulting page read alone (<c>read_swap_cache_async(entry)</c> after the drain).</summary>
        Fault,
        /// <summary>The faulting page, read as part of its cluster.</summary>
        ReadaheadFault,
        /// <summary>Another slot of the cluster: read into the swap cache, not mapped.</summary>
        Readahead,
    }

    /// <summary>One page to allocate: where it will be mapped (or, for readahead, the address whose policy places it)
    /// and what it will hold.</summary>
    internal readonly record struct AllocItem(uint Vpn, uint Contents, int SwapSlot, SwapInKind Kind = SwapInKind.Fault);

    /// <summary><c>__alloc_pages</c> walking a zonelist: the node at <see cref="ZonelistIndex"/> allocates what it can
    /// above the watermark of <see cref="Pass"/> and forwards the rest to the next node of the zonelist; the last node
    /// sends <see cref="AllocFailed"/> for what is left.</summary>
    internal sealed record AllocPages(
        long Token, IActorRef ReplyTo, int Task, int Cpu, AllocItem[] Items, int[] Zonelist, int ZonelistIndex,
        AllocPass Pass, bool Interleave, AllocPurpose Purpose) : IKernelRequest;

    /// <summary>A page the fault can map: it is in the faulting CPU's pagevec (or, for a swap-in, read and in the swap
    /// cache) and its rmap names the task. (What it holds the task knows: it is the item's contents.)</summary>
    internal readonly record struct AllocatedPage(uint Vpn, int Pfn);

    /// <summary>What an <see cref="AllocPages"/> token hears back, once for each part of the request: pages for a fault
    /// (<see cref="PagesAllocated"/>), swap-ins read (<see cref="SwapCacheMapped"/>) or raced
    /// (<see cref="SwapInRaced"/>), and what no node of the zonelist could give (<see cref="AllocFailed"/>).</summary>
    internal interface IAllocPagesReply : IKernelReply;

    internal sealed record PagesAllocated(long Token, AllocatedPage[] Pages) : IAllocPagesReply;

    internal sealed record AllocFailed(long Token, AllocItem[] Items, AllocPass Pass) : IAllocPagesReply;

    /// <summary>Swap-ins that lost the race to add their page to the swap cache (-EEXIST): the faults look again.</summary>
    internal sealed record SwapInRaced(long Token, uint[] Vpns, int[] Slots) : IAllocPagesReply;

    // ---- per-CPU pagevecs (mm/swap.c) -----------------------------------------------------------------------

    /// <summary><c>lru_cache_add</c>/<c>lru_cache_add_active</c> on <see cref="Cpu"/>, which this node owns; then
    /// <see cref="Reply"/> goes to <see cref="ReplyTo"/>, so the fault completes after the page is in the pagevec.</summary>
    internal sealed record LruCacheAdd(int Cpu, int[] Pfns, bool Active, IActorRef? ReplyTo, object? Reply)
    {
        /// <summary><c>lru_add_drain()</c> of the CPU after <see cref="Pfns"/> went in (the end of swapin_readahead), then
        /// <see cref="AfterDrain"/> go in.</summary>
        public bool DrainAfter { get; init; }
        public int[] AfterDrain { get; init; } = [];
    }

    /// <summary><c>__pagevec_lru_add[_active]</c> + <c>release_pages</c> at the node that owns the pages.
    /// With <see cref="AckTo"/> set, the node acknowledges with <see cref="LruAddDrained"/>: a drain waits for it.</summary>
    internal sealed record PagevecLruAdd(int[] Pfns, bool Active, int Cpu, long Token, IActorRef? AckTo) : IKernelRequest;

    /// <summary><c>lru_add_drain()</c> run on <see cref="Cpu"/> (by an IPI, keventd, or the CPU itself). Every node in
    /// <see cref="AckNodes"/> acknowledges once the pages of this drain are on its lists.</summary>
    internal sealed record LruAddDrain(int Cpu, long Token, IActorRef ReplyTo, int[] AckNodes) : IKernelRequest;

    internal sealed record LruAddDrained(long Token, int Node) : IKernelReply;

    // ---- isolation and putback (V2 1/2, mm/vmscan.c) --------------------------------------------------------

    internal enum IsolateOutcome : byte
    {
        Isolated,
        /// <summary>rc 0: still in a CPU's pagevec.</summary>
        InPagevec,
        /// <summary>rc 0: already isolated, by another migration or by reclaim.</summary>
        IsolatedElsewhere,
        /// <summary>rc -1: being freed.</summary>
        BeingFreed,
        /// <summary>rc 0: not an LRU page at all (the zero page, a page in flight).</summary>
        NotLru,
        /// <summary>Not attempted: mapped by more than one process and the profile leaves shared pages alone.</summary>
        Shared,
    }

    /// <summary><c>isolate_lru_page</c> on each page (the locked part; the caller drains and retries).</summary>
    internal sealed record IsolateLruPages(long Token, IActorRef ReplyTo, int[] Pfns, bool SkipShared) : IKernelRequest;

    internal sealed record IsolateLruPagesResult(long Token, int Node, int[] Pfns, IsolateOutcome[] Outcomes) : IKernelReply;

    /// <summary><c>putback_lru_pages</c>. V2 keeps the isolation reference; the fix drops it; 2.6.16 goes through the
    /// pagevec of <see cref="PagevecCpu"/> (<c>move_to_lru</c>).</summary>
    internal sealed record PutbackLruPages(long Token, IActorRef? ReplyTo, int[] Pfns, bool DropReference, int PagevecCpu) : IKernelRequest;

    internal sealed record PutbackDone(long Token, int Node, int PutBack) : IKernelReply;

    // ---- eviction (V2 swapout_pages, one pass over this node's pages) -----------------------------------------

    internal sealed record SwapoutPass(
        long Token, IActorRef ReplyTo, int Pass, int[] Pfns, bool UnmapIgnoresYoung, int BlockingLockFromPass) : IKernelRequest;

    internal sealed record SwapoutPassResult(long Token, int Node, int[] Freed, int[] Retry, int[] Failed) : IKernelReply;

    // ---- page reclaim (mm/vmscan.c shrink_zone for kswapd and direct reclaim) --------------------------------

    /// <summary><c>shrink_zone(zone, sc)</c> at <see cref="Priority"/>: the nr_scan accumulators, then batches of
    /// refill_inactive_zone and shrink_cache (each starting with <c>lru_add_drain()</c> on <see cref="DrainCpu"/> when
    /// this node owns that CPU). kswapd asks with <see cref="SkipIfAboveHigh"/> (balance_pgdat looks at pages_high before
    /// each zone) and <see cref="SetAllUnreclaimable"/>.</summary>
    internal sealed record ShrinkZone(long Token, IActorRef ReplyTo, int Priority, bool IsKswapd, int DrainCpu,
        bool SkipIfAboveHigh, bool SetAllUnreclaimable) : IKernelRequest;

    /// <summary>What one shrink_zone did. <see cref="AboveHigh"/>: the zone was above pages_high, so nothing was done.
    /// <see cref="Skipped"/>: all_unreclaimable below DEF_PRIORITY.</summary>
    internal sealed record ShrinkZoneResult(long Token, int Node, long Scanned, long Reclaimed, bool AboveHigh, bool Skipped,
        int FreePages) : IKernelReply;

    /// <summary>The end of a balance_pgdat or try_to_free_pages run: <c>zone-&gt;prev_priority = zone-&gt;temp_priority</c>.</summary>
    internal sealed record EndReclaimRun;

    // ---- access from tasks ----------------------------------------------------------------------------------

    internal readonly record struct AccessItem(int Pfn, bool Write, uint Value);

    /// <summary>A task reads or writes present pages (a load or store through the TLB); the node runs
    /// <c>mark_page_accessed</c> and returns what each read saw.</summary>
    internal sealed record AccessPages(long Token, IActorRef ReplyTo, AccessItem[] Items) : IKernelRequest;

    internal sealed record PagesAccessed(long Token, uint[] Values) : IKernelReply;

    /// <summary><c>do_wp_page</c> on a present read-only page: can the task reuse it (sole user), or must it copy?</summary>
    internal sealed record WpPage(long Token, IActorRef ReplyTo, int Task, int Pfn) : IKernelRequest;

    /// <summary>do_wp_page's answer: reuse the page or copy it. The node answers (<see cref="WpPageReply"/>) unless the
    /// page is in the swap cache, when the swap device does (<see cref="SwapDevice.CanShareSwapPageResult"/>).</summary>
    internal interface IWpPageReply : IKernelReply
    {
        int Pfn { get; }
        bool Reuse { get; }
        uint Contents { get; }
    }

    internal sealed record WpPageReply(long Token, int Pfn, bool Reuse, uint Contents) : IWpPageReply;

    /// <summary>fork's <c>copy_page_range</c> for present anon pages: one more mapping each (<c>page_dup_rmap</c>).</summary>
    internal sealed record PageDupRmap(long Token, IActorRef ReplyTo, int ChildTask, int[] Pfns) : IKernelRequest;

    internal sealed record PageDupRmapDone(long Token) : IKernelReply;

    /// <summary><c>zap_pte_range</c> for present pages: rmap removal and <c>free_pages_and_swap_cache</c>.</summary>
    internal sealed record ZapPages(long Token, IActorRef? ReplyTo, int Task, int[] Pfns) : IKernelRequest;

    internal sealed record ZapPagesDone(long Token) : IKernelReply;

    // ---- swap cache interplay -------------------------------------------------------------------------------

    /// <summary>A slot <c>lookup_swap_cache</c> found cached by <see cref="Pfn"/>, for the fault at <see cref="Vpn"/>.</summary>
    internal readonly record struct SwapHit(int Slot, int Pfn, uint Vpn);

    /// <summary><c>do_swap_page</c> found these slots in the swap cache (forwarded by the swap device): map each page
    /// where it is, after <c>lock_page</c>, if it still caches its slot.</summary>
    internal sealed record SwapCacheHit(long Token, IActorRef Task, int TaskId, SwapHit[] Hits) : IKernelRequest;

    /// <summary>A swap-cache page the fault on <see cref="Slot"/> can map: found in the cache, or read into a new page,
    /// with what it holds. It is mapped read-only: the slot count can_share_swap_page needs is the swap device's, so a
    /// store goes on to do_wp_page, which asks it there.</summary>
    internal readonly record struct MappedSwapPage(int Slot, int Pfn, uint Contents, SwapInKind Kind = SwapInKind.Fault);

    /// <summary>The answer to the task for swap-cache hits and for finished reads.</summary>
    internal sealed record SwapCacheMapped(long Token, MappedSwapPage[] Pages) : IAllocPagesReply, SwapDevice.ILookupSwapCacheReply;

    /// <summary>The swap device asks whether pages may leave the swap cache (<c>remove_exclusive_swap_page</c>, or
    /// <c>free_swap_and_cache</c>, which with <see cref="EvenIfShared"/> — swap over half full — takes them out even
    /// while other tasks map them): slot k, cached by pfn k, which should have <see cref="ExpectedCount"/> references.
    /// The node answers with one <see cref="SwapDevice.ExclusiveRemoved"/> and one <see cref="SwapDevice.ExclusiveRefused"/>
    /// for the pages each applies to (none when it applies to none).</summary>
    internal sealed record TryRemoveExclusive(int[] Slots, int[] Pfns, int ExpectedCount, bool EvenIfShared = false);

    /// <summary>do_swap_page's <c>remove_exclusive_swap_page</c> (swap over half full) for the one page of a fault:
    /// the test of <see cref="TryRemoveExclusive"/> with two expected references (the swap cache's and the fault's
    /// mapping), answered with one <see cref="SwapDevice.SwapInExclusiveAnswer"/>, which the device waits for before it
    /// asks <c>vm_swap_full()</c> for the next fault. The kernel takes these one fault at a time, so there is one
    /// message per page; its own record keeps it to two ints instead of a batch's two arrays.</summary>
    internal sealed record RemoveExclusiveAfterSwapIn(int Slot, int Pfn)
    {
        /// <summary>The references the page may have to leave: the swap cache's and the faulting PTE's.</summary>
        public const int ExpectedCount = 2;
    }

    // ---- queries --------------------------------------------------------------------------------------------

    /// <summary>What numa_maps' <c>gather_stats</c> counts of present pages: their flags and mapcounts, summed at the
    /// node. <see cref="PteDirty"/> (per page, or null) is what the asking task's PTEs say: a page counts dirty when its
    /// PTE or the page is.</summary>
    internal sealed record DescribePages(long Token, IActorRef ReplyTo, int[] Pfns, bool[]? PteDirty = null) : IKernelRequest;

    /// <summary>The sums of <see cref="DescribePages"/>: pages, dirty (PTE or page), in the swap cache, active, under
    /// writeback, and the largest mapcount.</summary>
    internal sealed record PagesDescribed(long Token, int Pages, int Dirty, int SwapCache, int Active, int Writeback, int MapMax) : IKernelReply;

    internal sealed record GetNodeInfo(long Token) : IKernelRequest;

    internal sealed record NodeInfo(long Token, int Node, int FreePages, int NrActive, int NrInactive, Watermarks Watermarks) : IKernelReply;
}

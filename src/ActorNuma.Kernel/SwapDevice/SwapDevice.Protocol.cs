
namespace ActorNuma.Kernel;

/// <summary>The public protocol of <see cref="SwapDeviceActor"/>: mm/swapfile.c, mm/swap_state.c and mm/page_io.c.</summary>
public static partial class SwapDevice
{
    /// <summary><c>add_to_swap</c> for each frame: <c>get_swap_page</c> and the slot side of
    /// <c>__add_to_swap_cache</c>. A slot of 0 in the reply means no swap space: the page stays in RAM.</summary>
    internal sealed record AddToSwap(long Token, IActorRef ReplyTo, int[] Pfns) : IKernelRequest;

    internal sealed record AddedToSwap(long Token, int[] Pfns, int[] Slots) : IKernelReply;

    /// <summary><c>swap_duplicate</c> for each slot (PTEs now hold them), then <see cref="Message"/> goes on to
    /// <see cref="ForwardTo"/>. Routing the unmap result through here orders the duplicate before any later
    /// <c>swap_free</c> of the same task.</summary>
    internal sealed record SwapDuplicateAndForward(int[] Slots, IActorRef ForwardTo, object Message);

    internal readonly record struct WriteItem(int Slot, int Pfn, uint Contents, bool PageCountIsTwo);

    /// <summary><c>swap_writepage</c>: for each page, <c>remove_exclusive_swap_page</c> first (then no I/O), else
    /// <c>pswpout</c> and a write that completes after the write latency with <see cref="EndSwapWrite"/>.</summary>
    internal sealed record SwapWritepage(long Token, IActorRef Node, WriteItem[] Items) : IKernelRequest;

    /// <summary>Immediate answer to <see cref="SwapWritepage"/>: which pages were dropped from the swap cache instead of
    /// written (their slot only held the cache reference).</summary>
    internal sealed record SwapWriteStarted(long Token, int[] Written, int[] Exclusive) : IKernelReply;

    /// <summary><c>end_swap_bio_write</c> → <c>end_page_writeback</c>, for a batch of pages.</summary>
    internal sealed record EndSwapWrite(int[] Pfns);

    /// <summary>The node freed a swap-cache page: drop the slot's cache entry and its cache reference
    /// (<c>__delete_from_swap_cache</c> + <c>swap_free</c>).</summary>
    internal sealed record SwapCacheDeleted(int[] Slots, int[] Pfns);

    /// <summary>2.6.16 <c>remove_from_swap(newpage)</c>'s closing <c>delete_from_swap_cache</c>, once the migration has
    /// rewritten its own swap PTEs: the entry goes only when the cache holds the slot's last reference. The kernel's
    /// anon_vma walk rewrites every swap PTE of the page (a fork child's too); the emulator rewrites the ones the
    /// migration made, so a slot another PTE still holds keeps the new page cached for it, and that PTE's fault finds it
    /// there instead of reading a slot the copy never wrote. Answered with <see cref="MigratedSwapCacheLeft"/>.</summary>
    internal sealed record MigratedLeaveSwapCache(IActorRef Node, int Slot, int Pfn);

    /// <summary>Whether the swap device dropped the entry and the cache's reference (the node then drops the page's
    /// PG_swapcache and the cache's page reference) or kept it for the slot's other holders.</summary>
    internal sealed record MigratedSwapCacheLeft(int Slot, int Pfn, bool Deleted);

    /// <summary>The node agreed to <c>remove_exclusive_swap_page</c> for these pages (slot k is cached by pfn k): same
    /// effect as <see cref="SwapCacheDeleted"/>.</summary>
    internal sealed record ExclusiveRemoved(int[] Slots, int[] Pfns);

    /// <summary>The node refused for these pages: they have other users now (or are locked, or under writeback).</summary>
    internal sealed record ExclusiveRefused(int[] Slots, int[] Pfns);

    /// <summary>The node's answer to <see cref="NumaNode.RemoveExclusiveAfterSwapIn"/>: whether the page left the swap
    /// cache (as <see cref="ExclusiveRemoved"/> for it) or was refused. The device has one such request out at a time
    /// and knows its page, so the answer is one of two shared instances (<see cref="Of"/>): a swap-in that ends in
    /// this question needs no answer object of its own.</summary>
    internal sealed record SwapInExclusiveAnswer(bool Removed)
    {
        private static readonly SwapInExclusiveAnswer RemovedAnswer = new(true);
        private static readonly SwapInExclusiveAnswer RefusedAnswer = new(false);

        public static SwapInExclusiveAnswer Of(bool removed) => removed ? RemovedAnswer : RefusedAnswer;
    }

    /// <summary><c>do_swap_page</c>: <c>lookup_swap_cache</c>. A hit is forwarded to the page's node
    /// (<see cref="NumaNode.SwapCacheHit"/>); a miss answers <see cref="SwapCacheMiss"/>.</summary>
    internal sealed record LookupSwapCache(long Token, IActorRef Task, int TaskId, int[] Slots, uint[] Vpns) : IKernelRequest;

    /// <summary>Misses, each with the readahead window <c>valid_swaphandles()</c> gives for it: the cluster's first slot
    /// and how many slots from there are in use (0: no readahead).</summary>
    /// <summary>What a <see cref="LookupSwapCache"/> token hears back: hits mapped by their nodes
    /// (<see cref="NumaNode.SwapCacheMapped"/>) and misses (<see cref="SwapCacheMiss"/>), until every slot is answered.</summary>
    internal interface ILookupSwapCacheReply : IKernelReply;

    internal sealed record SwapCacheMiss(long Token, int[] Slots, uint[] Vpns, int[] ClusterStart, int[] ClusterCount) : ILookupSwapCacheReply;

    /// <summary>The node could not use a forwarded hit (the page left the swap cache meanwhile): look again.</summary>
    internal sealed record SwapCacheHitStale(long Token, IActorRef Task, int TaskId, int[] Slots, uint[] Vpns) : IKernelRequest;

    /// <summary>The slot side of <c>read_swap_cache_async</c>: add the new frame to the swap cache (-EEXIST if another
    /// fault won) and read the slot; the node gets <see cref="SwapReadDone"/> after the read latency.</summary>
    internal sealed record ReadSwapCacheAsync(long Token, IActorRef Node, int[] Slots, int[] Pfns) : IKernelRequest;

    internal sealed record SwapCacheAdded(long Token, int[] Slots, int[] Pfns, bool[] Exists) : IKernelReply;

    /// <summary>The read of a slot into its new swap-cache page finished, with the data the slot held. (The slot's
    /// swap_map count stays with the device, which do_wp_page asks for can_share_swap_page.)</summary>
    internal sealed record SwapReadDone(long Token, int[] Slots, int[] Pfns, uint[] Contents) : IKernelReply;

    /// <summary><c>swap_free</c> for PTE references; with <see cref="FreeCache"/> (<c>free_swap_and_cache</c>, from
    /// zap_pte_range) a slot left holding only its cache reference is offered back to the page's node.</summary>
    internal sealed record SwapFree(int[] Slots, bool FreeCache);

    /// <summary>do_swap_page's <c>swap_free(entry); if (vm_swap_full()) remove_exclusive_swap_page(page)</c> for each
    /// fault of a round, in fault order: each fault's <c>vm_swap_full()</c> sees the slots the faults before it freed.</summary>
    internal sealed record SwapFreeAfterSwapIn(int[] Slots, int[] Pfns);

    /// <summary><c>can_share_swap_page</c> for a write fault on a read-only swap-cache page: the node forwards it here
    /// because only the device knows the slot's other references; the task gets <see cref="CanShareSwapPageResult"/>.</summary>
    internal sealed record CanShareSwapPage(long Token, IActorRef Task, int Slot, int Pfn, int Mapcount, uint Contents) : IKernelRequest;

    /// <summary>The node dropped a mapping of a swap-cache page that now has only the cache's reference
    /// (<c>free_swap_cache</c>): if no PTE holds the slot either, the device asks the node to let it go.</summary>
    internal sealed record OfferSwapCache(int Slot, int Pfn, int ExpectedCount);

    /// <summary>can_share_swap_page's answer to the faulting task: <see cref="Reuse"/> when the page's mapcount and the
    /// slot's references other than the cache's add up to one.</summary>
    internal sealed record CanShareSwapPageResult(long Token, int Pfn, bool Reuse, uint Contents) : NumaNode.IWpPageReply;

    /// <summary><c>blk_congestion_wait(WRITE, timeout)</c>: the caller sleeps on the write congestion wait queue until a
    /// write request completes or <see cref="Timeout"/> passes; the device answers once, with
    /// <see cref="CongestionWaitDone"/>. A request freed below the queue's congestion-off threshold clears its congestion
    /// and wakes every sleeper of that direction, so on a queue that is not congested the sleep ends at the next
    /// completed write; with no write in flight it lasts the whole timeout. The swap device is the machine's only block
    /// device: its writes are the ones that wake the queue.</summary>
    /// <remarks>Kernel: 2.6.14 drivers/block/ll_rw_blk.c blk_congestion_wait(), freed_request(),
    /// clear_queue_congested().</remarks>
    internal sealed record CongestionWait(long Token, IActorRef ReplyTo, TimeSpan Timeout) : IKernelRequest;

    /// <summary>The end of a <see cref="CongestionWait"/>: a write completed, or the timeout passed (<see cref="TimedOut"/>).</summary>
    internal sealed record CongestionWaitDone(long Token, bool TimedOut) : IKernelReply;

    internal sealed record GetSwapInfo(long Token) : IKernelRequest;

    internal sealed record SwapInfo(long Token, int TotalSwapPages, int NrSwapPages) : IKernelReply;
}

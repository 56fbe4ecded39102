namespace ActorNuma.Kernel;

/// <summary>The node's part of memory hot-remove (mm/memory_hotplug.c <c>offline_pages</c>/<c>online_pages</c>) and of
/// memory-error handling (mm/memory-failure.c <c>soft_offline_page</c>): the node's memory state, the frames still in
/// use on it, and the frames retired for good.</summary>
public static partial class NumaNode
{
    /// <summary>A message of memory hotplug or memory-error handling that a node handles.</summary>
    internal interface IHotplugMessage;

    /// <summary>The memory block states of drivers/base/memory.c (2.6.24): <c>MEM_ONLINE</c>,
    /// <c>MEM_GOING_OFFLINE</c> (offline_pages at work: the frames are isolated, MIGRATE_ISOLATE), <c>MEM_OFFLINE</c>.
    /// The emulator has one block per node.</summary>
    public enum MemoryState : byte
    {
        /// <summary>MEM_ONLINE: the allocator hands out the node's frames.</summary>
        Online,
        /// <summary>MEM_GOING_OFFLINE: offline_pages is at work; no frame is handed out, pages are being moved.</summary>
        GoingOffline,
        /// <summary>MEM_OFFLINE: no page in use, no frame handed out, until online_pages.</summary>
        Offline,
    }

    /// <summary><c>start_isolate_page_range()</c> over the whole node: from now on the allocator hands out none of its
    /// frames. EINVAL if the node is not online (memory_block_change_state: state != from_state_req); EBUSY if it holds a
    /// frame that can never move (the zero page: set_migratetype_isolate fails on a pageblock that is not
    /// MIGRATE_MOVABLE).</summary>
    internal sealed record StartIsolatePageRange(long Token, IActorRef ReplyTo) : IHotplugMessage, IKernelRequest;

    internal sealed record PageRangeIsolated(long Token, int Node, Errno Error) : IKernelReply;

    /// <summary><c>scan_lru_pages()</c> and <c>check_pages_isolated()</c>: the node's LRU pages (to migrate) and how many
    /// of its frames are still in use (neither free nor retired).</summary>
    internal sealed record ScanNodePages(long Token, IActorRef ReplyTo) : IHotplugMessage, IKernelRequest;

    internal sealed record NodePagesScanned(long Token, int Node, int[] Lru, int InUse) : IKernelReply;

    /// <summary>The end of offline_pages: <see cref="Offlined"/> true is <c>offline_isolated_pages()</c> (MEM_OFFLINE);
    /// false is <c>undo_isolate_page_range()</c> (back to MEM_ONLINE, the free frames allocatable again).</summary>
    internal sealed record EndOffline(long Token, IActorRef ReplyTo, bool Offlined) : IHotplugMessage, IKernelRequest;

    /// <summary>How many frames the node took out of use (its free frames), 0 when the offline was undone.</summary>
    internal sealed record OfflineEnded(long Token, int Node, int Pages) : IKernelReply;

    /// <summary><c>online_pages()</c>: EINVAL unless the node is offline; then its frames are allocatable again.</summary>
    internal sealed record OnlinePages(long Token, IActorRef ReplyTo) : IHotplugMessage, IKernelRequest;

    internal sealed record PagesOnlined(long Token, int Node, Errno Error, int Pages) : IKernelReply;

    /// <summary>What <see cref="SoftOfflinePage"/> found.</summary>
    internal enum SoftOfflineState : byte
    {
        /// <summary>A free frame: retired at once.</summary>
        RetiredFree,
        /// <summary>Already PG_hwpoison (retired, or being handled): EBUSY.</summary>
        AlreadyPoisoned,
        /// <summary>Not a page that can move (PG_reserved: the zero page): EIO.</summary>
        Unmovable,
        /// <summary>In use: marked, to be retired instead of freed when the page has been moved away.</summary>
        InUse,
    }

    /// <summary>The start of <c>soft_offline_page(page)</c> on one of this node's frames.</summary>
    internal sealed record SoftOfflinePage(long Token, IActorRef ReplyTo, int Pfn) : IHotplugMessage, IKernelRequest;

    /// <summary><see cref="Where"/> says where an in-use page was found (for the trace).</summary>
    internal sealed record SoftOfflineStarted(long Token, SoftOfflineState State, string Where) : IKernelReply;

    /// <summary>After a migration attempt: is the frame retired? With <see cref="GiveUp"/> a frame still in use loses
    /// its mark (it stays in use and will be freed normally).</summary>
    internal sealed record SoftOfflineCheck(long Token, IActorRef ReplyTo, int Pfn, bool GiveUp) : IHotplugMessage, IKernelRequest;

    internal sealed record SoftOfflineChecked(long Token, bool Retired, string Where) : IKernelReply;
}

namespace ActorNuma.Mm;

/// <summary>Where a frame is, from the point of view of the node that owns it. The checkers require every frame to be
/// in exactly one of these places, and cross-check the places that another actor also records (pagevecs live in
/// the node of their CPU, isolated pages in their isolator's list).</summary>
public enum FramePlace : byte
{
    /// <summary>On the node's free list (buddy allocator, order 0).</summary>
    Free = 0,
    /// <summary>On the active or inactive LRU list (PG_lru set).</summary>
    Lru,
    /// <summary>In a CPU's <c>lru_add</c> or <c>lru_add_active</c> pagevec; <see cref="NodeMemory.Owner"/> is the CPU.</summary>
    Pagevec,
    /// <summary>Taken off the LRU by <c>isolate_lru_page</c> or <c>isolate_lru_pages</c>; the owner says by whom.</summary>
    Isolated,
    /// <summary>Allocated and not on any list yet, or on its way between lists in a message.</summary>
    InFlight,
    /// <summary>PG_reserved: the zero page.</summary>
    Reserved,
    /// <summary>PG_hwpoison: retired after a memory error (<c>soft_offline_page</c>). Off the free list for good and out
    /// of the free count, as a PG_reserved frame is; count and mapcount 0.</summary>
    Retired,
}

/// <summary>Who holds an isolated page.</summary>
public enum Isolator : byte
{
    None = 0,
    /// <summary>Migration: <c>isolate_lru_page</c> from mbind/migrate_pages.</summary>
    Migration = 1,
    /// <summary>Reclaim: <c>isolate_lru_pages</c> in shrink_cache/refill_inactive_zone, by kswapd or direct reclaim.</summary>
    Reclaim = 2,
}

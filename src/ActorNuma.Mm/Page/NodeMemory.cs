namespace ActorNuma.Mm;

/// <summary>What <c>isolate_lru_page</c> returned, with the V2 codes, and why it failed.</summary>
public enum IsolateRc
{
    /// <summary>-1: the page is being freed elsewhere (its count reached 0 and the release has not run yet).</summary>
    BeingFreed = -1,
    /// <summary>0: the page is not on an LRU list (in a pagevec, isolated by someone else, or not an LRU page).</summary>
    NotOnLru = 0,
    /// <summary>1: taken off its list; the caller owns the extra reference.</summary>
    Isolated = 1,
}

/// <summary>What a <see cref="NodeMemory.PutPage"/> did.</summary>
public enum PutResult
{
    /// <summary>References remain.</summary>
    Alive,
    /// <summary>The count reached 0 and the frame went back to the free list.</summary>
    Freed,
    /// <summary>The count reached 0 on a page still on the LRU: <c>__page_cache_release</c> must run (the owner defers it
    /// to a later step, which opens the window in which isolate_lru_page sees a page being freed).</summary>
    ReleasePending,
}

/// <summary>What the checkers and reports may read of a node's frames: every query of <see cref="NodeMemory"/>, none of
/// its changes (those belong to the node that owns the frames).</summary>
public interface IReadOnlyNodeMemory
{
    int Node { get; }
    int FirstPfn { get; }
    int Pages { get; }
    Watermarks Watermarks { get; }
    int FreePages { get; }
    int NrActive { get; }
    int NrInactive { get; }
    IReadOnlyVmStat Stat { get; }
    long NrScanActive { get; }
    long NrScanInactive { get; }
    long PagesScanned { get; }
    bool AllUnreclaimable { get; }
    int PrevPriority { get; }
    int TempPriority { get; }
    bool Owns(int pfn);
    int Index(int pfn);
    int PfnOf(int index);
    PageFlags Flags(int i);
    bool Test(int i, PageFlags f);
    int Count(int i);
    (int Count, NodeMemory.PageHold Last) Holds(int i);
    int Mapcount(int i);
    FramePlace Place(int i);
    int Owner(int i);
    uint Contents(int i);
    int SwapEntry(int i);
    uint RmapVpn(int i);
    NodeMemory.MapperSet Mappers(int i);
    IEnumerable<int> FromTail(bool active);
    int Tail(bool active);
    IEnumerable<int> FreeList();
    /// <summary>Frames retired after a memory error (PG_hwpoison), by index, in the order they were retired.</summary>
    IReadOnlyList<int> RetiredFrames { get; }
    /// <summary>Frames whose memory error is being handled: retired instead of freed when their last reference goes.</summary>
    bool PoisonPending(int i);
    int NrMapped();
    int[] CountPlaces();
    (List<int> Active, List<int> Inactive) WalkLru();

    /// <summary>Every frame's place, flags, owner, count and mapcount, indexed as the frames are: what the checkers scan
    /// at each checkpoint, read in bulk rather than one interface call per frame and field.</summary>
    ReadOnlySpan<FramePlace> Places { get; }
    /// <inheritdoc cref="Places"/>
    ReadOnlySpan<uint> FlagWords { get; }
    /// <inheritdoc cref="Places"/>
    ReadOnlySpan<byte> Owners { get; }
    /// <inheritdoc cref="Places"/>
    ReadOnlySpan<int> Counts { get; }
    /// <inheritdoc cref="Places"/>
    ReadOnlySpan<short> Mapcounts { get; }
    /// <summary>The frames that work in progress holds a reference on (<see cref="NodeMemory.Hold"/>), in no order.</summary>
    IReadOnlyCollection<int> HeldFrames { get; }

    /// <summary>Every frame's <see cref="SwapEntry"/>, indexed as the frames are: what the swap-accounting checker compares
    /// with the swap cache at each checkpoint.</summary>
    ReadOnlySpan<int> SwapEntries { get; }
    /// <summary>Every frame's <see cref="RmapVpn"/>, indexed as the frames are.</summary>
    ReadOnlySpan<uint> RmapVpns { get; }
    /// <summary>Every frame's first mapper (the first task <see cref="Mappers"/> names; 0 for an unmapped frame), indexed as
    /// the frames are.</summary>
    ReadOnlySpan<int> RmapTasks { get; }
    /// <summary>Every frame whose reverse map names more tasks than the first, with its <see cref="Mappers"/>, in no order:
    /// every other mapped frame has its first mapper (<see cref="RmapTasks"/>) alone. A struct walk that allocates nothing
    /// and looks nothing up.</summary>
    NodeMemory.SharedMapperList SharedMappers { get; }
    /// <summary>The free list, as <see cref="FreeList"/> walks it, without an allocation.</summary>
    NodeMemory.FrameList FreeFrames { get; }
    /// <summary>An LRU list from its head, as <see cref="WalkLru"/> walks it (at most one frame more than the node has),
    /// without an allocation.</summary>
    NodeMemory.FrameList LruFrames(bool active);
}

/// <summary>The frames of one node (<c>pg_data_t</c> with one ZONE_NORMAL): flags, counts, contents, reverse map,
/// the active and inactive LRU lists and the free list, all in flat arrays indexed by the frame's index in the node.</summary>
/// <remarks>Frames are data, never objects: about 36 bytes a frame (see the bytes-per-page benchmark).</remarks>
public sealed partial class NodeMemory : IReadOnlyNodeMemory
{
    private const int NoLink = -1;

    private readonly uint[] _flags;
    private readonly int[] _count;
    private readonly short[] _mapcount;
    private readonly FramePlace[] _place;
    private readonly byte[] _owner;
    private readonly uint[] _contents;
    private readonly int[] _prev;
    private readonly int[] _next;
    private readonly int[] _private;
    private readonly int[] _rmapTask;
    private readonly uint[] _rmapVpn;
    private Dictionary<int, List<int>>? _sharedRmap;
    private readonly int _activeHead;
    private readonly int _inactiveHead;
    private int _freeHead = NoLink;

    public NodeMemory(int node, int firstPfn, int pages, Watermarks watermarks, bool holdsZeroPage)
    {
        Node = node;
        FirstPfn = firstPfn;
        Pages = pages;
        Watermarks = watermarks;
        _flags = new uint[pages];
        _count = new int[pages];
        _mapcount = new short[pages];
        _place = new FramePlace[pages];
        _owner = new byte[pages];
        _contents = new uint[pages];
        _private = new int[pages];
        _rmapTask = new int[pages];
        _rmapVpn = new uint[pages];
        _prev = new int[pages + 2];
        _next = new int[pages + 2];
        _activeHead = pages;
        _inactiveHead = pages + 1;
        _prev[_activeHead] = _next[_activeHead] = _activeHead;
        _prev[_inactiveHead] = _next[_inactiveHead] = _inactiveHead;
        var first = 0;
        if (holdsZeroPage)
        {
            _flags[0] = (uint)(PageFlags.Reserved | PageFlags.Uptodate);
            _place[0] = FramePlace.Reserved;
            _count[0] = 1;
            first = 1;
        }
        // Free list LIFO; push in reverse so that low frames are handed out first, which keeps traces readable.
        for (var i = pages - 1; i >= first; i--)
        {
            PushFree(i);
        }
    }

    public int Node { get; }
    public int FirstPfn { get; }
    public int Pages { get; }
    public Watermarks Watermarks { get; set; }
    public int FreePages { get; private set; }
    public int NrActive { get; private set; }
    public int NrInactive { get; private set; }
    public VmStat Stat { get; } = new();
    IReadOnlyVmStat IReadOnlyNodeMemory.Stat => Stat;

    // ---- zone reclaim state (struct zone) ----------------------------------------------------------------------
    /// <summary><c>zone-&gt;nr_scan_active</c>, <c>nr_scan_inactive</c>: shrink_zone's accumulators.</summary>
    public long NrScanActive { get; set; }
    public long NrScanInactive { get; set; }
    /// <summary><c>zone-&gt;pages_scanned</c>: reset whenever pages are freed.</summary>
    public long PagesScanned { get; set; }
    /// <summary><c>zone-&gt;all_unreclaimable</c>: reset whenever pages are freed.</summary>
    public bool AllUnreclaimable { get; set; }
    /// <summary><c>zone-&gt;prev_priority</c> (starts at DEF_PRIORITY) and <c>temp_priority</c>.</summary>
    public int PrevPriority { get; set; } = VmScan.DefPriority;
    public int TempPriority { get; set; } = VmScan.DefPriority;

    public bool Owns(int pfn) => pfn >= FirstPfn && pfn < FirstPfn + Pages;
    public int Index(int pfn) => pfn - FirstPfn;
    public int PfnOf(int index) => index + FirstPfn;

    public PageFlags Flags(int i) => (PageFlags)_flags[i];
    public bool Test(int i, PageFlags f) => (_flags[i] & (uint)f) != 0;
    public void Set(int i, PageFlags f) => _flags[i] |= (uint)f;
    public void Clear(int i, PageFlags f) => _flags[i] &= ~(uint)f;
    public bool TestAndClear(int i, PageFlags f) { var was = Test(i, f); Clear(i, f); return was; }
    public bool TestAndSet(int i, PageFlags f) { var was = Test(i, f); Set(i, f); return was; }

    public int Count(int i) => _count[i];
    public void GetPage(int i) => _count[i]++;

    public ReadOnlySpan<FramePlace> Places => _place;
    public ReadOnlySpan<uint> FlagWords => _flags;
    public ReadOnlySpan<byte> Owners => _owner;
    public ReadOnlySpan<int> Counts => _count;
    public ReadOnlySpan<short> Mapcounts => _mapcount;
    public IReadOnlyCollection<int> HeldFrames => _holds is null ? [] : _holds.Keys;
    public ReadOnlySpan<int> SwapEntries => _private;
    public ReadOnlySpan<uint> RmapVpns => _rmapVpn;
    public ReadOnlySpan<int> RmapTasks => _rmapTask;
    public SharedMapperList SharedMappers => new(this);

    // ---- references held by work in progress ------------------------------------------------------------------

    /// <summary>Who holds a page reference across a wait: a fault that sleeps on PG_locked (lookup_swap_cache's
    /// find_get_page), or a fault whose page is still being read (read_swap_cache_async's reference, which becomes the
    /// PTE's). Such a reference is legal at any quiescent point; the checkers count it as a user and name its holder.</summary>
    public readonly record struct PageHold(int Task, string What);

    private Dictionary<int, (int Count, PageHold Last)>? _holds;

    /// <summary>Records that <paramref name="hold"/> holds one of the page's references (taken by the caller).</summary>
    public void Hold(int i, PageHold hold)
    {
        _holds ??= new();
        _holds[i] = (_holds.TryGetValue(i, out var h) ? h.Count + 1 : 1, hold);
    }

    /// <summary>The holder's reference now belongs to someone else (a mapping) or is dropped by the caller.</summary>
    public void ReleaseHold(int i)
    {
        if (_holds is null || !_holds.TryGetValue(i, out var h))
        {
            throw new InvalidOperationException($"pfn {PfnOf(i)} has no hold to release");
        }

        if (h.Count == 1)
        {
            _holds.Remove(i);
        }
        else
        {
            _holds[i] = (h.Count - 1, h.Last);
        }
    }

    /// <summary>How many references work in progress holds on the page, and the last holder.</summary>
    public (int Count, PageHold Last) Holds(int i) =>
        _holds is not null && _holds.TryGetValue(i, out var h) ? h : (0, default);
    public int Mapcount(int i) => _mapcount[i];
    public FramePlace Place(int i) => _place[i];
    /// <summary>For <see cref="FramePlace.Pagevec"/>: the CPU; for <see cref="FramePlace.Isolated"/>: the <see cref="Isolator"/>.</summary>
    public int Owner(int i) => _owner[i];
    public void SetPlace(int i, FramePlace place, int owner = 0) { _place[i] = place; _owner[i] = (byte)owner; }
    public uint Contents(int i) => _contents[i];
    public void SetContents(int i, uint value) => _contents[i] = value;
    /// <summary><c>page_private</c>: the swap entry of a PG_swapcache page.</summary>
    public int SwapEntry(int i) => _private[i];

    // ---- allocation -------------------------------------------------------------------------------------------

    /// <summary>Takes a frame off the free list (order 0), with one reference and clean flags; -1 when empty.</summary>
    /// <remarks>Kernel: mm/page_alloc.c buffered_rmqueue() + prep_new_page().</remarks>
    public int AllocFrame()
    {
        if (_freeHead == NoLink)
        {
            return -1;
        }

        var i = _freeHead;
        _freeHead = _next[i];
        FreePages--;
        _flags[i] = 0;
        _count[i] = 1;
        _mapcount[i] = 0;
        _private[i] = 0;
        _contents[i] = 0;
        _rmapTask[i] = 0;
        _place[i] = FramePlace.InFlight;
        _owner[i] = 0;
        Stat.Count(VmEvent.PgallocNormal);
        return i;
    }

    /// <summary>Returns a frame to the free list.</summary>
    /// <remarks>Kernel: mm/page_alloc.c free_hot_cold_page() and its free_pages_check(): a page freed while mapped,
    /// on the LRU, locked, under writeback or still in the swap cache is a kernel bug ("Bad page state").</remarks>
    public void FreeFrame(int i)
    {
        const PageFlags bad = PageFlags.Lru | PageFlags.Locked | PageFlags.Writeback | PageFlags.SwapCache
                              | PageFlags.Reserved | PageFlags.Active | PageFlags.Private | PageFlags.Reclaim;
        if (_mapcount[i] != 0 || _count[i] != 0 || (Flags(i) & bad) != 0)
        {
            throw new InvalidOperationException(
                $"Bad page state: freeing pfn {PfnOf(i)} on node {Node} with count {_count[i]}, mapcount {_mapcount[i]}, " +
                $"flags {PageFlagNames.Format(Flags(i))}");
        }

        _flags[i] = 0;
        _rmapTask[i] = 0;
        _sharedRmap?.Remove(i);
        Stat.Count(VmEvent.Pgfree);
        if (_poisonPending is not null && _poisonPending.Remove(i))
        {
            // The page soft_offline_page moved away: its frame never reaches the free list (PG_hwpoison).
            SetRetired(i);
            return;
        }
        PushFree(i);
        // free_pages_bulk(): freeing shows the zone is reclaimable again.
        AllUnreclaimable = false;
        PagesScanned = 0;
    }

    private void PushFree(int i)
    {
        _place[i] = FramePlace.Free;
        _owner[i] = 0;
        _next[i] = _freeHead;
        _prev[i] = NoLink;
        _freeHead = i;
        FreePages++;
    }

    // ---- memory errors (soft_offline_page) ---------------------------------------------------------------------

    private HashSet<int>? _poisonPending;
    private readonly List<int> _retired = new();

    public IReadOnlyList<int> RetiredFrames => _retired;

    public bool PoisonPending(int i) => _poisonPending?.Contains(i) == true;

    /// <summary>A page in use had a memory error: when its last reference goes, its frame is retired, not freed.</summary>
    public void MarkPoisonPending(int i) => (_poisonPending ??= new()).Add(i);

    /// <summary>The page could not be moved away: it stays in use and will be freed normally.</summary>
    public void ClearPoisonPending(int i) => _poisonPending?.Remove(i);

    /// <summary>A free frame had a memory error: it leaves the free list and the free count for good.</summary>
    /// <remarks>Kernel: 2.6.33 mm/memory-failure.c soft_offline_page() on a free buddy page sets PG_hwpoison (the
    /// allocator's check_new_page() then drops it when it comes up); the emulator takes it off the list at once, as
    /// later kernels' take_page_off_buddy() does, so the free count never includes it.</remarks>
    public void RetireFree(int i)
    {
        if (_place[i] != FramePlace.Free)
        {
            throw new InvalidOperationException($"pfn {PfnOf(i)} on node {Node} is not free ({_place[i]})");
        }

        var prev = NoLink;
        for (var k = _freeHead; k != NoLink; prev = k, k = _next[k])
        {
            if (k != i)
            {
                continue;
            }

            if (prev == NoLink)
            {
                _freeHead = _next[k];
            }
            else
            {
                _next[prev] = _next[k];
            }

            FreePages--;
            SetRetired(i);
            return;
        }
        throw new InvalidOperationException($"pfn {PfnOf(i)} on node {Node} is marked free but not on the free list");
    }

    private void SetRetired(int i)
    {
        _flags[i] = (uint)PageFlags.HwPoison;
        _place[i] = FramePlace.Retired;
        _owner[i] = 0;
        _next[i] = _prev[i] = NoLink;
        _retired.Add(i);
    }

    /// <summary><c>put_page()</c>: drops a reference; at zero frees the page, or reports that the LRU release must run.</summary>
    public PutResult PutPage(int i)
    {
        if (_count[i] <= 0)
        {
            throw new InvalidOperationException($"put_page on pfn {PfnOf(i)} (node {Node}) with count {_count[i]}");
        }

        if (--_count[i] > 0)
        {
            return PutResult.Alive;
        }

        if (Test(i, PageFlags.Lru))
        {
            return PutResult.ReleasePending;
        }

        FreeFrame(i);
        return PutResult.Freed;
    }

    /// <summary><c>__page_cache_release()</c>: takes a dead page off the LRU and frees it, unless someone took a new
    /// reference in the meantime (then only the LRU removal stands, as in the kernel).</summary>
    /// <returns>true when the frame was freed.</returns>
    public bool PageCacheRelease(int i)
    {
        if (TestAndClear(i, PageFlags.Lru))
        {
            // del_page_from_lru() clears PG_active as it unlinks.
            DelPageFromLru(i);
            Clear(i, PageFlags.Active);
        }
        if (_count[i] != 0)
        {
            return false;
        }

        FreeFrame(i);
        return true;
    }

    // ---- swap cache flags ------------------------------------------------------------------------------------

    /// <summary>The frame side of <c>__add_to_swap_cache()</c> + add_to_swap: PG_swapcache, private = entry, a cache
    /// reference, PG_uptodate and PG_dirty (which forces the write).</summary>
    public void AddToSwapCache(int i, int entry, bool forWrite)
    {
        Set(i, PageFlags.SwapCache);
        // add_to_swap marks the page up to date and dirty (it must be written); a page being read is up to date only
        // when the read completes.
        if (forWrite)
        {
            Set(i, PageFlags.Uptodate | PageFlags.Dirty);
        }

        _private[i] = entry;
        _count[i]++;
    }

    /// <summary>The frame side of <c>__delete_from_swap_cache()</c>; the caller drops the cache reference.</summary>
    public void DeleteFromSwapCache(int i)
    {
        Clear(i, PageFlags.SwapCache);
        _private[i] = 0;
    }

}

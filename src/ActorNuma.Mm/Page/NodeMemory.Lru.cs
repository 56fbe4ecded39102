namespace ActorNuma.Mm;

/// <summary>The node's frames, continued: the active and inactive LRU lists, <c>isolate_lru_page</c> and putback, and the
/// walks of the lists and the free list.</summary>
public sealed partial class NodeMemory
{
    // ---- LRU lists -------------------------------------------------------------------------------------------

    /// <summary><c>add_page_to_active_list</c> / <c>add_page_to_inactive_list</c>: at the head.</summary>
    public void AddToLru(int i, bool active)
    {
        if (Test(i, PageFlags.Lru))
        {
            throw new InvalidOperationException($"pfn {PfnOf(i)} already PG_lru");
        }

        Set(i, PageFlags.Lru);
        LinkToLru(i, active);
    }

    /// <summary>Moves a page to the tail of the inactive list: <c>rotate_reclaimable_page</c>.</summary>
    public void MoveToInactiveTail(int i)
    {
        Unlink(i);
        LinkAfter(_prev[_inactiveHead], i);
    }

    /// <summary>Moves an LRU page from the inactive to the active list head: <c>activate_page</c>.</summary>
    public void ActivatePage(int i)
    {
        if (!Test(i, PageFlags.Lru) || Test(i, PageFlags.Active))
        {
            return;
        }

        Unlink(i);
        NrInactive--;
        Set(i, PageFlags.Active);
        LinkAfter(_activeHead, i);
        NrActive++;
        Stat.Count(VmEvent.Pgactivate);
    }

    /// <summary><c>del_page_from_lru</c>: unlinks by PG_active, which it leaves as is. PG_lru is the caller's business.</summary>
    public void DelPageFromLru(int i)
    {
        Unlink(i);
        if (Test(i, PageFlags.Active))
        {
            NrActive--;
        }
        else
        {
            NrInactive--;
        }

        _place[i] = FramePlace.InFlight;
    }

    /// <summary>Frames from the tail of a list towards its head (the order reclaim scans).</summary>
    public IEnumerable<int> FromTail(bool active)
    {
        var head = active ? _activeHead : _inactiveHead;
        for (var i = _prev[head]; i != head;)
        {
            var prev = _prev[i];
            yield return i;
            i = prev;
        }
    }

    /// <summary>The tail frame of a list, or -1.</summary>
    public int Tail(bool active)
    {
        var head = active ? _activeHead : _inactiveHead;
        return _prev[head] == head ? -1 : _prev[head];
    }

    public IEnumerable<int> FreeList()
    {
        for (var i = _freeHead; i != NoLink; i = _next[i])
        {
            yield return i;
        }
    }

    private void LinkAfter(int at, int i)
    {
        var n = _next[at];
        _next[i] = n;
        _prev[i] = at;
        _prev[n] = i;
        _next[at] = i;
    }

    private void Unlink(int i)
    {
        var p = _prev[i];
        var n = _next[i];
        _next[p] = n;
        _prev[n] = p;
        _prev[i] = _next[i] = NoLink;
    }

    // ---- isolation -------------------------------------------------------------------------------------------

    /// <summary>The locked part of V2 <c>isolate_lru_page()</c>: PG_lru is tested and cleared, the page unlinked and a
    /// reference taken; a page whose count already reached 0 is being freed and goes back (-1). Draining and the retry
    /// are the caller's, because they involve other CPUs.</summary>
    /// <remarks>Kernel: V2 1/2 mm/vmscan.c isolate_lru_page(); get_page_testone() on the -1 biased count.</remarks>
    public IsolateRc IsolateLruPage(int i, Isolator by)
    {
        if (!TestAndClear(i, PageFlags.Lru))
        {
            return IsolateRc.NotOnLru;
        }

        DelPageFromLru(i);
        if (_count[i] == 0)
        {
            // Being freed: undo, and put it back where it was for __page_cache_release to find.
            Set(i, PageFlags.Lru);
            LinkToLru(i, Test(i, PageFlags.Active));
            return IsolateRc.BeingFreed;
        }
        _count[i]++;
        SetPlace(i, FramePlace.Isolated, (int)by);
        return IsolateRc.Isolated;
    }

    /// <summary>2.6.14 <c>isolate_lru_pages()</c>: up to <paramref name="nrToScan"/> pages from the tail of a list onto
    /// <paramref name="dst"/>, each with a reference taken; a page whose count already reached 0 is being freed and goes
    /// back to the head of its list. Returns how many were taken; <paramref name="scanned"/> how many were looked at.</summary>
    /// <remarks>Kernel: mm/vmscan.c isolate_lru_pages() (the caller holds zone-&gt;lru_lock).</remarks>
    public int IsolateLruPages(int nrToScan, bool active, List<int> dst, out int scanned)
    {
        var head = active ? _activeHead : _inactiveHead;
        var taken = 0;
        scanned = 0;
        while (scanned < nrToScan && _prev[head] != head)
        {
            var i = _prev[head];
            scanned++;
            if (!TestAndClear(i, PageFlags.Lru))
            {
                throw new InvalidOperationException($"isolate_lru_pages: pfn {PfnOf(i)} on a list without PG_lru (BUG)");
            }

            Unlink(i);
            if (_count[i] == 0)
            {
                // get_page_testone(): being freed. Undo, and put it back at the head of the list.
                Set(i, PageFlags.Lru);
                LinkAfter(head, i);
                continue;
            }
            if (active)
            {
                NrActive--;
            }
            else
            {
                NrInactive--;
            }

            _count[i]++;
            SetPlace(i, FramePlace.Isolated, (int)Isolator.Reclaim);
            dst.Add(i);
            taken++;
        }
        return taken;
    }

    /// <summary>Back onto a list after reclaim looked at it (shrink_cache's and refill_inactive_zone's put-back loops):
    /// PG_lru set again, at the head of the list <paramref name="active"/> names; the caller releases the reference.</summary>
    public void ReturnToLru(int i, bool active)
    {
        if (TestAndSet(i, PageFlags.Lru))
        {
            throw new InvalidOperationException($"pfn {PfnOf(i)} already PG_lru (BUG)");
        }

        LinkToLru(i, active);
    }

    /// <summary>The list half of <c>add_page_to_active_list</c> / <c>add_page_to_inactive_list</c>, PG_lru already set:
    /// PG_active as asked, at the head of that list, counted, and the frame's place is the LRU.</summary>
    private void LinkToLru(int i, bool active)
    {
        if (active)
        {
            Set(i, PageFlags.Active);
        }
        else
        {
            Clear(i, PageFlags.Active);
        }

        LinkAfter(active ? _activeHead : _inactiveHead, i);
        if (active)
        {
            NrActive++;
        }
        else
        {
            NrInactive++;
        }

        _place[i] = FramePlace.Lru;
        _owner[i] = 0;
    }

    /// <summary>Pages mapped by at least one PTE (the node's share of nr_mapped), kept as the kernel keeps it: counted
    /// when a page's mapcount leaves and reaches 0.</summary>
    /// <remarks>Kernel: 2.6.14 mm/rmap.c page_add_anon_rmap() inc_page_state(nr_mapped), page_remove_rmap()
    /// dec_page_state(nr_mapped).</remarks>
    public int NrMapped() => _nrMapped;

    private int _nrMapped;

    /// <summary>The V2 <c>putback_lru_pages()</c> body for one page: back on its list by PG_active unless something
    /// already set PG_lru (a bug the later fix turned into BUG()).</summary>
    /// <returns>true if the page went back on a list.</returns>
    public bool PutbackLruPage(int i)
    {
        if (TestAndSet(i, PageFlags.Lru))
        {
            return false;
        }

        LinkToLru(i, Test(i, PageFlags.Active));
        return true;
    }

    private static readonly int PlaceKinds = Enum.GetValues<FramePlace>().Length;

    /// <summary>Counts the frames in each place, for the checkers.</summary>
    public int[] CountPlaces()
    {
        var counts = new int[PlaceKinds];
        foreach (var p in _place)
        {
            counts[(int)p]++;
        }

        return counts;
    }

    /// <summary>Walks both LRU lists and returns the frames on them, for the checkers.</summary>
    public (List<int> Active, List<int> Inactive) WalkLru() => ([.. LruFrames(active: true)], [.. LruFrames(active: false)]);

    public FrameList FreeFrames => new(_next, _freeHead, NoLink, int.MaxValue);

    /// <remarks>A list broken into a cycle that misses its head ends after <see cref="Pages"/> + 1 frames, so a checker
    /// that walks it reports the wrong length instead of looping.</remarks>
    public FrameList LruFrames(bool active)
    {
        var head = active ? _activeHead : _inactiveHead;
        return new FrameList(_next, _next[head], head, Pages + 1);
    }

    /// <summary>The frames along one of the node's linked lists (the free list, an LRU list), by index, from the first
    /// to the one before <c>end</c>, at most <c>limit</c> of them. A struct over the links as they are now, for the
    /// checkers, which walk every list at every checkpoint: enumerating it allocates nothing.</summary>
    public readonly struct FrameList : IEnumerable<int>
    {
        private readonly int[] _next;
        private readonly int _first;
        private readonly int _end;
        private readonly int _limit;

        internal FrameList(int[] next, int first, int end, int limit) => (_next, _first, _end, _limit) = (next, first, end, limit);

        public Enumerator GetEnumerator() => new(this);
        IEnumerator<int> IEnumerable<int>.GetEnumerator() => GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public struct Enumerator(FrameList list) : IEnumerator<int>
        {
            private int _walked;

            public int Current { readonly get; private set; }
            readonly object System.Collections.IEnumerator.Current => Current;

            public bool MoveNext()
            {
                var i = _walked == 0 ? list._first : list._next[Current];
                if (i == list._end || _walked >= list._limit)
                {
                    return false;
                }

                Current = i;
                _walked++;
                return true;
            }

            public void Reset() => _walked = 0;
            public readonly void Dispose() { }
        }
    }
}

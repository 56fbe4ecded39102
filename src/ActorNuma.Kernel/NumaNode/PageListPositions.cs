namespace ActorNuma.Kernel;

/// <summary>Where each frame of a page list stands in it, for the answers of other actors, which name pages by pfn: the
/// frames' indexes sorted together with their positions (one <see cref="long"/> each), searched by halving. Built once
/// per list and reused for the next one, it costs 8 bytes a page where a dictionary cost 20, and nothing once its array
/// is as long as the longest list. Answers mostly name pages in list order, so a cursor at the position after the last
/// one found is tried first, and the search runs only when the answer skips about.</summary>
internal sealed class PageListPositions
{
    private long[] _sorted = [];
    private int _count;
    private int[] _idxs = [];
    private int _listCount;
    private int _next;

    /// <summary>Indexes the first <paramref name="count"/> frames of <paramref name="idxs"/> (frame indexes, at least 0).
    /// A frame named again is one page: its later entries become -1 and only the first position is kept.</summary>
    /// <returns>How many distinct frames the list has.</returns>
    public int Build(int[] idxs, int count)
    {
        if (_sorted.Length < count)
        {
            _sorted = new long[count];
        }

        (_idxs, _listCount, _next) = (idxs, count, 0);

        for (var k = 0; k < count; k++)
        {
            _sorted[k] = (long)idxs[k] << 32 | (uint)k;
        }

        Array.Sort(_sorted, 0, count);
        // A frame's entries are adjacent now, its first position first: keep that one, mark the others' positions.
        _count = 0;
        for (var k = 0; k < count; k++)
        {
            var entry = _sorted[k];
            if (_count > 0 && Frame(_sorted[_count - 1]) == Frame(entry))
            {
                idxs[Position(entry)] = -1;
                continue;
            }

            _sorted[_count++] = entry;
        }

        return _count;
    }

    /// <summary>The position of frame <paramref name="idx"/> in the list.</summary>
    /// <exception cref="KeyNotFoundException">The frame is not in the list.</exception>
    public int Of(int idx)
    {
        if (_next < _listCount && _idxs[_next] == idx)
        {
            return _next++;
        }

        var found = Search(idx);
        _next = found + 1;
        return found;
    }

    private int Search(int idx)
    {
        var (lo, hi) = (0, _count - 1);
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var frame = Frame(_sorted[mid]);
            if (frame == idx)
            {
                return Position(_sorted[mid]);
            }

            if (frame < idx)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        throw new KeyNotFoundException($"frame {idx} is not in the page list");
    }

    /// <summary>Forgets the list (the array stays for the next one).</summary>
    public void Clear() => (_count, _idxs, _listCount, _next) = (0, [], 0, 0);

    private static int Frame(long entry) => (int)(entry >> 32);
    private static int Position(long entry) => (int)(uint)entry;
}

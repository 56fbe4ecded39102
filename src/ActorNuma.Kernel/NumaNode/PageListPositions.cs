namespace ActorNuma.Kernel;

/// <summary>Where each frame of a page list stands in it, for the answers of other actors, which name pages by pfn. The
/// node keeps one hint per frame (its position in the list that holds it), shared by all its lists: a frame is in one
/// pageout list at a time, so a lookup reads the hint and checks it against the list. A hint that another list has
/// reused since (the frame left this list) fails the check, and the list is searched. Building a list costs one write
/// per page and allocates nothing; the sorted index it replaces sorted every list (10% of a deterministic migration).</summary>
internal sealed class PageListPositions
{
    private int[] _idxs = [];
    private int _count;
    private int[] _hints = [];

    /// <summary>Indexes the first <paramref name="count"/> frames of <paramref name="idxs"/> (frame indexes, at least 0
    /// and below <paramref name="hints"/>' length), writing their positions into the node's <paramref name="hints"/>. A
    /// frame named again is one page: its later entries become -1 and only the first position is kept.</summary>
    /// <returns>How many distinct frames the list has.</returns>
    public int Build(int[] idxs, int count, int[] hints)
    {
        (_idxs, _count, _hints) = (idxs, count, hints);
        var distinct = 0;
        for (var k = 0; k < count; k++)
        {
            var idx = idxs[k];
            var earlier = hints[idx];
            if (earlier < k && idxs[earlier] == idx)
            {
                idxs[k] = -1;
                continue;
            }

            hints[idx] = k;
            distinct++;
        }

        return distinct;
    }

    /// <summary>The position of frame <paramref name="idx"/> in the list.</summary>
    /// <exception cref="KeyNotFoundException">The frame is not in the list.</exception>
    public int Of(int idx)
    {
        if ((uint)idx < (uint)_hints.Length)
        {
            var hint = _hints[idx];
            if (hint < _count && _idxs[hint] == idx)
            {
                return hint;
            }
        }

        return Search(idx);
    }

    /// <summary>The frame's hint is another list's by now, or the frame is not in this list. Apart from
    /// <see cref="Of"/>, which is read for every page's every step and so should inline.</summary>
    private int Search(int idx)
    {
        var at = Array.IndexOf(_idxs, idx, 0, _count);
        return at >= 0 ? at : throw new KeyNotFoundException($"frame {idx} is not in the page list");
    }

    /// <summary>Forgets the list.</summary>
    public void Clear() => (_idxs, _count, _hints) = ([], 0, []);
}

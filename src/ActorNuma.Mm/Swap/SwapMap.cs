namespace ActorNuma.Mm;

/// <summary>What the checkers and reports may read of the swap map; only the swap device changes it.</summary>
public interface IReadOnlySwapMap
{
    int TotalSwapPages { get; }
    int NrSwapPages { get; }
    int CachedPages { get; }
    int PeakUsed { get; }
    bool VmSwapFull { get; }
    int Count(int slot);
    uint Contents(int slot);
    int CachedPfn(int slot);
    bool IsValid(int slot);

    /// <summary>Every slot's count (<see cref="Count"/>), indexed by slot (0 is unused): for the checkers' scan.</summary>
    ReadOnlySpan<ushort> Counts { get; }
    /// <summary>Every slot's <see cref="CachedPfn"/>, indexed by slot: for the checkers' scan.</summary>
    ReadOnlySpan<int> CachedPfns { get; }
}

/// <summary>One swap area: <c>swap_map</c> (a count per slot), the swap cache (<c>swapper_space</c>: slot to frame) and
/// what each slot holds on disk.</summary>
/// <remarks>Slot 0 is the header, as in the kernel, so usable slots are 1..<see cref="TotalSwapPages"/>.</remarks>
public sealed class SwapMap : IReadOnlySwapMap
{
    /// <summary><c>SWAP_MAP_MAX</c>.</summary>
    public const int SwapMapMax = 0x7fff;

    private readonly ushort[] _map;
    private readonly uint[] _contents;
    private readonly int[] _cachePfn;
    private int _clusterNext = 1;

    public SwapMap(int slots)
    {
        if (slots < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(slots));
        }

        TotalSwapPages = slots;
        NrSwapPages = slots;
        _map = new ushort[slots + 1];
        _contents = new uint[slots + 1];
        _cachePfn = new int[slots + 1];
        Array.Fill(_cachePfn, -1);
    }

    /// <summary><c>total_swap_pages</c>.</summary>
    public int TotalSwapPages { get; }
    /// <summary><c>nr_swap_pages</c>: free slots.</summary>
    public int NrSwapPages { get; private set; }
    /// <summary>The most slots in use at once since boot (a measure for comparing migration forms, not a kernel field).</summary>
    public int PeakUsed { get; private set; }
    public int CachedPages { get; private set; }

    public int Count(int slot) => _map[slot];
    public uint Contents(int slot) => _contents[slot];
    public void Write(int slot, uint contents) => _contents[slot] = contents;
    /// <summary>The frame holding the slot in the swap cache, or -1.</summary>
    public int CachedPfn(int slot) => _cachePfn[slot];
    public bool IsValid(int slot) => slot >= 1 && slot <= TotalSwapPages;
    public ReadOnlySpan<ushort> Counts => _map;
    public ReadOnlySpan<int> CachedPfns => _cachePfn;

    /// <summary><c>vm_swap_full()</c>: more than half of swap is in use.</summary>
    public bool VmSwapFull => NrSwapPages * 2 < TotalSwapPages;

    /// <summary><c>get_swap_page()</c>: a free slot with count 1, or 0 when <c>nr_swap_pages &lt;= 0</c>.</summary>
    /// <remarks>Kernel: mm/swapfile.c get_swap_page()/scan_swap_map(). Next-fit from cluster_next, which keeps a
    /// run of evictions in consecutive slots as the kernel's SWAPFILE_CLUSTER allocation does; freeing a slot does not
    /// pull the cursor back (the kernel only lowers lowest_bit).</remarks>
    public int GetSwapPage()
    {
        if (NrSwapPages <= 0)
        {
            return 0;
        }

        for (var n = 0; n < TotalSwapPages; n++)
        {
            var slot = _clusterNext;
            _clusterNext = slot == TotalSwapPages ? 1 : slot + 1;
            if (_map[slot] != 0)
            {
                continue;
            }

            _map[slot] = 1;
            NrSwapPages--;
            PeakUsed = Math.Max(PeakUsed, TotalSwapPages - NrSwapPages);
            return slot;
        }
        throw new InvalidOperationException("swap map inconsistent: nr_swap_pages > 0 but no free slot");
    }

    /// <summary><c>swap_duplicate()</c>: one more reference (a PTE now holds the entry).</summary>
    public bool SwapDuplicate(int slot)
    {
        if (!IsValid(slot) || _map[slot] == 0)
        {
            return false;
        }

        if (_map[slot] < SwapMapMax)
        {
            _map[slot]++;
        }

        return true;
    }

    /// <summary><c>swap_free()</c>: drops one reference; the slot is free again at zero.</summary>
    public void SwapFree(int slot)
    {
        if (!IsValid(slot) || _map[slot] == 0)
        {
            throw new InvalidOperationException($"swap_free: bad swap entry {slot}");
        }
        // A count that reached SWAP_MAP_MAX stays there: the slot is leaked for good, as in the kernel.
        if (_map[slot] == SwapMapMax)
        {
            return;
        }

        if (--_map[slot] == 0)
        {
            if (_cachePfn[slot] >= 0)
            {
                throw new InvalidOperationException($"swap_free: slot {slot} freed while pfn {_cachePfn[slot]} caches it");
            }

            _contents[slot] = 0;
            NrSwapPages++;
        }
    }

    /// <summary>The slot side of <c>__add_to_swap_cache()</c>: -EEXIST when another frame caches the slot.</summary>
    public Errno AddToSwapCache(int slot, int pfn)
    {
        if (!IsValid(slot) || _map[slot] == 0)
        {
            return Errno.ENOENT;
        }

        if (_cachePfn[slot] >= 0)
        {
            return Errno.EEXIST;
        }

        _cachePfn[slot] = pfn;
        CachedPages++;
        return Errno.None;
    }

    /// <summary>The slot side of <c>__delete_from_swap_cache()</c>.</summary>
    public void DeleteFromSwapCache(int slot, int pfn)
    {
        if (_cachePfn[slot] != pfn)
        {
            throw new InvalidOperationException($"delete_from_swap_cache: slot {slot} is cached by {_cachePfn[slot]}, not {pfn}");
        }

        _cachePfn[slot] = -1;
        CachedPages--;
    }
}

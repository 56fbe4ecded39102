namespace ActorNuma.Mm;

/// <summary>A page table entry: none, a present frame (with the young, dirty and write bits), a swap entry, or (2.6.18)
/// a migration entry naming the frame being moved and whether the mapping was writable.</summary>
public readonly record struct Pte(ulong Raw)
{
    private const ulong PresentBit = 1, YoungBit = 2, DirtyBit = 4, WriteBit = 8, SwapBit = 16, MigrationBit = 32;
    private const int Shift = 8;

    public static Pte None => default;
    public static Pte Present(int pfn, bool write, bool young = true, bool dirty = false) =>
        new(((ulong)pfn << Shift) | PresentBit | (write ? WriteBit : 0) | (young ? YoungBit : 0) | (dirty ? DirtyBit : 0));
    public static Pte Swap(int slot) => new(((ulong)slot << Shift) | SwapBit);
    /// <summary><c>make_migration_entry(page, write)</c> (2.6.18 include/linux/swapops.h): a non-present entry that
    /// <c>do_swap_page</c> recognises and waits on (<c>migration_entry_wait</c>).</summary>
    public static Pte Migration(int pfn, bool write) => new(((ulong)pfn << Shift) | MigrationBit | (write ? WriteBit : 0));

    public bool IsNone => Raw == 0;
    public bool IsPresent => (Raw & PresentBit) != 0;
    public bool IsSwap => (Raw & SwapBit) != 0;
    /// <summary><c>is_migration_entry(pte_to_swp_entry(pte))</c>.</summary>
    public bool IsMigration => (Raw & MigrationBit) != 0;
    public bool Young => (Raw & YoungBit) != 0;
    public bool Dirty => (Raw & DirtyBit) != 0;
    public bool Writable => (Raw & WriteBit) != 0;
    /// <summary>The frame of a present PTE (<c>pte_pfn</c>).</summary>
    public int Pfn => IsPresent ? (int)(Raw >> Shift) : throw new InvalidOperationException("not a present pte");
    /// <summary>The slot of a swap PTE (<c>pte_to_swp_entry</c>).</summary>
    public int SwapSlot => IsSwap ? (int)(Raw >> Shift) : throw new InvalidOperationException("not a swap pte");
    /// <summary>The frame a migration entry names (<c>migration_entry_to_page</c>).</summary>
    public int MigrationPfn => IsMigration ? (int)(Raw >> Shift) : throw new InvalidOperationException("not a migration pte");

    public Pte MkOld() => new(Raw & ~YoungBit);
    public Pte MkYoung() => new(Raw | YoungBit);
    public Pte MkDirty() => new(Raw | DirtyBit);
    public Pte MkClean() => new(Raw & ~DirtyBit);
    public Pte MkWrite() => new(Raw | WriteBit);
    public Pte WrProtect() => new(Raw & ~WriteBit);

    public override string ToString() =>
        IsNone ? "none" : IsSwap ? $"swp:{SwapSlot}" : IsMigration ? $"migration:{MigrationPfn}{(Writable ? " w" : "")}" : $"pfn:{Pfn}{(Young ? " young" : "")}{(Dirty ? " dirty" : "")}{(Writable ? " w" : "")}";
}

/// <summary>What the checkers and reports may read of a page table; only its task changes it.</summary>
public interface IReadOnlyPageTable
{
    int Chunks { get; }
    Pte Get(ulong vpn);
    uint LastWritten(ulong vpn);
    IEnumerable<(ulong Vpn, Pte Pte)> Entries();
    IEnumerable<(ulong Vpn, Pte Pte)> Range(ulong startVpn, ulong endVpn);

    /// <summary>Every PTE page in ascending order: the vpn of its first entry and its entries as raw <see cref="Pte"/>
    /// values (0 for none), for a reader that visits every entry (the checkers, at every checkpoint) without an
    /// iterator step per entry.</summary>
    IEnumerable<(ulong FirstVpn, ReadOnlyMemory<ulong> Ptes)> PtePages();
}

/// <summary>A task's page table: 512-entry PTE pages (like x86-64's) allocated on first use, with the value the task
/// last wrote to each page beside it (what the data checker compares reads with).</summary>
public sealed class PageTable : IReadOnlyPageTable
{
    private const int Bits = 9;
    private const int PerPage = 1 << Bits;
    private readonly Dictionary<ulong, Chunk> _chunks = new();

    private sealed class Chunk(ulong key)
    {
        public readonly ulong Key = key;
        public readonly ulong[] Ptes = new ulong[PerPage];
        public readonly uint[] Written = new uint[PerPage];
        public int Used;
    }

    /// <summary>The chunk last looked up: faults, unmaps and swap-ins walk pages in address order, so most lookups
    /// hit it and skip the dictionary. One reference (the chunk carries its key), so a reader never sees a torn pair.</summary>
    private Chunk? _last;

    public int Chunks => _chunks.Count;

    private Chunk? Find(ulong key)
    {
        var last = _last;
        if (last is not null && last.Key == key)
        {
            return last;
        }

        if (!_chunks.TryGetValue(key, out var c))
        {
            return null;
        }

        _last = c;
        return c;
    }

    public Pte Get(ulong vpn) =>
        Find(vpn >> Bits) is { } c ? new Pte(c.Ptes[(int)(vpn & (PerPage - 1))]) : Pte.None;

    public void Set(ulong vpn, Pte pte)
    {
        var key = vpn >> Bits;
        var idx = (int)(vpn & (PerPage - 1));
        var c = Find(key);
        if (c is null)
        {
            if (pte.IsNone)
            {
                return;
            }

            _chunks[key] = c = new Chunk(key);
            _last = c;
        }
        var wasNone = c.Ptes[idx] == 0;
        c.Ptes[idx] = pte.Raw;
        if (wasNone && !pte.IsNone)
        {
            c.Used++;
        }
        else if (!wasNone && pte.IsNone)
        {
            c.Written[idx] = 0;
            if (--c.Used == 0)
            {
                _chunks.Remove(key);
                if (ReferenceEquals(_last, c))
                {
                    _last = null;
                }
            }
        }
    }

    /// <summary>The value the task last wrote to the page; 0 for a page never written (reads see zeroes).</summary>
    public uint LastWritten(ulong vpn) =>
        Find(vpn >> Bits) is { } c ? c.Written[(int)(vpn & (PerPage - 1))] : 0;

    public void SetLastWritten(ulong vpn, uint value)
    {
        if (Find(vpn >> Bits) is { } c)
        {
            c.Written[(int)(vpn & (PerPage - 1))] = value;
        }
        else
        {
            throw new InvalidOperationException($"write to vpn {vpn:x} without a pte");
        }
    }

    /// <summary>Every non-none entry in ascending page order.</summary>
    public IEnumerable<(ulong Vpn, Pte Pte)> Entries()
    {
        foreach (var key in _chunks.Keys.OrderBy(k => k))
        {
            var c = _chunks[key];
            for (var i = 0; i < PerPage; i++)
            {
                if (c.Ptes[i] != 0)
                {
                    yield return ((key << Bits) | (uint)i, new Pte(c.Ptes[i]));
                }
            }
        }
    }

    public IEnumerable<(ulong FirstVpn, ReadOnlyMemory<ulong> Ptes)> PtePages()
    {
        var keys = new ulong[_chunks.Count];
        _chunks.Keys.CopyTo(keys, 0);
        Array.Sort(keys);
        foreach (var key in keys)
        {
            yield return (key << Bits, _chunks[key].Ptes);
        }
    }

    /// <summary>Entries within [startVpn, endVpn), in ascending order. A range wider than the table (a sparse one: an
    /// expect over 10^11 pages) walks only the chunks that exist instead of every chunk-sized step of the range.</summary>
    public IEnumerable<(ulong Vpn, Pte Pte)> Range(ulong startVpn, ulong endVpn)
    {
        if (endVpn <= startVpn)
        {
            yield break;
        }

        if ((endVpn - startVpn) / PerPage > (ulong)_chunks.Count * 4)
        {
            foreach (var key in _chunks.Keys.Where(k => k >= startVpn >> Bits && k <= (endVpn - 1) >> Bits).OrderBy(k => k))
            {
                var c = _chunks[key];
                for (var i = 0; i < PerPage; i++)
                {
                    var vpn = (key << Bits) | (uint)i;
                    if (vpn >= startVpn && vpn < endVpn && c.Ptes[i] != 0)
                    {
                        yield return (vpn, new Pte(c.Ptes[i]));
                    }
                }
            }
            yield break;
        }
        for (var vpn = startVpn; vpn < endVpn;)
        {
            if (Find(vpn >> Bits) is not { } c)
            {
                vpn = ((vpn >> Bits) + 1) << Bits;
                continue;
            }
            var idx = (int)(vpn & (PerPage - 1));
            if (c.Ptes[idx] != 0)
            {
                yield return (vpn, new Pte(c.Ptes[idx]));
            }

            vpn++;
        }
    }
}

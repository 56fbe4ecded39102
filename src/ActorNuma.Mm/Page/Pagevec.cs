namespace ActorNuma.Mm;

/// <summary><c>struct pagevec</c>: up to <see cref="PagevecSize"/> global frame numbers.</summary>
/// <remarks>Kernel: include/linux/pagevec.h.</remarks>
public sealed class Pagevec
{
    /// <summary><c>PAGEVEC_SIZE</c>.</summary>
    public const int PagevecSize = 14;

    private readonly int[] _pages = new int[PagevecSize];

    public int Count { get; private set; }
    public ReadOnlySpan<int> Pages => _pages.AsSpan(0, Count);

    /// <summary><c>pagevec_add()</c>: returns the space left, so 0 means the vector is full and must be flushed.</summary>
    public int Add(int pfn)
    {
        _pages[Count++] = pfn;
        return PagevecSize - Count;
    }

    public bool Contains(int pfn) => Pages.Contains(pfn);

    /// <summary>Empties the vector and returns what it held (<c>__pagevec_lru_add</c> then <c>pagevec_reinit</c>).</summary>
    public int[] Drain()
    {
        var pages = Pages.ToArray();
        Count = 0;
        return pages;
    }
}

/// <summary>A CPU's two LRU-add vectors: <c>lru_add_pvecs</c> (to the inactive list) and <c>lru_add_active_pvecs</c>.</summary>
public sealed class CpuPagevecs(int cpu)
{
    public int Cpu { get; } = cpu;
    public Pagevec LruAdd { get; } = new();
    public Pagevec LruAddActive { get; } = new();
    public int Count => LruAdd.Count + LruAddActive.Count;
}

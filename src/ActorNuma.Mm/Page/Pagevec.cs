namespace ActorNuma.Mm;

/// <summary>A pagevec as the checkers read it.</summary>
public interface IReadOnlyPagevec
{
    int Count { get; }
    ReadOnlySpan<int> Pages { get; }
    bool Contains(int pfn);
}

/// <summary><c>struct pagevec</c>: up to <see cref="PagevecSize"/> global frame numbers.</summary>
/// <remarks>Kernel: include/linux/pagevec.h.</remarks>
public sealed class Pagevec : IReadOnlyPagevec
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

    /// <summary>Empties the vector into <paramref name="into"/> (at least <see cref="PagevecSize"/> long) and returns
    /// how many pages it held (<c>__pagevec_lru_add</c> then <c>pagevec_reinit</c>): the caller's buffer, so a flush
    /// allocates nothing.</summary>
    public int DrainInto(Span<int> into)
    {
        var count = Count;
        Pages.CopyTo(into);
        Count = 0;
        return count;
    }
}

/// <summary>A CPU's pagevecs as the checkers read them; only the node that owns the CPU changes them.</summary>
public interface IReadOnlyCpuPagevecs
{
    int Cpu { get; }
    IReadOnlyPagevec LruAdd { get; }
    IReadOnlyPagevec LruAddActive { get; }
    int Count { get; }
}

/// <summary>A CPU's two LRU-add vectors: <c>lru_add_pvecs</c> (to the inactive list) and <c>lru_add_active_pvecs</c>.</summary>
public sealed class CpuPagevecs(int cpu) : IReadOnlyCpuPagevecs
{
    public int Cpu { get; } = cpu;
    public Pagevec LruAdd { get; } = new();
    public Pagevec LruAddActive { get; } = new();
    public int Count => LruAdd.Count + LruAddActive.Count;
    IReadOnlyPagevec IReadOnlyCpuPagevecs.LruAdd => LruAdd;
    IReadOnlyPagevec IReadOnlyCpuPagevecs.LruAddActive => LruAddActive;
}

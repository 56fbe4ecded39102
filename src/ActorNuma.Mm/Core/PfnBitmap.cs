namespace ActorNuma.Mm;

/// <summary>One bit per page frame of the machine: a set of pfns for work that marks pages and reads the marks back,
/// as the kernel would test a page flag. A set of a million pages is 128 KB, where a <c>HashSet&lt;int&gt;</c> of them
/// takes about 20 bytes a page; marking allocates nothing.</summary>
public sealed class PfnBitmap(int pages)
{
    private readonly ulong[] _bits = new ulong[(pages + 63) / 64];

    /// <summary>Marks <paramref name="pfn"/>; false when it was marked already.</summary>
    public bool TestAndSet(int pfn)
    {
        ref var word = ref _bits[pfn >> 6];
        var bit = 1UL << (pfn & 63);
        var was = (word & bit) != 0;
        word |= bit;
        return !was;
    }

    /// <summary>Unmarks <paramref name="pfn"/>; true when it was marked.</summary>
    public bool TestAndClear(int pfn)
    {
        ref var word = ref _bits[pfn >> 6];
        var bit = 1UL << (pfn & 63);
        var was = (word & bit) != 0;
        word &= ~bit;
        return was;
    }

    public bool Test(int pfn) => (_bits[pfn >> 6] & (1UL << (pfn & 63))) != 0;

    /// <summary>True when no pfn is marked (what a user that cleans up after itself leaves).</summary>
    public bool IsClear => !_bits.AsSpan().ContainsAnyExcept(0UL);
}

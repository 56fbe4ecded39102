using System.Collections;
using System.Numerics;

namespace ActorNuma.Mm;

/// <summary>A set of page frame numbers as one bit per frame, grown to the highest pfn it has held: what a task's
/// isolated pages are to the kernel (pages on the migration's private list, each with PG_lru clear), where a
/// <c>HashSet&lt;int&gt;</c> of them took about 20 bytes a page and grew again on every fresh machine. A million-frame
/// machine's set is 128 KB at most; adding and removing allocate nothing once it has grown. Enumerates in pfn
/// order.</summary>
public sealed class PfnSet : IReadOnlySet<int>
{
    private ulong[] _bits = [];

    public int Count { get; private set; }

    /// <summary>Adds <paramref name="pfn"/>; false when the set held it already.</summary>
    public bool Add(int pfn)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pfn);
        var word = pfn >> 6;
        if (word >= _bits.Length)
        {
            Array.Resize(ref _bits, Math.Max(word + 1, _bits.Length * 2));
        }

        var bit = 1UL << (pfn & 63);
        if ((_bits[word] & bit) != 0)
        {
            return false;
        }

        _bits[word] |= bit;
        Count++;
        return true;
    }

    /// <summary>Removes <paramref name="pfn"/>; false when the set did not hold it.</summary>
    public bool Remove(int pfn)
    {
        if (!Contains(pfn))
        {
            return false;
        }

        _bits[pfn >> 6] &= ~(1UL << (pfn & 63));
        Count--;
        return true;
    }

    public bool Contains(int pfn) => pfn >= 0 && pfn >> 6 < _bits.Length && (_bits[pfn >> 6] & (1UL << (pfn & 63))) != 0;

    public IEnumerator<int> GetEnumerator()
    {
        for (var word = 0; word < _bits.Length; word++)
        {
            for (var bits = _bits[word]; bits != 0; bits &= bits - 1)
            {
                yield return word << 6 | BitOperations.TrailingZeroCount(bits);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    // The set relations compare with the other collection's distinct elements; none is on a hot path.
    private HashSet<int> Distinct(IEnumerable<int> other) => other as HashSet<int> ?? new HashSet<int>(other);

    public bool IsSubsetOf(IEnumerable<int> other)
    {
        var o = Distinct(other);
        return this.All(o.Contains);
    }

    public bool IsSupersetOf(IEnumerable<int> other) => other.All(Contains);

    public bool IsProperSubsetOf(IEnumerable<int> other)
    {
        var o = Distinct(other);
        return o.Count > Count && IsSubsetOf(o);
    }

    public bool IsProperSupersetOf(IEnumerable<int> other)
    {
        var o = Distinct(other);
        return Count > o.Count && IsSupersetOf(o);
    }

    public bool Overlaps(IEnumerable<int> other) => other.Any(Contains);

    public bool SetEquals(IEnumerable<int> other)
    {
        var o = Distinct(other);
        return o.Count == Count && IsSupersetOf(o);
    }
}

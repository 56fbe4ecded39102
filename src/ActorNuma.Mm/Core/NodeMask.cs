using System.Numerics;

namespace ActorNuma.Mm;

/// <summary>A <c>nodemask_t</c> of up to 64 nodes.</summary>
public readonly record struct NodeMask(ulong Bits)
{
    /// <summary><c>MAX_NUMNODES</c> of the emulated kernel.</summary>
    public const int MaxNumNodes = 64;

    public static NodeMask Empty => default;
    public static NodeMask Of(params int[] nodes) => new(nodes.Aggregate(0UL, (m, n) => m | (1UL << n)));
    public static NodeMask Of(IEnumerable<int> nodes) => Of(nodes.ToArray());
    public static NodeMask FirstN(int n) => new(n >= 64 ? ulong.MaxValue : (1UL << n) - 1);

    public bool IsEmpty => Bits == 0;
    public int Weight => BitOperations.PopCount(Bits);
    public bool Contains(int node) => node is >= 0 and < 64 && (Bits & (1UL << node)) != 0;
    /// <summary><c>first_node()</c>: the lowest set node, or -1.</summary>
    public int First => Bits == 0 ? -1 : BitOperations.TrailingZeroCount(Bits);
    public bool IsSubsetOf(NodeMask other) => (Bits & ~other.Bits) == 0;
    public NodeMask And(NodeMask other) => new(Bits & other.Bits);
    public NodeMask Without(NodeMask other) => new(Bits & ~other.Bits);

    /// <summary><c>next_node(n, mask)</c>: the next set node after <paramref name="n"/>, or -1.</summary>
    public int Next(int n)
    {
        if (n >= 63)
        {
            return -1;
        }

        var rest = Bits & ~((2UL << n) - 1);
        return rest == 0 ? -1 : BitOperations.TrailingZeroCount(rest);
    }

    /// <summary>The <paramref name="index"/>-th set node, as <c>offset_il_node</c> walks the mask.</summary>
    public int Nth(int index)
    {
        var n = First;
        for (var i = 0; i < index; i++)
        {
            n = Next(n);
        }

        return n;
    }

    public IEnumerable<int> Nodes()
    {
        for (var n = First; n >= 0; n = Next(n))
        {
            yield return n;
        }
    }

    public override string ToString() => string.Join(",", Nodes());
}

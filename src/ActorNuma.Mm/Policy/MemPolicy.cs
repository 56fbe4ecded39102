namespace ActorNuma.Mm;

/// <summary>Memory policy modes of 2.6.x include/linux/mempolicy.h. There is no MPOL_LOCAL: mode 4 is EINVAL.</summary>
public enum MpolMode
{
    Default = 0,
    Preferred = 1,
    Bind = 2,
    Interleave = 3,
}

/// <summary>mbind() flags.</summary>
[Flags]
public enum MpolFlags
{
    None = 0,
    /// <summary><c>MPOL_MF_STRICT</c>: verify that present pages obey the policy.</summary>
    Strict = 1 << 0,
    /// <summary><c>MPOL_MF_MOVE</c> (V2 2/2): evict pages that break the policy.</summary>
    Move = 1 << 1,
    /// <summary><c>MPOL_MF_MOVE_ALL</c> (V3+): also pages shared with other processes; needs a capability.</summary>
    MoveAll = 1 << 2,
}

/// <summary>get_mempolicy() flags.</summary>
[Flags]
public enum MpolGetFlags
{
    None = 0,
    /// <summary><c>MPOL_F_NODE</c>.</summary>
    Node = 1 << 0,
    /// <summary><c>MPOL_F_ADDR</c>.</summary>
    Addr = 1 << 1,
}

/// <summary><c>struct mempolicy</c>. For PREFERRED, <see cref="Nodes"/> holds the preferred node, or is empty for
/// "preferred_node = -1" (local allocation). A null policy reference means MPOL_DEFAULT, as in the kernel.</summary>
public sealed record MemPolicy(MpolMode Mode, NodeMask Nodes)
{
    public static MemPolicy Default { get; } = new(MpolMode.Default, NodeMask.Empty);

    /// <summary><c>preferred_node</c>: the first node of the mask, -1 when empty.</summary>
    public int PreferredNode => Mode == MpolMode.Preferred ? Nodes.First : -1;

    private int[]? _bindZonelist;

    /// <summary><c>v.zonelist</c> of a BIND policy: 2.6.14 <c>mpol_new</c> builds it once with <c>bind_zonelist</c>
    /// and every allocation under the policy uses that one.</summary>
    public int[] BindZonelist(int onlineNodes) => _bindZonelist ??= PolicyAllocation.BindZonelist(Nodes, onlineNodes);

    // The cached zonelist is derived from Mode and Nodes: a copy made by `with` builds its own, and it takes no part in
    // equality.
    private MemPolicy(MemPolicy original) => (Mode, Nodes) = (original.Mode, original.Nodes);
    public bool Equals(MemPolicy? other) => other is not null && Mode == other.Mode && Nodes.Equals(other.Nodes);
    public override int GetHashCode() => HashCode.Combine(Mode, Nodes);

    public static string ModeName(MpolMode mode) => mode switch
    {
        MpolMode.Default => "default",
        MpolMode.Preferred => "prefer",
        MpolMode.Bind => "bind",
        MpolMode.Interleave => "interleave",
        _ => mode.ToString(),
    };

    public override string ToString() => Mode switch
    {
        MpolMode.Default => "default",
        MpolMode.Preferred => Nodes.IsEmpty ? "prefer" : $"prefer={Nodes.First}",
        _ => $"{ModeName(Mode)}={NodeList.Format(Nodes)}",
    };
}

/// <summary>Node lists in the kernel's <c>nodelist_scnprintf</c> form: "0-2,5".</summary>
public static class NodeList
{
    public static string Format(NodeMask mask)
    {
        var parts = new List<string>();
        var nodes = mask.Nodes().ToArray();
        for (var i = 0; i < nodes.Length;)
        {
            var j = i;
            while (j + 1 < nodes.Length && nodes[j + 1] == nodes[j] + 1)
            {
                j++;
            }

            parts.Add(j == i ? $"{nodes[i]}" : $"{nodes[i]}-{nodes[j]}");
            i = j + 1;
        }
        return string.Join(",", parts);
    }
}

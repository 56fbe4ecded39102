namespace ActorNuma.Mm;

/// <summary>A NUMA node number, as in <c>pg_data_t.node_id</c>. Nodes are numbered from 0.</summary>
public readonly record struct NodeId
{
    public NodeId(int value)
    {
        if (value is < 0 or >= NodeMask.MaxNumNodes)
            throw new ArgumentOutOfRangeException(nameof(value), value, $"node ids are 0..{NodeMask.MaxNumNodes - 1}");
        Value = value;
    }

    public int Value { get; }
    public static implicit operator int(NodeId id) => id.Value;
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A page frame number. Frames are numbered machine-wide, node-major, so <see cref="Topology.PfnToNid"/>
/// is arithmetic, as <c>pfn_to_nid()</c> is on a flat-NUMA kernel.</summary>
public readonly record struct Pfn(int Value)
{
    public static implicit operator int(Pfn pfn) => pfn.Value;
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A swap entry, <c>swp_entry_t</c>. One swap area, so the entry is the slot offset. Slot numbers start
/// at 1: as in the kernel, slot 0 of the area is the header and never holds a page.</summary>
public readonly record struct SwpEntry(int Offset)
{
    public static implicit operator int(SwpEntry e) => e.Offset;
    public override string ToString() => $"swp:{Offset}";
}

/// <summary>A task id, the emulator's pid. Pids start at 1, 0 means "the calling task" in syscalls.</summary>
public readonly record struct TaskId(int Value)
{
    public static implicit operator int(TaskId id) => id.Value;
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>A logical CPU number. CPUs are numbered node-major: node n owns cpus n*k .. n*k+k-1.</summary>
public readonly record struct CpuId(int Value)
{
    public static implicit operator int(CpuId id) => id.Value;
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

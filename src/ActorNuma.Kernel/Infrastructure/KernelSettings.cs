
namespace ActorNuma.Kernel;

/// <summary>Everything the kernel actors need to know about the machine they emulate. Built once at boot.</summary>
public sealed record KernelSettings
{
    public required Topology Topology { get; init; }
    public required KernelProfile Profile { get; init; }
    /// <summary>Usable swap slots; 0 means no swap device.</summary>
    public int SwapSlots { get; init; }
    /// <summary>The swap device's service time for one page written; <see cref="SwapReadLatency"/> for one read.</summary>
    public TimeSpan SwapWriteLatency { get; init; }
    public TimeSpan SwapReadLatency { get; init; }
    /// <summary>How long direct migration's copy of one page takes (<c>copy_highpage</c> in migrate_page_copy).</summary>
    public TimeSpan MigrateCopyLatency { get; init; }
    /// <summary>Page requests the swap device works on at once in each direction (its queue depth); each takes the
    /// direction's latency.</summary>
    public int SwapQueueDepth { get; init; } = 1;
    public bool KswapdEnabled { get; init; }
    /// <summary><c>page_cluster</c>; null means <see cref="EffectivePageCluster"/>'s boot default.</summary>
    public int? PageCluster { get; init; }
    /// <summary><c>vm_swappiness</c>.</summary>
    public int Swappiness { get; init; } = 60;
    /// <summary>Overrides the boot-time <c>min_free_kbytes</c>.</summary>
    public int? MinFreeKbytes { get; init; }
    /// <summary>How many pages a touch faults per round of messages (a task faults one page at a time in the kernel;
    /// batching trades interleaving granularity for speed).</summary>
    public int FaultBatch { get; init; } = 16;
    /// <summary>How many pages one isolate or swap-out message carries.</summary>
    public int MigrateBatch { get; init; } = 256;

    /// <summary><c>swap_setup()</c>: 2 when the machine has less than 16 MB of RAM (num_physpages), else 3.</summary>
    public int EffectivePageCluster => PageCluster ?? (Topology.TotalPages < (16 << 20) >> MmConstants.PageShift ? 2 : 3);

    public int EffectiveMinFreeKbytes => MinFreeKbytes ?? Watermarks.MinFreeKbytes(Topology.TotalPages);

    public Watermarks WatermarksOf(int node) =>
        Watermarks.For(Topology.PagesPerNode, Topology.TotalPages, EffectiveMinFreeKbytes);
}

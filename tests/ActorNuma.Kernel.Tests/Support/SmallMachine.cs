using ActorNuma.Mm;

namespace ActorNuma.Kernel.Tests.Support;

/// <summary>The machine every kernel spec runs on unless it says otherwise: 2 nodes × 2 CPUs, 64 pages per node.</summary>
/// <remarks>
/// With 128 pages in all, <c>min_free_kbytes</c> is clamped to 128 KiB, so each node has pages_min 16, pages_low 20,
/// pages_high 24. Node 0 holds the zero page at pfn 0 and 63 free frames (pfns 1..63); node 1 holds pfns 64..127.
/// CPUs 0 and 1 are on node 0, CPUs 2 and 3 on node 1.
/// </remarks>
public static class SmallMachine
{
    public const int Nodes = 2;
    public const int CpusPerNode = 2;
    public const int PagesPerNode = 64;

    public static readonly TimeSpan WriteLatency = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan ReadLatency = TimeSpan.FromMilliseconds(2);

    public static KernelSettings Settings(KernelProfile? profile = null, int swapSlots = 16) => new()
    {
        Topology = new Topology(Nodes, CpusPerNode, PagesPerNode),
        Profile = profile ?? KernelProfile.V2,
        SwapSlots = swapSlots,
        SwapWriteLatency = WriteLatency,
        SwapReadLatency = ReadLatency,
        KswapdEnabled = false,
    };
}

namespace ActorNuma.Mm;

/// <summary>The machine: nodes, their CPUs and frames, and the SLIT distance matrix.</summary>
/// <remarks>Kernel: one ZONE_NORMAL per node; <c>node_distance()</c>; <c>cpu_to_node()</c>.</remarks>
public sealed record Topology
{
    public Topology(int nodes, int cpusPerNode, int pagesPerNode, int[][]? distances = null)
    {
        if (nodes is < 1 or > NodeMask.MaxNumNodes)
        {
            throw new ArgumentOutOfRangeException(nameof(nodes));
        }

        if (cpusPerNode < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(cpusPerNode));
        }

        if (pagesPerNode < 16)
        {
            throw new ArgumentOutOfRangeException(nameof(pagesPerNode));
        }

        Nodes = nodes;
        CpusPerNode = cpusPerNode;
        PagesPerNode = pagesPerNode;
        Distances = distances ?? DefaultDistances(nodes);
    }

    public int Nodes { get; }
    public int CpusPerNode { get; }
    public int PagesPerNode { get; }
    public int[][] Distances { get; }
    public int Cpus => Nodes * CpusPerNode;
    public int TotalPages => Nodes * PagesPerNode;
    public NodeMask OnlineNodes => NodeMask.FirstN(Nodes);

    public const int LocalDistance = 10;
    public const int RemoteDistance = 20;

    public static int[][] DefaultDistances(int nodes) =>
        Enumerable.Range(0, nodes)
            .Select(i => Enumerable.Range(0, nodes).Select(j => i == j ? LocalDistance : RemoteDistance).ToArray())
            .ToArray();

    public int CpuToNode(int cpu) => cpu / CpusPerNode;
    public int PfnToNid(int pfn) => pfn / PagesPerNode;
    public int FirstPfn(int node) => node * PagesPerNode;
    public int Distance(int from, int to) => Distances[from][to];
    public IEnumerable<int> CpusOf(int node) => Enumerable.Range(node * CpusPerNode, CpusPerNode);

    /// <summary>The frame every read fault of an untouched anonymous page maps: <c>ZERO_PAGE</c>. It is PG_reserved,
    /// lives on node 0, is never on an LRU list and never freed.</summary>
    public int ZeroPfn => 0;

    public bool Equals(Topology? other) =>
        other is not null && Nodes == other.Nodes && CpusPerNode == other.CpusPerNode && PagesPerNode == other.PagesPerNode
        && Distances.Zip(other.Distances).All(p => p.First.SequenceEqual(p.Second));

    public override int GetHashCode() => HashCode.Combine(Nodes, CpusPerNode, PagesPerNode);
}

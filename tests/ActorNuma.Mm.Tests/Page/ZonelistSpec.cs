namespace ActorNuma.Mm.Tests.Page;

/// <summary>2.6.14 <c>build_zonelists()</c> / <c>find_next_best_node()</c> (mm/page_alloc.c, CONFIG_NUMA). The expected
/// orders are worked by hand from the kernel loop:
/// <code>
/// for_each_online_node(i) {                 // n = (node + i) % num_online_nodes(): start at the local node
///     skip n if used; take the local node first;
///     val = (node_distance(node, n) + PENALTY_FOR_NODE_WITH_CPUS) * (MAX_NODE_LOAD * MAX_NUMNODES) + node_load[n];
///     if (val &lt; min_val) best = n;           // strict: ties go to the first n met
/// }
/// build_zonelists: load = num_online_nodes(); prev = local;
///     for each node found: if (distance(local, node) != distance(local, prev)) node_load[node] += load;
///                          prev = node; load--;
/// </code>
/// node_load is a static array shared by the zonelists of all nodes, built in node order at boot.</summary>
public sealed class ZonelistSpec
{
    private static Topology Machine(int nodes, int[][]? distances = null) =>
        new(nodes, cpusPerNode: 1, pagesPerNode: 16, distances);

    private static readonly int[][] Ring =
    [
        [10, 20, 30, 20],
        [20, 10, 20, 30],
        [30, 20, 10, 20],
        [20, 30, 20, 10],
    ];

    [Fact]
    public void A_single_node_falls_back_to_nothing()
    {
        Assert.Equal([[0]], Zonelists.BuildAll(Machine(1)));
    }

    [Fact]
    public void Two_nodes_fall_back_to_each_other()
    {
        var lists = Zonelists.BuildAll(Machine(2));

        Assert.Equal([0, 1], lists[0]);
        Assert.Equal([1, 0], lists[1]);
    }

    [Fact]
    public void Four_nodes_on_a_ring_fall_back_nearest_first()
    {
        // Hand-run: node_load starts [0,0,0,0].
        // node 0: 0; then 1 (d20, first of the tie 1/3, node_load[1] += 3); then 3 (d20, same group); then 2 (d30,
        //         node_load[2] += 1)                                                 -> [0,1,3,2], load [0,3,1,0]
        // node 1: 1; candidates 2 (d20, load 1), 3 (d30), 0 (d20, load 0) -> 0 (node_load[0] += 3); then 2; then 3
        //         (d30, node_load[3] += 1)                                           -> [1,0,2,3], load [3,3,1,1]
        // node 2: 2; candidates 3 (d20, load 1), 0 (d30), 1 (d20, load 3) -> 3 (node_load[3] += 3); then 1; then 0
        //         (node_load[0] += 1)                                                -> [2,3,1,0], load [4,3,1,4]
        // node 3: 3; candidates 0 (d20, load 4), 1 (d30), 2 (d20, load 1) -> 2; then 0; then 1 -> [3,2,0,1]
        var lists = Zonelists.BuildAll(Machine(4, Ring));

        Assert.Equal([0, 1, 3, 2], lists[0]);
        Assert.Equal([1, 0, 2, 3], lists[1]);
        Assert.Equal([2, 3, 1, 0], lists[2]);
        Assert.Equal([3, 2, 0, 1], lists[3]);
    }

    [Fact]
    public void Every_zonelist_is_ordered_by_nondecreasing_distance_and_starts_with_the_local_node()
    {
        var t = Machine(4, Ring);
        var lists = Zonelists.BuildAll(t);

        for (var n = 0; n < 4; n++)
        {
            Assert.Equal(n, lists[n][0]);
            Assert.Equal(Enumerable.Range(0, 4), lists[n].Order());
            var distances = lists[n].Select(m => t.Distance(n, m)).ToArray();
            Assert.Equal(distances.Order(), distances);
        }
    }

    [Fact]
    public void Node_load_carried_from_earlier_zonelists_breaks_distance_ties()
    {
        // Alone, node 1 would take node 2 first (the first of the tie 2/0 met when starting from node 1); after node 0's
        // zonelist put 1 on node_load[2], node 0 wins the tie.
        var t = Machine(4, Ring);

        Assert.Equal([1, 2, 0, 3], Zonelists.BuildOrder(t, 1, new int[4]));
        Assert.Equal([1, 0, 2, 3], Zonelists.BuildAll(t)[1]);
    }

    [Fact]
    public void Build_order_raises_node_load_only_for_the_first_node_of_each_distance_group()
    {
        var load = new int[4];

        Zonelists.BuildOrder(Machine(4, Ring), 0, load);

        // [0,1,3,2]: 1 opens the d20 group when load is 3, 2 opens the d30 group when load is 1.
        Assert.Equal([0, 3, 1, 0], load);
    }

    [Fact]
    public void Four_equidistant_nodes_are_spread_round_robin()
    {
        // node_load starts [0,0,0,0]; every remote node is at 20.
        // node 0: 0, then 1 (first met, node_load[1] += 3), 2, 3                 -> [0,1,2,3], load [0,3,0,0]
        // node 1: 1, candidates 2 (0), 3 (0), 0 (0) -> 2 (node_load[2] += 3), 3, 0 -> [1,2,3,0], load [0,3,3,0]
        // node 2: 2, candidates 3 (0), 0 (0), 1 (3) -> 3 (node_load[3] += 3), 0, 1 -> [2,3,0,1], load [0,3,3,3]
        // node 3: 3, candidates 0 (0), 1 (3), 2 (3) -> 0, then 1 (tie 1/2, first met), 2 -> [3,0,1,2]
        var lists = Zonelists.BuildAll(Machine(4));

        Assert.Equal([0, 1, 2, 3], lists[0]);
        Assert.Equal([1, 2, 3, 0], lists[1]);
        Assert.Equal([2, 3, 0, 1], lists[2]);
        Assert.Equal([3, 0, 1, 2], lists[3]);
        // Each node is the first fallback of exactly one other node.
        Assert.Equal(Enumerable.Range(0, 4), lists.Select(l => l[1]).Order());
    }

    [Fact]
    public void Eight_equidistant_nodes_give_every_node_a_different_first_fallback()
    {
        var lists = Zonelists.BuildAll(Machine(8));

        for (var n = 0; n < 8; n++)
        {
            Assert.Equal(Enumerable.Range(0, 8).Select(k => (n + k) % 8), lists[n]);
        }
    }

    [Fact]
    public void A_nearer_node_always_wins_over_node_load()
    {
        // Node 0 sees 2 at distance 15 and 1, 3 at 20; whatever the loads, 2 comes first.
        int[][] d =
        [
            [10, 20, 15, 20],
            [20, 10, 20, 20],
            [15, 20, 10, 20],
            [20, 20, 20, 10],
        ];
        var load = new[] { 0, 0, 200, 0 };

        Assert.Equal([0, 2, 1, 3], Zonelists.BuildOrder(Machine(4, d), 0, load));
    }
}

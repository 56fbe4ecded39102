namespace ActorNuma.Mm;

/// <summary>Each node's fallback order, as 2.6.14 <c>build_zonelists()</c> builds it from the SLIT distances.</summary>
public static class Zonelists
{
    private const int PenaltyForNodeWithCpus = 1;

    /// <summary>The node order of <paramref name="local"/>'s zonelist: itself, then by <c>find_next_best_node()</c>.</summary>
    /// <remarks>Kernel: mm/page_alloc.c find_next_best_node(): the nearest node not used yet; a node with CPUs gets a
    /// small penalty; ties go to the node with the lowest <c>node_load</c>, which build_zonelists raises for each node it
    /// places so that equal-distance nodes are spread over the zonelists of different nodes; then to the lowest
    /// number. <paramref name="nodeLoad"/> carries node_load across calls, in node order, as the boot loop does.</remarks>
    public static int[] BuildOrder(Topology topology, int local, int[] nodeLoad)
    {
        var used = new bool[topology.Nodes];
        var order = new List<int>(topology.Nodes);
        var prevDistance = topology.Distance(local, local);
        var load = topology.Nodes;
        while (true)
        {
            var best = FindNextBestNode(topology, local, used, nodeLoad);
            if (best < 0)
            {
                break;
            }

            var distance = topology.Distance(local, best);
            if (distance != prevDistance)
            {
                nodeLoad[best] += load;
            }

            prevDistance = distance;
            order.Add(best);
            load--;
        }
        return order.ToArray();
    }

    /// <summary>Zonelists for every node, computed in node order as at boot.</summary>
    public static int[][] BuildAll(Topology topology)
    {
        var nodeLoad = new int[topology.Nodes];
        return Enumerable.Range(0, topology.Nodes).Select(n => BuildOrder(topology, n, nodeLoad)).ToArray();
    }

    private static int FindNextBestNode(Topology t, int node, bool[] used, int[] nodeLoad)
    {
        // Use the local node if we haven't already.
        if (!used[node]) { used[node] = true; return node; }
        var best = -1;
        var minVal = long.MaxValue;
        for (var i = 0; i < t.Nodes; i++)
        {
            // Start from the local node, so ties go to the next node number after it.
            var n = (node + i) % t.Nodes;
            if (used[n])
            {
                continue;
            }

            long val = t.Distance(node, n);
            // Every emulated node has CPUs, so the penalty applies to all alike.
            val += PenaltyForNodeWithCpus;
            // Slight preference for the less loaded node (MAX_NODE_LOAD = num_online_nodes()).
            val *= (long)t.Nodes * NodeMask.MaxNumNodes;
            val += nodeLoad[n];
            if (val < minVal) { minVal = val; best = n; }
        }
        if (best >= 0)
        {
            used[best] = true;
        }

        return best;
    }
}

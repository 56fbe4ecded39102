namespace ActorNuma.Mm;

/// <summary>Where an allocation goes: the node order the allocator tries (the zonelist; one ZONE_NORMAL per node, so a
/// zone is its node), the node <c>zone_statistics</c> counts as intended (<c>zonelist-&gt;zones[0]</c>: numa_hit when
/// the page comes from it, else numa_miss there and numa_foreign here), and whether it is an interleave allocation
/// (<c>alloc_page_interleave</c>, which counts interleave_hit when the page comes from <c>Zonelist[0]</c>).</summary>
public readonly record struct AllocPlan(int[] Zonelist, int IntendedNode, bool Interleave);

/// <summary>Memory policy at allocation time and its readback: the pure part of mm/mempolicy.c.</summary>
public static class PolicyAllocation
{
    /// <summary><c>get_vma_policy()</c>: the VMA's policy if it has one that is not DEFAULT, else the task policy, else
    /// the default policy. mbind(MPOL_DEFAULT) stores a NULL <c>vm_policy</c> (mpol_new returns NULL for DEFAULT), so
    /// such a VMA follows the task policy. The shmem <c>vm_ops-&gt;get_policy</c> hook is not modelled: all VMAs here
    /// are anonymous private mappings.</summary>
    /// <remarks>Kernel: mm/mempolicy.c get_vma_policy()</remarks>
    public static MemPolicy EffectivePolicy(Vma? vma, MemPolicy? taskPolicy)
    {
        if (vma?.Policy is { Mode: not MpolMode.Default } own)
        {
            return own;
        }

        return taskPolicy ?? MemPolicy.Default;
    }

    /// <summary><c>alloc_page_vma()</c> up to the call of <c>__alloc_pages</c>: DEFAULT → the zonelist of
    /// <paramref name="cpuNode"/>; PREFERRED → the preferred node's zonelist, or the local one for preferred_node -1;
    /// BIND → the mask nodes in ascending order and nothing else (bind_zonelist); INTERLEAVE → the zonelist of
    /// <c>offset_il_node(policy, vma, off)</c> when there is a VMA (whether the policy is the VMA's or the task's), else
    /// of <c>interleave_nodes()</c>, the per-task round robin that advances <paramref name="ilNext"/>.</summary>
    /// <remarks>Kernel: mm/mempolicy.c alloc_page_vma(), zonelist_policy(), bind_zonelist(). BIND applies only when
    /// <c>gfp_zone(gfp) &gt;= policy_zone</c>; 2.6.14's policy_zone starts at 0 and bind_zonelist raises it to the
    /// highest populated zone of a BIND mask. With one ZONE_NORMAL per node that is ZONE_NORMAL, and user pages
    /// (GFP_HIGHUSER) and GFP_KERNEL both map to a zone at or above it, so BIND always applies here. The cpuset test
    /// (cpuset_zonelist_valid_mems_allowed) always passes: every task may use every online node.</remarks>
    public static AllocPlan PlanAllocVma(MemPolicy policy, Vma? vma, ulong addr, int cpuNode, int[][] zonelists, ref int ilNext)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(zonelists);
        if (policy.Mode == MpolMode.Interleave)
        {
            var nid = vma is not null
                ? OffsetIlNode(policy, vma.PageIndexOf(addr))
                : InterleaveNodes(policy, ref ilNext);
            var zl = ZonelistOf(zonelists, nid);
            return new AllocPlan(zl, zl[0], Interleave: true);
        }
        var zonelist = ZonelistPolicy(policy, cpuNode, zonelists);
        // An empty zonelist (a BIND without nodes, which only 2.6.14 final accepts) makes __alloc_pages fail at once.
        return new AllocPlan(zonelist, zonelist.Length > 0 ? zonelist[0] : -1, Interleave: false);
    }

    /// <summary><c>alloc_pages_current()</c>: allocations without a VMA (page cache, kernel) follow the task policy;
    /// INTERLEAVE goes round robin through <paramref name="ilNext"/>.</summary>
    /// <remarks>Kernel: mm/mempolicy.c alloc_pages_current()</remarks>
    public static AllocPlan PlanAllocCurrent(MemPolicy? taskPolicy, int cpuNode, int[][] zonelists, ref int ilNext) =>
        PlanAllocVma(taskPolicy ?? MemPolicy.Default, null, 0, cpuNode, zonelists, ref ilNext);

    /// <summary><c>zonelist_policy()</c> for the modes that do not interleave.</summary>
    /// <remarks>Kernel: mm/mempolicy.c zonelist_policy()</remarks>
    public static int[] ZonelistPolicy(MemPolicy policy, int cpuNode, int[][] zonelists) => policy.Mode switch
    {
        MpolMode.Preferred => ZonelistOf(zonelists, policy.PreferredNode >= 0 ? policy.PreferredNode : cpuNode),
        MpolMode.Bind => policy.BindZonelist(zonelists.Length),
        MpolMode.Default => ZonelistOf(zonelists, cpuNode),
        // "MPOL_INTERLEAVE: should not happen": alloc_page_vma takes the interleave path first.
        _ => ZonelistOf(zonelists, cpuNode),
    };

    /// <summary><c>bind_zonelist()</c>: the zones of the mask nodes in ascending node order (2.6.14 is node-major; one
    /// zone per node here), so the lowest node of the mask fills first and nothing outside the mask is ever used. An
    /// empty mask gives an empty zonelist: 2.6.14 final accepts mbind/set_mempolicy(BIND) with a NULL mask (get_nodes
    /// returns before mpol_check_policy), and every allocation under that policy then fails.</summary>
    /// <remarks>Kernel: mm/mempolicy.c bind_zonelist()</remarks>
    public static int[] BindZonelist(NodeMask nodes, int onlineNodes)
    {
        var zl = new int[nodes.Weight];
        var k = 0;
        for (var bits = nodes.Bits; bits != 0; bits &= bits - 1)
        {
            zl[k++] = System.Numerics.BitOperations.TrailingZeroCount(bits);
        }

        if (zl.Length > 0 && zl[^1] >= onlineNodes)
        {
            throw new InvalidOperationException($"a BIND policy over {nodes} on a machine with {onlineNodes} nodes");
        }

        return zl;
    }

    /// <summary><c>offset_il_node()</c>: the <c>((unsigned)off % nodes_weight)</c>-th node of the mask.</summary>
    /// <remarks>Kernel: mm/mempolicy.c offset_il_node()</remarks>
    public static int OffsetIlNode(MemPolicy policy, ulong off)
    {
        var nnodes = (uint)policy.Nodes.Weight;
        // Only 2.6.14 final lets an empty INTERLEAVE mask through, and there the division below is a divide error.
        if (nnodes == 0)
        {
            throw new InvalidOperationException("offset_il_node on an empty INTERLEAVE mask: divide error (kernel oops)");
        }
        // The kernel truncates the offset to 32 bits before taking the remainder.
        var target = (uint)off % nnodes;
        return policy.Nodes.Nth((int)target);
    }

    /// <summary><c>interleave_nodes()</c>: returns <paramref name="ilNext"/> and advances it to the next node of the
    /// mask, wrapping to the first. set_mempolicy(INTERLEAVE) resets il_next to the first node of the mask.</summary>
    /// <remarks>Kernel: mm/mempolicy.c interleave_nodes()</remarks>
    public static int InterleaveNodes(MemPolicy policy, ref int ilNext)
    {
        // 2.6.14: BUG_ON(nid >= MAX_NUMNODES); il_next is MAX_NUMNODES after set_mempolicy(INTERLEAVE) with no nodes.
        if (ilNext is < 0 or >= NodeMask.MaxNumNodes)
        {
            throw new InvalidOperationException($"interleave_nodes with il_next {ilNext}: BUG_ON(nid >= MAX_NUMNODES)");
        }

        var nid = ilNext;
        var next = policy.Nodes.Next(nid);
        if (next < 0)
        {
            next = policy.Nodes.First;
        }

        if (next < 0)
        {
            throw new InvalidOperationException("an INTERLEAVE policy with an empty mask");
        }

        ilNext = next;
        return nid;
    }

    /// <summary><c>get_zonemask()</c>: the mask get_mempolicy returns. DEFAULT → empty; BIND → the nodes of its zonelist
    /// (the mask); INTERLEAVE → the mask; PREFERRED → its node, or all online nodes when preferred_node is -1 (the code
    /// asks "or use current node instead of online map?"). So mbind(PREFERRED, empty mask) reads back as all online
    /// nodes, where modern LTP get_mempolicy01 expects an empty mask.</summary>
    /// <remarks>Kernel: mm/mempolicy.c get_zonemask()</remarks>
    public static NodeMask GetZonemask(MemPolicy? policy, NodeMask online) => policy?.Mode switch
    {
        null or MpolMode.Default => NodeMask.Empty,
        MpolMode.Bind or MpolMode.Interleave => policy.Nodes,
        MpolMode.Preferred => policy.PreferredNode < 0 ? online : NodeMask.Of(policy.PreferredNode),
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown policy mode"),
    };

    /// <summary>The policy get_mempolicy reports: with MPOL_F_ADDR the VMA's own <c>vm_policy</c> (not
    /// get_vma_policy: a VMA without a policy reads DEFAULT even when the task has one), else the task policy; NULL
    /// becomes the default policy.</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_get_mempolicy() (2.6.14) / do_get_mempolicy()</remarks>
    public static MemPolicy PolicyForGetMempolicy(bool fAddr, Vma? vma, MemPolicy? taskPolicy) =>
        (fAddr ? vma?.Policy : taskPolicy) ?? MemPolicy.Default;

    private static int[] ZonelistOf(int[][] zonelists, int node) =>
        node >= 0 && node < zonelists.Length
            ? zonelists[node]
            : throw new InvalidOperationException($"no zonelist for node {node} ({zonelists.Length} nodes online)");
}

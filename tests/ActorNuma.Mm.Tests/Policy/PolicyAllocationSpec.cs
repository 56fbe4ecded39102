namespace ActorNuma.Mm.Tests.Policy;

public sealed class PolicyAllocationSpec
{
    private const ulong P = MmConstants.PageSize;
    private const ulong Base = 0x2000_0000;

    private static readonly Topology Four = new(nodes: 4, cpusPerNode: 2, pagesPerNode: 64, distances:
    [
        [10, 20, 30, 40],
        [20, 10, 20, 30],
        [30, 20, 10, 20],
        [40, 30, 20, 10],
    ]);

    private static readonly int[][] FourZonelists = Zonelists.BuildAll(Four);

    private static int[] NodesOfPages(MemPolicy policy, Vma vma, int pages, int cpuNode = 0)
    {
        var ilNext = 0;
        return Enumerable.Range(0, pages)
            .Select(i => PolicyAllocation.PlanAllocVma(policy, vma, vma.Start + (ulong)i * P, cpuNode, FourZonelists, ref ilNext).IntendedNode)
            .ToArray();
    }

    [Fact]
    public void A_bind_policy_builds_its_zonelist_once_as_mpol_new_does()
    {
        var vma = new Vma(Base, Base + 4 * P, Base / P, VmFlags.Read);
        var bind = new MemPolicy(MpolMode.Bind, NodeMask.Of(1, 3));
        var ilNext = 0;
        var first = PolicyAllocation.PlanAllocVma(bind, vma, Base, cpuNode: 0, FourZonelists, ref ilNext);
        var second = PolicyAllocation.PlanAllocVma(bind, vma, Base + P, cpuNode: 2, FourZonelists, ref ilNext);

        Assert.Equal([1, 3], first.Zonelist);
        Assert.Same(first.Zonelist, second.Zonelist);
        // Equality and copies ignore the cached list: `with` builds its own, for the nodes it has.
        var other = bind with { Nodes = NodeMask.Of(2) };
        Assert.Equal([2], other.BindZonelist(4));
        Assert.Equal(new MemPolicy(MpolMode.Bind, NodeMask.Of(1, 3)), bind);
        Assert.Equal(new MemPolicy(MpolMode.Bind, NodeMask.Of(1, 3)).GetHashCode(), bind.GetHashCode());
    }

    [Fact]
    public void The_vma_policy_wins_over_the_task_policy()
    {
        var vma = new Vma(Base, Base + P, Base / P, VmFlags.Read) { Policy = new MemPolicy(MpolMode.Bind, NodeMask.Of(1)) };
        var task = new MemPolicy(MpolMode.Interleave, NodeMask.Of(0, 1));

        Assert.Same(vma.Policy, PolicyAllocation.EffectivePolicy(vma, task));
    }

    [Fact]
    public void A_vma_without_a_policy_or_with_a_default_one_follows_the_task_policy_then_the_default()
    {
        var task = new MemPolicy(MpolMode.Preferred, NodeMask.Of(2));
        var plain = new Vma(Base, Base + P, Base / P, VmFlags.Read);
        var explicitDefault = new Vma(Base, Base + P, Base / P, VmFlags.Read) { Policy = MemPolicy.Default };

        Assert.Same(task, PolicyAllocation.EffectivePolicy(plain, task));
        Assert.Same(task, PolicyAllocation.EffectivePolicy(explicitDefault, task));
        Assert.Same(task, PolicyAllocation.EffectivePolicy(null, task));
        Assert.Same(MemPolicy.Default, PolicyAllocation.EffectivePolicy(plain, null));
    }

    [Fact]
    public void Mbind_default_stores_no_policy_so_the_range_follows_the_task_policy_again()
    {
        var list = new VmaList();
        var vma = list.Insert(Base, Base + 4 * P, VmFlags.Read | VmFlags.Write);
        list.MbindRange(Base, Base + 4 * P, new MemPolicy(MpolMode.Bind, NodeMask.Of(3)));
        var task = new MemPolicy(MpolMode.Bind, NodeMask.Of(1));

        var check = SyscallChecks.CheckMbind(Base, 4 * P, (int)MpolMode.Default, null, 0, false, 0, KernelProfile.V2, false, Four.OnlineNodes);
        list.MbindRange(Base, check.End, check.Policy);

        Assert.Null(vma.Policy);
        Assert.Same(task, PolicyAllocation.EffectivePolicy(vma, task));
    }

    [Fact]
    public void Sixteen_pages_interleaved_over_two_nodes_by_offset_land_eight_on_each()
    {
        var list = new VmaList();
        var vma = list.Insert(Base + 3 * P, Base + 19 * P, VmFlags.Read | VmFlags.Write);
        var task = new MemPolicy(MpolMode.Interleave, NodeMask.Of(1, 3));

        var nodes = NodesOfPages(PolicyAllocation.EffectivePolicy(vma, task), vma, 16);

        Assert.Equal(8, nodes.Count(n => n == 1));
        Assert.Equal(8, nodes.Count(n => n == 3));
        // The offset is the virtual page number: page Base/P + 3 is odd-numbered, so it goes to the second node.
        Assert.Equal(3, nodes[0]);
    }

    [Fact]
    public void Pages_interleaved_over_all_nodes_spread_evenly_whatever_the_faulting_cpu()
    {
        var list = new VmaList();
        var vma = list.Insert(Base, Base + 8 * P, VmFlags.Read | VmFlags.Write);
        var all = new MemPolicy(MpolMode.Interleave, Four.OnlineNodes);

        var nodes = NodesOfPages(all, vma, 8, cpuNode: 2);

        Assert.All(Enumerable.Range(0, 4), n => Assert.Equal(2, nodes.Count(x => x == n)));
        Assert.Equal([0, 1, 2, 3, 0, 1, 2, 3], nodes);
    }

    [Fact]
    public void Interleave_with_a_vma_uses_the_node_zonelist_flags_interleave_and_leaves_il_next_alone()
    {
        var vma = new Vma(Base, Base + 4 * P, Base / P, VmFlags.Read);
        var policy = new MemPolicy(MpolMode.Interleave, NodeMask.Of(0, 2));
        var ilNext = 2;

        var plan = PolicyAllocation.PlanAllocVma(policy, vma, Base + P, 0, FourZonelists, ref ilNext);

        Assert.True(plan.Interleave);
        Assert.Equal(FourZonelists[2], plan.Zonelist);
        Assert.Equal(2, plan.IntendedNode);
        Assert.Equal(2, ilNext);
    }

    [Fact]
    public void Offset_interleave_truncates_the_offset_to_32_bits_as_the_kernel_does()
    {
        var policy = new MemPolicy(MpolMode.Interleave, NodeMask.Of(0, 1, 2));
        const ulong off = (1UL << 32) + 1;

        Assert.Equal(1, PolicyAllocation.OffsetIlNode(policy, off));
        Assert.NotEqual((int)(off % 3), PolicyAllocation.OffsetIlNode(policy, off));
    }

    [Fact]
    public void Without_a_vma_interleave_goes_round_robin_through_il_next_and_wraps()
    {
        var policy = new MemPolicy(MpolMode.Interleave, NodeMask.Of(1, 2, 3));
        var ilNext = 1;
        var nodes = new List<int>();

        for (var i = 0; i < 5; i++)
        {
            nodes.Add(PolicyAllocation.PlanAllocCurrent(policy, 0, FourZonelists, ref ilNext).IntendedNode);
        }

        Assert.Equal([1, 2, 3, 1, 2], nodes);
        Assert.Equal(3, ilNext);
    }

    [Fact]
    public void Round_robin_returns_an_il_next_outside_the_mask_once_then_moves_into_it()
    {
        var policy = new MemPolicy(MpolMode.Interleave, NodeMask.Of(2, 3));
        var ilNext = 0;

        Assert.Equal(0, PolicyAllocation.InterleaveNodes(policy, ref ilNext));
        Assert.Equal(2, ilNext);
    }

    [Fact]
    public void Bind_tries_only_the_mask_nodes_lowest_first_whatever_the_cpu()
    {
        var policy = new MemPolicy(MpolMode.Bind, NodeMask.Of(3, 1));
        var ilNext = 0;

        var plan = PolicyAllocation.PlanAllocVma(policy, null, 0, cpuNode: 3, FourZonelists, ref ilNext);

        Assert.Equal([1, 3], plan.Zonelist);
        Assert.Equal(1, plan.IntendedNode);
        Assert.False(plan.Interleave);
    }

    [Fact]
    public void Preferred_falls_back_through_the_preferred_nodes_zonelist()
    {
        var policy = new MemPolicy(MpolMode.Preferred, NodeMask.Of(2));
        var ilNext = 0;

        var plan = PolicyAllocation.PlanAllocVma(policy, null, 0, cpuNode: 0, FourZonelists, ref ilNext);

        Assert.Equal(FourZonelists[2], plan.Zonelist);
        Assert.Equal(2, plan.IntendedNode);
        Assert.Equal(4, plan.Zonelist.Length);
        Assert.Contains(plan.Zonelist[1], new[] { 1, 3 });
    }

    [Fact]
    public void Preferred_without_a_node_and_default_allocate_from_the_cpus_node()
    {
        var local = new MemPolicy(MpolMode.Preferred, NodeMask.Empty);
        var ilNext = 0;

        Assert.Equal(FourZonelists[3], PolicyAllocation.PlanAllocVma(local, null, 0, 3, FourZonelists, ref ilNext).Zonelist);
        Assert.Equal(FourZonelists[1], PolicyAllocation.PlanAllocVma(MemPolicy.Default, null, 0, 1, FourZonelists, ref ilNext).Zonelist);
    }

    [Fact]
    public void A_bind_without_nodes_which_only_2_6_14_final_accepts_cannot_allocate_anywhere()
    {
        var ilNext = 0;

        var plan = PolicyAllocation.PlanAllocVma(new MemPolicy(MpolMode.Bind, NodeMask.Empty), null, 0, 0, FourZonelists, ref ilNext);

        Assert.Empty(plan.Zonelist);
        Assert.Equal(-1, plan.IntendedNode);
    }

    [Fact]
    public void An_interleave_without_nodes_is_the_kernels_divide_error()
    {
        var vma = new Vma(Base, Base + P, Base / P, VmFlags.Read);
        var ilNext = 0;

        Assert.Throws<InvalidOperationException>(() =>
            PolicyAllocation.PlanAllocVma(new MemPolicy(MpolMode.Interleave, NodeMask.Empty), vma, Base, 0, FourZonelists, ref ilNext));
    }

    [Fact]
    public void Get_zonemask_reports_empty_mask_node_or_all_online_nodes()
    {
        var online = Four.OnlineNodes;

        Assert.Equal(NodeMask.Empty, PolicyAllocation.GetZonemask(null, online));
        Assert.Equal(NodeMask.Empty, PolicyAllocation.GetZonemask(MemPolicy.Default, online));
        Assert.Equal(NodeMask.Of(1, 3), PolicyAllocation.GetZonemask(new MemPolicy(MpolMode.Bind, NodeMask.Of(1, 3)), online));
        Assert.Equal(NodeMask.Of(0, 2), PolicyAllocation.GetZonemask(new MemPolicy(MpolMode.Interleave, NodeMask.Of(0, 2)), online));
        Assert.Equal(NodeMask.Of(2), PolicyAllocation.GetZonemask(new MemPolicy(MpolMode.Preferred, NodeMask.Of(2)), online));
        // preferred_node == -1: the kernel reports all online nodes (modern LTP get_mempolicy01 expects empty).
        Assert.Equal(online, PolicyAllocation.GetZonemask(new MemPolicy(MpolMode.Preferred, NodeMask.Empty), online));
    }

    [Fact]
    public void Get_mempolicy_with_an_address_reports_the_vmas_own_policy_not_the_effective_one()
    {
        var task = new MemPolicy(MpolMode.Bind, NodeMask.Of(1));
        var plain = new Vma(Base, Base + P, Base / P, VmFlags.Read);

        Assert.Same(MemPolicy.Default, PolicyAllocation.PolicyForGetMempolicy(fAddr: true, plain, task));
        Assert.Same(task, PolicyAllocation.PolicyForGetMempolicy(fAddr: false, plain, task));
        Assert.Same(MemPolicy.Default, PolicyAllocation.PolicyForGetMempolicy(fAddr: false, null, null));
    }
}

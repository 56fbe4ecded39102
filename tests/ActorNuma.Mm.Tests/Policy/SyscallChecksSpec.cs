namespace ActorNuma.Mm.Tests.Policy;

public sealed class SyscallChecksSpec
{
    private const ulong P = MmConstants.PageSize;
    private const ulong Start = 0x4000_0000;
    private const ulong FourMiB = 4 << 20;
    private const int NumaNumNodes = 1025;   // LTP passes numa_max_possible_node + 2 style sizes; any > 64 bits
    private static readonly NodeMask TwoNodes = NodeMask.FirstN(2);

    private static MbindCheck Mbind(
        int mode, NodeMask? mask, int flags = 0, KernelProfile? profile = null, ulong start = Start, ulong len = FourMiB,
        int maxnode = NodeMask.MaxNumNodes + 1, bool fault = false, bool sysNice = false) =>
        SyscallChecks.CheckMbind(start, len, mode, mask, maxnode, fault, flags, profile ?? KernelProfile.V2, sysNice, TwoNodes);

    // ---- get_nodes ----

    [Fact]
    public void Get_nodes_decrements_maxnode_and_masks_the_bits_above_it()
    {
        Assert.Equal(Errno.None, SyscallChecks.GetNodes(NodeMask.Of(0, 1, 2), 3, false, out var nodes));
        Assert.Equal(NodeMask.Of(0, 1), nodes);
    }

    [Fact]
    public void Get_nodes_gives_an_empty_mask_for_a_null_pointer_or_maxnode_one()
    {
        Assert.Equal(Errno.None, SyscallChecks.GetNodes(null, 65, false, out var fromNull));
        Assert.Equal(Errno.None, SyscallChecks.GetNodes(NodeMask.Of(1), 1, true, out var fromOne));
        Assert.True(fromNull.IsEmpty);
        Assert.True(fromOne.IsEmpty);
    }

    [Fact]
    public void Get_nodes_of_2_6_14_wraps_maxnode_zero_to_an_empty_mask_where_2_6_16_says_einval()
    {
        Assert.Equal(Errno.None, SyscallChecks.GetNodes(NodeMask.Of(1), 0, false, out var wrapped));
        Assert.True(wrapped.IsEmpty);
        Assert.Equal(Errno.EINVAL, SyscallChecks.GetNodes(NodeMask.Of(1), 0, false, rejectHugeMaxnode: true, out _));
    }

    [Fact]
    public void Get_nodes_rejects_more_than_a_page_of_longs_and_faults_on_a_bad_pointer()
    {
        Assert.Equal(Errno.EINVAL, SyscallChecks.GetNodes(NodeMask.Of(0), 64 * 513 + 1, false, out _));
        Assert.Equal(Errno.EFAULT, SyscallChecks.GetNodes(null, NumaNumNodes, true, out _));
        Assert.Equal(Errno.EFAULT, SyscallChecks.GetNodes(null, 3, true, out _));
        Assert.Equal(Errno.None, SyscallChecks.GetNodes(NodeMask.Of(0, 63), NumaNumNodes, false, out var wide));
        Assert.Equal(NodeMask.Of(0, 63), wide);
    }

    // ---- mbind: LTP mbind01 cases decidable from the arguments (V2, two nodes) ----

    [Fact]
    public void Mbind_default_without_a_mask_succeeds_and_installs_no_policy()
    {
        var check = Mbind((int)MpolMode.Default, null);

        Assert.Equal(Errno.None, check.Errno);
        Assert.True(check.Proceed);
        Assert.Null(check.Policy);
        Assert.Equal(Start + FourMiB, check.End);
    }

    [Fact]
    public void Mbind_default_with_a_node_in_the_mask_is_einval()
    {
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Default, NodeMask.Of(0)).Errno);
    }

    [Fact]
    public void Mbind_bind_without_a_mask_is_einval_and_with_a_node_installs_bind_on_it()
    {
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Bind, null).Errno);
        var check = Mbind((int)MpolMode.Bind, NodeMask.Of(1));
        Assert.Equal(Errno.None, check.Errno);
        Assert.Equal(new MemPolicy(MpolMode.Bind, NodeMask.Of(1)), check.Policy);
    }

    [Fact]
    public void Mbind_interleave_without_a_mask_is_einval_and_with_a_node_installs_interleave_on_it()
    {
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Interleave, null).Errno);
        Assert.Equal(new MemPolicy(MpolMode.Interleave, NodeMask.Of(1)), Mbind((int)MpolMode.Interleave, NodeMask.Of(1)).Policy);
    }

    [Fact]
    public void Mbind_preferred_without_a_mask_means_local_and_with_nodes_keeps_the_first()
    {
        var local = Mbind((int)MpolMode.Preferred, null);
        var two = Mbind((int)MpolMode.Preferred, NodeMask.Of(0, 1));

        Assert.Equal(new MemPolicy(MpolMode.Preferred, NodeMask.Empty), local.Policy);
        Assert.Equal(-1, local.Policy!.PreferredNode);
        Assert.Equal(new MemPolicy(MpolMode.Preferred, NodeMask.Of(0)), two.Policy);
        // check_range tests pages against the mask the user gave, not just the preferred node.
        Assert.Equal(NodeMask.Of(0, 1), two.Nodes);
    }

    [Fact]
    public void Mpol_local_mode_4_and_mode_minus_1_are_einval()
    {
        Assert.Equal(Errno.EINVAL, Mbind(4, null).Errno);
        Assert.Equal(Errno.EINVAL, Mbind(4, NodeMask.Of(0)).Errno);
        Assert.Equal(Errno.EINVAL, Mbind(-1, null).Errno);
    }

    [Fact]
    public void Mbind_with_flags_minus_1_is_einval()
    {
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Default, null, flags: -1).Errno);
    }

    [Fact]
    public void Mbind_preferred_with_an_unreadable_mask_is_efault()
    {
        Assert.Equal(Errno.EFAULT, Mbind((int)MpolMode.Preferred, null, maxnode: NumaNumNodes, fault: true).Errno);
    }

    [Fact]
    public void Mbind_with_an_unaligned_start_is_einval()
    {
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Bind, NodeMask.Of(0), start: Start + 1).Errno);
    }

    [Fact]
    public void Mbind_of_zero_length_returns_0_having_done_nothing()
    {
        var check = Mbind((int)MpolMode.Bind, NodeMask.Of(0), len: 0);

        Assert.Equal(Errno.None, check.Errno);
        Assert.True(check.Noop);
        Assert.False(check.Proceed);
    }

    [Fact]
    public void Mbind_length_wrapping_past_the_address_space_is_einval_or_a_no_op()
    {
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Bind, NodeMask.Of(0), len: ulong.MaxValue - Start).Errno);
        // len + PAGE_SIZE - 1 wraps to less than a page: rounded to 0, end == start.
        Assert.True(Mbind((int)MpolMode.Bind, NodeMask.Of(0), len: ulong.MaxValue).Noop);
    }

    [Fact]
    public void Mbind_with_an_offline_node_is_einval_in_v2_but_2_6_14_final_drops_it()
    {
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Bind, NodeMask.Of(0, 5)).Errno);
        var final = Mbind((int)MpolMode.Bind, NodeMask.Of(0, 5), profile: KernelProfile.Linux2614);
        Assert.Equal(new MemPolicy(MpolMode.Bind, NodeMask.Of(0)), final.Policy);
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Bind, NodeMask.Of(5), profile: KernelProfile.Linux2614).Errno);
    }

    [Fact]
    public void Mbind_default_clears_strict()
    {
        var check = Mbind((int)MpolMode.Default, null, flags: (int)MpolFlags.Strict);

        Assert.Equal(MpolFlags.None, check.Flags);
        Assert.Equal(MpolFlags.Strict, Mbind((int)MpolMode.Bind, NodeMask.Of(0), flags: (int)MpolFlags.Strict).Flags);
    }

    [Fact]
    public void Mbind_flags_follow_the_profile_move_from_v2_and_move_all_with_cap_sys_nice_from_2_6_16()
    {
        var move = (int)MpolFlags.Move;
        var moveAll = (int)MpolFlags.MoveAll;

        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Bind, NodeMask.Of(0), move, KernelProfile.Linux2614).Errno);
        Assert.Equal(Errno.None, Mbind((int)MpolMode.Bind, NodeMask.Of(0), move, KernelProfile.V2).Errno);
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Bind, NodeMask.Of(0), moveAll, KernelProfile.V2, sysNice: true).Errno);
        Assert.Equal(Errno.EPERM, Mbind((int)MpolMode.Bind, NodeMask.Of(0), moveAll, KernelProfile.Linux2616).Errno);
        Assert.Equal(Errno.None, Mbind((int)MpolMode.Bind, NodeMask.Of(0), moveAll, KernelProfile.Linux2616, sysNice: true).Errno);
    }

    [Fact]
    public void Mbind_eperm_for_move_all_comes_before_the_alignment_check()
    {
        var check = Mbind((int)MpolMode.Bind, NodeMask.Of(0), (int)MpolFlags.MoveAll, KernelProfile.Linux2616, start: Start + 1);

        Assert.Equal(Errno.EPERM, check.Errno);
    }

    [Fact]
    public void Mbind_default_allows_holes_from_2_6_16_only()
    {
        Assert.False(Mbind((int)MpolMode.Default, null).DiscontigOk);
        Assert.True(Mbind((int)MpolMode.Default, null, profile: KernelProfile.Linux2616).DiscontigOk);
        Assert.False(Mbind((int)MpolMode.Bind, NodeMask.Of(0), profile: KernelProfile.Linux2616).DiscontigOk);
    }

    [Fact]
    public void V2_copies_the_mask_first_so_a_bad_pointer_beats_bad_flags_and_zero_length()
    {
        Assert.Equal(Errno.EFAULT, Mbind((int)MpolMode.Bind, null, flags: -1, fault: true).Errno);
        Assert.Equal(Errno.EFAULT, Mbind((int)MpolMode.Bind, null, len: 0, fault: true).Errno);
    }

    [Fact]
    public void The_2_6_14_final_sys_mbind_reads_the_mask_last()
    {
        var final = KernelProfile.Linux2614;

        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Bind, null, flags: -1, fault: true, profile: final).Errno);
        Assert.True(Mbind((int)MpolMode.Bind, null, len: 0, fault: true, profile: final).Noop);
        Assert.Equal(Errno.EFAULT, Mbind((int)MpolMode.Bind, null, fault: true, profile: final).Errno);
    }

    [Fact]
    public void The_2_6_14_final_get_nodes_skips_the_policy_check_for_a_null_mask()
    {
        var final = KernelProfile.Linux2614;

        var bind = Mbind((int)MpolMode.Bind, null, profile: final);
        var interleave = Mbind((int)MpolMode.Interleave, NodeMask.Of(0), maxnode: 1, profile: final);

        Assert.Equal(new MemPolicy(MpolMode.Bind, NodeMask.Empty), bind.Policy);
        Assert.Equal(new MemPolicy(MpolMode.Interleave, NodeMask.Empty), interleave.Policy);
        // With a mask copied the check runs as usual.
        Assert.Equal(Errno.EINVAL, Mbind((int)MpolMode.Bind, NodeMask.Empty, profile: final).Errno);
    }

    // ---- set_mempolicy ----

    [Fact]
    public void Set_mempolicy_rejects_modes_outside_0_to_3()
    {
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckSetMempolicy(-1, null, 0, false, TwoNodes).Errno);
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckSetMempolicy(4, null, 0, false, TwoNodes).Errno);
    }

    [Fact]
    public void Set_mempolicy_bind_and_preferred_on_a_node_install_that_node()
    {
        var bind = SyscallChecks.CheckSetMempolicy((int)MpolMode.Bind, NodeMask.Of(1), 65, false, TwoNodes);
        var preferred = SyscallChecks.CheckSetMempolicy((int)MpolMode.Preferred, NodeMask.Of(1), 65, false, TwoNodes);

        Assert.Equal(new MemPolicy(MpolMode.Bind, NodeMask.Of(1)), bind.Policy);
        Assert.Equal(new MemPolicy(MpolMode.Preferred, NodeMask.Of(1)), preferred.Policy);
        Assert.Null(bind.IlNext);
    }

    [Fact]
    public void Set_mempolicy_interleave_resets_il_next_to_the_first_node()
    {
        var check = SyscallChecks.CheckSetMempolicy((int)MpolMode.Interleave, NodeMask.Of(1, 3), 65, false, NodeMask.FirstN(4));

        Assert.Equal(1, check.IlNext);
    }

    [Fact]
    public void Set_mempolicy_drops_nodes_outside_mems_allowed_and_fails_only_when_none_is_left()
    {
        var some = SyscallChecks.CheckSetMempolicy((int)MpolMode.Bind, NodeMask.Of(0, 5), 65, false, TwoNodes);
        var none = SyscallChecks.CheckSetMempolicy((int)MpolMode.Bind, NodeMask.Of(5), 65, false, TwoNodes);

        Assert.Equal(new MemPolicy(MpolMode.Bind, NodeMask.Of(0)), some.Policy);
        Assert.Equal(Errno.EINVAL, none.Errno);
    }

    [Fact]
    public void Set_mempolicy_bind_without_a_mask_is_einval_except_in_2_6_14_final()
    {
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckSetMempolicy((int)MpolMode.Bind, null, 0, false, TwoNodes).Errno);
        var final = SyscallChecks.CheckSetMempolicy((int)MpolMode.Interleave, null, 0, false, TwoNodes, KernelProfile.Linux2614);
        Assert.Equal(Errno.None, final.Errno);
        Assert.Equal(NodeMask.MaxNumNodes, final.IlNext);
    }

    [Fact]
    public void Set_mempolicy_default_installs_no_policy()
    {
        var check = SyscallChecks.CheckSetMempolicy((int)MpolMode.Default, null, 0, false, TwoNodes);

        Assert.Equal(Errno.None, check.Errno);
        Assert.Null(check.Policy);
    }

    // ---- get_mempolicy: LTP get_mempolicy02 ----

    [Fact]
    public void Get_mempolicy_with_f_addr_and_address_null_passes_the_checks_and_then_finds_no_vma()
    {
        var check = SyscallChecks.CheckGetMempolicy((int)MpolGetFlags.Addr, 0, 65, nmaskGiven: true);
        var list = new VmaList();
        list.Insert(Start, Start + P, VmFlags.Read);

        Assert.Equal(Errno.None, check.Errno);
        Assert.True(check.FAddr);
        Assert.Null(list.FindVmaIntersection(0, 1));
    }

    [Fact]
    public void Get_mempolicy_with_flags_minus_1_is_einval()
    {
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckGetMempolicy(-1, 0, 65, nmaskGiven: true).Errno);
    }

    [Fact]
    public void Get_mempolicy_rejects_a_short_mask_and_an_address_without_f_addr()
    {
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckGetMempolicy(0, 0, 63, nmaskGiven: true).Errno);
        Assert.Equal(Errno.None, SyscallChecks.CheckGetMempolicy(0, 0, 63, nmaskGiven: false).Errno);
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckGetMempolicy((int)MpolGetFlags.Node, Start, 65, true).Errno);
        var both = SyscallChecks.CheckGetMempolicy((int)(MpolGetFlags.Node | MpolGetFlags.Addr), Start, 65, true);
        Assert.Equal((Errno.None, true, true), (both.Errno, both.FAddr, both.FNode));
    }

    [Fact]
    public void Get_mempolicy_node_without_address_needs_a_task_interleave_policy()
    {
        Assert.Equal(Errno.EINVAL, SyscallChecks.GetMempolicyIlNext(null, 0, out _));
        Assert.Equal(Errno.EINVAL, SyscallChecks.GetMempolicyIlNext(new MemPolicy(MpolMode.Bind, NodeMask.Of(1)), 1, out _));
        Assert.Equal(Errno.None, SyscallChecks.GetMempolicyIlNext(new MemPolicy(MpolMode.Interleave, NodeMask.Of(1, 2)), 2, out var node));
        Assert.Equal(2, node);
    }

    [Fact]
    public void Copying_the_mask_out_clears_extra_bytes_up_to_a_page_and_faults_on_a_bad_pointer()
    {
        Assert.Equal(Errno.None, SyscallChecks.CheckCopyNodesToUser(65, false));
        Assert.Equal(Errno.None, SyscallChecks.CheckCopyNodesToUser(NumaNumNodes, false));
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckCopyNodesToUser(4096 * 8 + 2, false));
        Assert.Equal(Errno.EFAULT, SyscallChecks.CheckCopyNodesToUser(65, true));
    }

    // ---- migrate_pages: LTP migrate_pages01 ----

    [Fact]
    public void Migrate_pages_rejects_maxnode_minus_1_and_faults_on_either_mask()
    {
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckMigratePagesNodes(-1, NodeMask.Of(0), false, NodeMask.Of(0), false, out _, out _));
        Assert.Equal(Errno.EFAULT, SyscallChecks.CheckMigratePagesNodes(65, null, true, NodeMask.Of(0), false, out _, out _));
        Assert.Equal(Errno.EFAULT, SyscallChecks.CheckMigratePagesNodes(65, NodeMask.Of(0), false, null, true, out _, out _));
        Assert.Equal(Errno.None, SyscallChecks.CheckMigratePagesNodes(65, NodeMask.Of(0), false, NodeMask.Of(1), false, out var old, out var @new));
        Assert.Equal((NodeMask.Of(0), NodeMask.Of(1)), (old, @new));
    }

    [Fact]
    public void Migrate_pages_with_one_fault_flag_reports_the_old_mask_first()
    {
        Assert.Equal(Errno.EFAULT, SyscallChecks.CheckMigratePagesNodes(null, null, 65, nmaskFault: true, out _, out _));
        Assert.Equal(Errno.None, SyscallChecks.CheckMigratePagesNodes(NodeMask.Of(0), NodeMask.Of(1), 65, false, out var old, out var @new));
        Assert.Equal((NodeMask.Of(0), NodeMask.Of(1)), (old, @new));
    }

    [Fact]
    public void Migrate_pages_of_another_users_task_needs_cap_sys_nice()
    {
        Assert.Equal(Errno.None, SyscallChecks.CheckMigratePagesPermission(callerIsTarget: true, sameUid: false, callerHasSysNice: false));
        Assert.Equal(Errno.None, SyscallChecks.CheckMigratePagesPermission(false, sameUid: true, callerHasSysNice: false));
        Assert.Equal(Errno.None, SyscallChecks.CheckMigratePagesPermission(false, false, callerHasSysNice: true));
        Assert.Equal(Errno.EPERM, SyscallChecks.CheckMigratePagesPermission(false, false, false));
    }

    [Fact]
    public void Migrate_pages_to_a_node_that_is_not_online_is_eperm_for_users_and_einval_for_root()
    {
        Assert.Equal(Errno.EPERM, SyscallChecks.CheckMigratePagesTargetNodes(NodeMask.Of(7), TwoNodes, false, TwoNodes));
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckMigratePagesTargetNodes(NodeMask.Of(7), TwoNodes, true, TwoNodes));
        Assert.Equal(Errno.None, SyscallChecks.CheckMigratePagesTargetNodes(NodeMask.Of(1), TwoNodes, false, TwoNodes));
        Assert.Equal(MpolFlags.MoveAll, SyscallChecks.MigratePagesFlags(true));
        Assert.Equal(MpolFlags.Move, SyscallChecks.MigratePagesFlags(false));
    }

    // ---- munmap ----

    [Fact]
    public void Munmap_arguments_need_an_aligned_start_and_a_nonzero_length_inside_task_size()
    {
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckMunmap(Start + 1, P, out _));
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckMunmap(Start, 0, out _));
        Assert.Equal(Errno.EINVAL, SyscallChecks.CheckMunmap(Start, MmConstants.TaskSize, out _));
        Assert.Equal(Errno.None, SyscallChecks.CheckMunmap(Start, 1, out var end));
        Assert.Equal(Start + P, end);
    }

    // ---- mmap ----

    private static Errno Mmap(ulong addr, long pages, int mapCount = 0) =>
        SyscallChecks.CheckMmap(addr, pages, mapCount, MmConstants.DefaultMaxMapCount, out _);

    [Fact]
    public void Mmap_of_no_pages_is_EINVAL()
    {
        Assert.Equal(Errno.EINVAL, Mmap(Start, 0));
    }

    [Fact]
    public void Mmap_longer_than_task_size_is_ENOMEM_before_the_address_is_looked_at()
    {
        // mmap pages = 2^51: len = 2^63 > TASK_SIZE; the unaligned address would be EINVAL, but the length comes first.
        Assert.Equal(Errno.ENOMEM, Mmap(Start, 1L << 51));
        Assert.Equal(Errno.ENOMEM, Mmap(Start + 1, (long)(MmConstants.TaskSize / P) + 1));
    }

    [Fact]
    public void Mmap_len_of_all_ones_rounds_past_2_to_the_64_and_is_ENOMEM()
    {
        // len = 0xFFFFFFFFFFFFFFFF: PAGE_ALIGN wraps to 0, which do_mmap_pgoff refuses with the oversized lengths.
        const ulong len = ulong.MaxValue;
        var pages = (long)(len / P + (len % P == 0 ? 0UL : 1UL));
        Assert.Equal(Errno.ENOMEM, Mmap(Start, pages));
    }

    [Fact]
    public void A_fixed_mapping_ending_beyond_task_size_is_ENOMEM_and_one_ending_at_it_is_mapped()
    {
        var lastPage = MmConstants.TaskSize - P;
        Assert.Equal(Errno.ENOMEM, Mmap(lastPage, 2));
        Assert.Equal(Errno.ENOMEM, Mmap(ulong.MaxValue & MmConstants.PageMask, 1));
        Assert.Equal(Errno.None, SyscallChecks.CheckMmap(lastPage, 1, 0, MmConstants.DefaultMaxMapCount, out var end));
        Assert.Equal(MmConstants.TaskSize, end);
    }

    [Fact]
    public void Mmap_at_an_unaligned_address_is_EINVAL_and_past_max_map_count_ENOMEM()
    {
        Assert.Equal(Errno.EINVAL, Mmap(Start + 1, 1));
        Assert.Equal(Errno.ENOMEM, Mmap(Start, 1, mapCount: MmConstants.DefaultMaxMapCount + 1));
        Assert.Equal(Errno.None, Mmap(Start, 1, mapCount: MmConstants.DefaultMaxMapCount));
    }

    [Fact]
    public void The_profiles_carry_the_mempolicy_syscall_switches_of_their_kernels()
    {
        Assert.False(KernelProfile.Linux2614.LayeredPolicySyscalls);
        Assert.True(KernelProfile.V1.LayeredPolicySyscalls && KernelProfile.V1.MbindRestrictsToMemsAllowed);
        Assert.True(KernelProfile.V2.LayeredPolicySyscalls && !KernelProfile.V2.MbindRestrictsToMemsAllowed);
        Assert.True(KernelProfile.V2Fixed.LayeredPolicySyscalls);
        Assert.True(KernelProfile.Linux2616.MbindDefaultDiscontigOk && KernelProfile.Linux2616.GetNodesRejectsHugeMaxnode);
        Assert.False(KernelProfile.V2.MbindDefaultDiscontigOk || KernelProfile.V2.GetNodesRejectsHugeMaxnode);
    }
}

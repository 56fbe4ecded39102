using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Kernel;

/// <summary>mmap, munmap and the memory-policy syscalls: set_mempolicy, get_mempolicy, and mbind without
/// MPOL_MF_MOVE (with it, see the migration part).</summary>
public sealed partial class NumaTaskActor
{
    /// <summary>An anonymous private mapping at a fixed address; whatever it overlaps is unmapped first (MAP_FIXED).
    /// vm_pgoff is the address's page number, as mmap_region sets it for anonymous private mappings.</summary>
    private void DoMmap(Mmap m)
    {
        var err = SyscallChecks.CheckMmap(m.Addr, m.Pages, _state.OwnVmas.Count, _state.OwnVmas.MaxMapCount, out var end);
        if (err != Errno.None) { Complete(SyscallResult.Fail(err)); return; }
        ZapRange(_state.OwnVmas.Unmap(m.Addr, end), () =>
        {
            _state.OwnVmas.Insert(m.Addr, end, VmFlags.Read | VmFlags.Write);
            Trace.Emit("mmap", $"task={Pid} start=0x{m.Addr:x} pages={m.Pages}");
            Complete(SyscallResult.Ok((long)m.Addr));
        });
    }

    private void DoMunmap(Munmap m)
    {
        var err = SyscallChecks.CheckMunmap(m.Addr, m.Len, out var end);
        if (err != Errno.None) { Complete(SyscallResult.Fail(err)); return; }
        ZapRange(_state.OwnVmas.Unmap(m.Addr, end), () => Complete(SyscallResult.Ok()));
    }

    /// <summary><c>unmap_region</c> / <c>exit_mmap</c>: <c>lru_add_drain()</c> of this CPU first, then
    /// <c>unmap_vmas</c> → <c>zap_pte_range</c>: present pages lose this mapping at their nodes (and the node offers
    /// swap-cache pages back, <c>free_pages_and_swap_cache</c>); swap entries are released with
    /// <c>free_swap_and_cache</c>. The call returns when the nodes have done it.</summary>
    /// <remarks>Kernel: mm/mmap.c unmap_region(), exit_mmap(); mm/swap_state.c free_pages_and_swap_cache(). The drain
    /// matters: a page still in this CPU's pagevec holds the pagevec's reference, so remove_exclusive_swap_page()
    /// (page_count == 2) would refuse a swap-cache page just faulted back in, and it would linger in the swap cache,
    /// holding its slot, after the last mapping went away.</remarks>
    private void ZapRange(IEnumerable<(ulong Start, ulong End)> ranges, Action then)
    {
        var list = ranges.ToList();
        if (list.Count == 0) { then(); return; }
        DrainCpus([_state.Cpu], Enumerable.Range(0, Topology.Nodes).ToArray(), () => ZapPtes(list, then), "lru_add_drain");
    }

    private void ZapPtes(List<(ulong Start, ulong End)> ranges, Action then)
    {
        var byNode = new Dictionary<int, List<int>>();
        var slots = new List<int>();
        foreach (var (start, end) in ranges)
        {
            foreach (var (vpn, pte) in _state.OwnPageTable.Range(start >> MmConstants.PageShift, end >> MmConstants.PageShift).ToArray())
            {
                if (pte.IsSwap)
                {
                    slots.Add(pte.SwapSlot);
                }
                else if (pte.IsMigration) { ZapMigrationEntry(vpn); continue; }
                else if (pte.Pfn != Topology.ZeroPfn)
                {
                    var nid = Topology.PfnToNid(pte.Pfn);
                    if (!byNode.TryGetValue(nid, out var list))
                    {
                        byNode[nid] = list = new();
                    }

                    list.Add(pte.Pfn);
                }
                _state.OwnPageTable.Set(vpn, Pte.None);
            }
        }

        if (slots.Count > 0)
        {
            Directory.Swap.Tell(new SwapDevice.SwapFree(slots.ToArray(), FreeCache: true));
        }

        var done = Join(byNode.Count, then);
        foreach (var (nid, pfns) in byNode)
        {
            Directory.Node(nid).Tell(new NumaNode.ZapPages(Expect<NumaNode.ZapPagesDone>(_ => done()), Self, Pid, pfns.ToArray()));
        }
    }

    /// <summary><c>sys_set_mempolicy</c>: replaces the task policy; INTERLEAVE restarts <c>il_next</c>.</summary>
    private void DoSetMempolicy(SetMempolicy m)
    {
        var check = SyscallChecks.CheckSetMempolicy(m.Mode, m.Nodes, m.MaxNode, m.NodemaskFault, Topology.OnlineNodes, Profile);
        if (check.Errno != Errno.None) { Complete(SyscallResult.Fail(check.Errno)); return; }
        _state.Policy = check.Policy;
        if (check.IlNext is { } il)
        {
            _ilNext = il;
        }

        Trace.Emit("set_mempolicy", $"task={Pid} policy={check.Policy?.ToString() ?? "default"}");
        Complete(SyscallResult.Ok());
    }

    /// <summary><c>sys_get_mempolicy</c>: the mode and mask of the task or of the VMA at addr; with MPOL_F_NODE|F_ADDR
    /// the node of the page at addr, which <c>get_user_pages</c> faults in first (a load: an untouched page reads as
    /// the zero page, a swapped-out one comes back under the policy in force).</summary>
    private void DoGetMempolicy(GetMempolicy m)
    {
        var check = SyscallChecks.CheckGetMempolicy(m.Flags, m.Addr, m.MaxNode, m.NodemaskGiven);
        if (check.Errno != Errno.None) { Complete(SyscallResult.Fail(check.Errno)); return; }
        Vma? vma = null;
        if (check.FAddr)
        {
            vma = _state.OwnVmas.FindVmaIntersection(m.Addr, m.Addr + 1);
            if (vma is null) { Complete(SyscallResult.Fail(Errno.EFAULT)); return; }
        }
        var policy = PolicyAllocation.PolicyForGetMempolicy(check.FAddr, vma, _state.Policy);
        var copy = m.NodemaskGiven ? SyscallChecks.CheckCopyNodesToUser(m.MaxNode, nmaskFault: false) : Errno.None;
        var nodes = PolicyAllocation.GetZonemask(policy, Topology.OnlineNodes);
        SyscallResult Result(int? node) =>
            copy != Errno.None ? SyscallResult.Fail(copy)
            : SyscallResult.Ok() with { Mode = node is null ? policy.Mode : null, Nodes = nodes, Node = node };
        if (!check.FNode) { Complete(Result(null)); return; }
        if (!check.FAddr)
        {
            var err = SyscallChecks.GetMempolicyIlNext(_state.Policy, _ilNext, out var il);
            Complete(err != Errno.None ? SyscallResult.Fail(err) : Result(il));
            return;
        }
        var page = m.Addr & ~(MmConstants.PageSize - 1);
        var op = new TouchOp(new Touch(page, 1, false)) { Next = page >> MmConstants.PageShift, End = (page >> MmConstants.PageShift) + 1 };
        TouchChunk(op, () =>
        {
            var pte = _state.OwnPageTable.Get(page >> MmConstants.PageShift);
            if (op.Error != Errno.None || !pte.IsPresent) { Complete(SyscallResult.Fail(op.Error == Errno.None ? Errno.EFAULT : op.Error)); return; }
            Complete(Result(Topology.PfnToNid(pte.Pfn)) with { Faults = op.Faults, MajorFaults = op.Major });
        });
    }

    private void DoSchedSetaffinity(SchedSetaffinity m)
    {
        if (m.Cpu < 0 || m.Cpu >= Topology.Cpus) { Complete(SyscallResult.Fail(Errno.EINVAL)); return; }
        Trace.Emit("sched_migrate_task", $"task={Pid} orig_cpu={_state.Cpu} dest_cpu={m.Cpu}");
        _state.Cpu = m.Cpu;
        Complete(SyscallResult.Ok());
    }

    /// <summary><c>sys_mbind</c> → <c>do_mbind</c>. The argument checks come first; then, under mmap_sem, check_range
    /// (whose page walk isolates misplaced pages when MPOL_MF_MOVE is set, or stops with EIO at the first one for
    /// MPOL_MF_STRICT alone), mbind_range, and the eviction of what was isolated.</summary>
    private void DoMbind(Mbind m)
    {
        var check = SyscallChecks.CheckMbind(m.Addr, m.Len, m.Mode, m.Nodes, m.MaxNode, m.NodemaskFault, m.Flags,
            Profile, _state.SysNice, Topology.OnlineNodes);
        if (check.Errno != Errno.None) { Complete(SyscallResult.Fail(check.Errno)); return; }
        if (check.Noop) { Complete(SyscallResult.Ok()); return; }
        Trace.Emit("mbind", $"task={Pid} start=0x{check.Start:x} end=0x{check.End:x} mode={MemPolicy.ModeName(check.Mode)} nodes={check.Nodes} flags={check.Flags}");
        if ((check.Flags & (MpolFlags.Move | MpolFlags.MoveAll)) != 0) { MbindMove(check); return; }
        var err = _state.OwnVmas.CheckRange(check.Start, check.End, check.DiscontigOk, (vma, s, e) => StrictWalk(vma, s, e, check));
        if (err == Errno.None)
        {
            err = _state.OwnVmas.MbindRange(check.Start, check.End, check.Policy);
        }

        Complete(err == Errno.None ? SyscallResult.Ok() : SyscallResult.Fail(err));
    }

    /// <summary><c>check_pte_range</c> without a page list: the first present page outside the mask stops the walk
    /// (EIO). Non-present PTEs are skipped.</summary>
    private Errno StrictWalk(Vma vma, ulong start, ulong end, MbindCheck check)
    {
        if (!VmaList.CheckRangeWalksVma(vma, check.Flags))
        {
            return Errno.None;
        }

        foreach (var (_, pte) in _state.OwnPageTable.Range(start >> MmConstants.PageShift, end >> MmConstants.PageShift))
        {
            if (!pte.IsPresent || SkipInWalk(pte.Pfn))
            {
                continue;
            }

            if (!check.Nodes.Contains(Topology.PfnToNid(pte.Pfn)))
            {
                return Errno.EIO;
            }
        }
        return Errno.None;
    }

    /// <summary>2.6.16+ skip PageReserved (the zero page) in check_pte_range; V2 and 2.6.14 count it like any page.</summary>
    private bool SkipInWalk(int pfn) => Profile.WalkSkipsReserved && pfn == Topology.ZeroPfn;
}

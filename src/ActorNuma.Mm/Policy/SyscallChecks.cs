namespace ActorNuma.Mm;

/// <summary>What sys_mbind decided before taking <c>mmap_sem</c>. <see cref="Nodes"/> is the mask check_range tests
/// pages against (the user's mask after get_nodes; for PREFERRED it may hold more nodes than the policy keeps);
/// <see cref="Flags"/> has STRICT removed for DEFAULT; <see cref="Policy"/> is what mbind_range installs (null for
/// DEFAULT); <see cref="DiscontigOk"/> is MPOL_MF_DISCONTIG_OK (mbind(DEFAULT) from V3 on). <see cref="Noop"/> means
/// <c>end == start</c>: the call returns 0 having done nothing.</summary>
public sealed record MbindCheck(
    Errno Errno, bool Noop, MpolMode Mode, NodeMask Nodes, MpolFlags Flags, ulong Start, ulong End, MemPolicy? Policy,
    bool DiscontigOk)
{
    /// <summary>True when the caller goes on: down_write(mmap_sem), check_range, mbind_range.</summary>
    public bool Proceed => Errno == Errno.None && !Noop;

    internal static MbindCheck Fail(Errno errno) =>
        new(errno, false, MpolMode.Default, NodeMask.Empty, MpolFlags.None, 0, 0, null, false);
}

/// <summary>What set_mempolicy installs: <see cref="Policy"/> replaces <c>current-&gt;mempolicy</c> (null = DEFAULT);
/// <see cref="IlNext"/>, when set, is the new <c>current-&gt;il_next</c> (INTERLEAVE: the first node of the mask).</summary>
public sealed record SetMempolicyCheck(Errno Errno, MpolMode Mode, NodeMask Nodes, MemPolicy? Policy, int? IlNext);

/// <summary>get_mempolicy's checks before the VMA lookup: the decoded flags and whether MPOL_F_ADDR (look up the VMA at
/// the address: none → EFAULT) and MPOL_F_NODE (return a node instead of the mode) are set.</summary>
public sealed record GetMempolicyCheck(Errno Errno, MpolGetFlags Flags, bool FAddr, bool FNode);

/// <summary>The argument checks of the NUMA syscalls, in the kernel's order, as errno values (never exceptions for
/// user input). User pointers are modelled as a mask plus a fault flag: a NULL pointer is <c>nmask == null</c> without
/// <c>nmaskFault</c>; <c>nmaskFault</c> is a non-NULL pointer that faults on every read, whatever the mask says. The
/// emulated user mask has 64 bits (<c>MAX_NUMNODES</c>); the words of a longer user bitmap read as zero. Integer
/// arguments convert as C does: <c>maxnode</c>, <c>mode</c>, <c>addr</c> and get_mempolicy's <c>flags</c> are
/// <c>unsigned long</c> (sign-extended), mbind's <c>flags</c> is <c>unsigned</c>.</summary>
public static partial class SyscallChecks
{
    /// <summary><c>MPOL_MAX</c> = MPOL_INTERLEAVE: there is no MPOL_LOCAL in 2.6.x.</summary>
    public const int MpolMax = (int)MpolMode.Interleave;

    /// <summary><c>get_nodes()</c> as 2.6.14/V2 has it (no <c>maxnode &gt; PAGE_SIZE*8</c> test): <c>maxnode</c> is
    /// decremented first; 0 or a NULL mask → empty; more longs than MAX_NUMNODES needs: over a page of longs → EINVAL,
    /// the extra words are read (fault → EFAULT) and must be zero; then the first word is copied (fault → EFAULT) and
    /// the bits from <c>maxnode</c> up are cleared. A maxnode in -62..0 wraps BITS_TO_LONGS to 0: nothing is copied
    /// and the mask stays empty (the kernel then clears bits in the word below the mask).</summary>
    /// <remarks>Kernel: mm/mempolicy.c get_nodes()</remarks>
    public static Errno GetNodes(NodeMask? nmask, int maxnode, bool nmaskFault, out NodeMask nodes) =>
        GetNodesCore(nmask, maxnode, nmaskFault, rejectHugeMaxnode: false, out nodes, out _);

    /// <summary><c>get_nodes()</c>, with the 2.6.15.4/2.6.16 test <c>maxnode - 1 &gt; PAGE_SIZE*8</c> → EINVAL when
    /// <paramref name="rejectHugeMaxnode"/>.</summary>
    /// <remarks>Kernel: mm/mempolicy.c get_nodes()</remarks>
    public static Errno GetNodes(NodeMask? nmask, int maxnode, bool nmaskFault, bool rejectHugeMaxnode, out NodeMask nodes) =>
        GetNodesCore(nmask, maxnode, nmaskFault, rejectHugeMaxnode, out nodes, out _);

    /// <summary><c>mpol_check_policy()</c>: DEFAULT with nodes, or BIND/INTERLEAVE without → EINVAL; PREFERRED may be
    /// empty; any node not online → EINVAL.</summary>
    /// <remarks>Kernel: mm/mempolicy.c mpol_check_policy()</remarks>
    public static Errno MpolCheckPolicy(MpolMode mode, NodeMask nodes, NodeMask online)
    {
        var bad = mode switch
        {
            MpolMode.Default => !nodes.IsEmpty,
            MpolMode.Bind or MpolMode.Interleave => nodes.IsEmpty,
            _ => false,
        };
        return bad || !nodes.IsSubsetOf(online) ? Errno.EINVAL : Errno.None;
    }

    /// <summary><c>mpol_new()</c>: DEFAULT → null (no policy object); PREFERRED keeps only the first node
    /// (<c>preferred_node</c>, -1 = empty for none); BIND and INTERLEAVE keep the mask. Allocation failures (ENOMEM) are
    /// not modelled.</summary>
    /// <remarks>Kernel: mm/mempolicy.c mpol_new()</remarks>
    public static MemPolicy? MpolNew(MpolMode mode, NodeMask nodes) => mode switch
    {
        MpolMode.Default => null,
        MpolMode.Preferred => new MemPolicy(MpolMode.Preferred, nodes.IsEmpty ? NodeMask.Empty : NodeMask.Of(nodes.First)),
        MpolMode.Bind or MpolMode.Interleave => new MemPolicy(mode, nodes),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a policy mode"),
    };

    /// <summary>sys_mbind → get_nodes → do_mbind up to (not including) <c>down_write(&amp;mm-&gt;mmap_sem)</c>:
    /// <list type="number">
    /// <item>get_nodes (errors EINVAL/EFAULT) — first with <see cref="KernelProfile.LayeredPolicySyscalls"/>;</item>
    /// <item>flags outside <see cref="KernelProfile.ValidMbindFlags"/> or mode &gt; MPOL_MAX → EINVAL;</item>
    /// <item>MOVE_ALL without CAP_SYS_NICE → EPERM (when <see cref="KernelProfile.MoveAllNeedsSysNice"/>);</item>
    /// <item>start not page aligned → EINVAL; DEFAULT clears STRICT;</item>
    /// <item>len rounded up to pages (wrapping); end &lt; start → EINVAL; end == start → 0, nothing done;</item>
    /// <item>without the layering (2.6.14 final) get_nodes only now, and its policy check only if it copied a mask;</item>
    /// <item>restrict to mems_allowed (<see cref="KernelProfile.MbindRestrictsToMemsAllowed"/>), mpol_check_policy → EINVAL;</item>
    /// <item>mpol_new; DEFAULT (NULL policy) → MPOL_MF_DISCONTIG_OK (<see cref="KernelProfile.MbindDefaultDiscontigOk"/>).</item>
    /// </list></summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_mbind(), do_mbind() (V2: 2.6.14-rc4-mm1 + 2/2; 2.6.14 final: sys_mbind)</remarks>
    public static MbindCheck CheckMbind(
        ulong start, ulong len, int mode, NodeMask? nmask, int maxnode, bool nmaskFault, int flags,
        KernelProfile profile, bool hasSysNice, NodeMask online)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var layered = profile.LayeredPolicySyscalls;
        var nodes = NodeMask.Empty;
        var copied = false;
        Errno err;
        if (layered)
        {
            err = GetNodesCore(nmask, maxnode, nmaskFault, profile.GetNodesRejectsHugeMaxnode, out nodes, out copied);
            if (err != Errno.None)
            {
                return MbindCheck.Fail(err);
            }
        }
        var userFlags = unchecked((uint)flags);
        if ((userFlags & ~(uint)profile.ValidMbindFlags) != 0 || mode is < 0 or > MpolMax)
        {
            return MbindCheck.Fail(Errno.EINVAL);
        }

        var mf = (MpolFlags)userFlags;
        if ((mf & MpolFlags.MoveAll) != 0 && profile.MoveAllNeedsSysNice && !hasSysNice)
        {
            return MbindCheck.Fail(Errno.EPERM);
        }

        if (!MmConstants.IsPageAligned(start))
        {
            return MbindCheck.Fail(Errno.EINVAL);
        }

        var mpolMode = (MpolMode)mode;
        if (mpolMode == MpolMode.Default)
        {
            mf &= ~MpolFlags.Strict;
        }

        var end = unchecked(start + MmConstants.PageAlign(len));
        if (end < start)
        {
            return MbindCheck.Fail(Errno.EINVAL);
        }

        if (end == start)
        {
            return new MbindCheck(Errno.None, true, mpolMode, nodes, mf, start, end, null, false);
        }

        if (!layered)
        {
            err = GetNodesCore(nmask, maxnode, nmaskFault, profile.GetNodesRejectsHugeMaxnode, out nodes, out copied);
            if (err != Errno.None)
            {
                return MbindCheck.Fail(err);
            }
        }
        // 2.6.14 final runs the restriction and mpol_check_policy inside get_nodes, after the copy only.
        if (layered || copied)
        {
            if (profile.MbindRestrictsToMemsAllowed)
            {
                nodes = nodes.And(online);
            }

            if (MpolCheckPolicy(mpolMode, nodes, online) != Errno.None)
            {
                return MbindCheck.Fail(Errno.EINVAL);
            }
        }
        var policy = MpolNew(mpolMode, nodes);
        return new MbindCheck(Errno.None, false, mpolMode, nodes, mf, start, end, policy,
            DiscontigOk: policy is null && profile.MbindDefaultDiscontigOk);
    }

    /// <summary>sys_set_mempolicy under the seed profile, <see cref="KernelProfile.V2"/>.</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_set_mempolicy(), do_set_mempolicy()</remarks>
    public static SetMempolicyCheck CheckSetMempolicy(int mode, NodeMask? nmask, int maxnode, bool nmaskFault, NodeMask online) =>
        CheckSetMempolicy(mode, nmask, maxnode, nmaskFault, online, KernelProfile.V2);

    /// <summary>sys_set_mempolicy: mode &lt; 0 or &gt; MPOL_MAX → EINVAL; get_nodes; contextualize_policy (the mask
    /// is silently intersected with the cpuset's mems_allowed, all online nodes here, then mpol_check_policy → EINVAL;
    /// 2.6.14 final skips both when get_nodes copied nothing); mpol_new; INTERLEAVE sets il_next to the first node.</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_set_mempolicy(), do_set_mempolicy(), contextualize_policy()</remarks>
    public static SetMempolicyCheck CheckSetMempolicy(
        int mode, NodeMask? nmask, int maxnode, bool nmaskFault, NodeMask online, KernelProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (mode is < 0 or > MpolMax)
        {
            return new(Errno.EINVAL, MpolMode.Default, NodeMask.Empty, null, null);
        }

        var err = GetNodesCore(nmask, maxnode, nmaskFault, profile.GetNodesRejectsHugeMaxnode, out var nodes, out var copied);
        if (err != Errno.None)
        {
            return new(err, MpolMode.Default, NodeMask.Empty, null, null);
        }

        var mpolMode = (MpolMode)mode;
        if (profile.LayeredPolicySyscalls || copied)
        {
            nodes = nodes.And(online);
            if (MpolCheckPolicy(mpolMode, nodes, online) != Errno.None)
            {
                return new(Errno.EINVAL, MpolMode.Default, NodeMask.Empty, null, null);
            }
        }
        var policy = MpolNew(mpolMode, nodes);
        // first_node() of an empty mask is MAX_NUMNODES (only 2.6.14 final gets here with one).
        int? ilNext = policy?.Mode == MpolMode.Interleave
            ? (nodes.IsEmpty ? NodeMask.MaxNumNodes : nodes.First)
            : null;
        return new(Errno.None, mpolMode, nodes, policy, ilNext);
    }

    /// <summary>sys_get_mempolicy's checks before the VMA lookup: a mask pointer with <c>maxnode &lt; MAX_NUMNODES</c>
    /// → EINVAL; flags other than F_NODE|F_ADDR → EINVAL (2.6.14 final tests the flags first; both are EINVAL);
    /// <c>addr != 0</c> without F_ADDR → EINVAL. Then, with F_ADDR, the caller looks up
    /// <c>find_vma_intersection(addr, addr + 1)</c>: none → EFAULT (LTP get_mempolicy02: addr NULL).</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_get_mempolicy(), do_get_mempolicy()</remarks>
    public static GetMempolicyCheck CheckGetMempolicy(int flags, ulong addr, int maxnode, bool nmaskGiven)
    {
        var userFlags = unchecked((ulong)(long)flags);
        var none = new GetMempolicyCheck(Errno.EINVAL, MpolGetFlags.None, false, false);
        if (nmaskGiven && unchecked((ulong)(long)maxnode) < NodeMask.MaxNumNodes)
        {
            return none;
        }

        if ((userFlags & ~(ulong)(MpolGetFlags.Node | MpolGetFlags.Addr)) != 0)
        {
            return none;
        }

        var decoded = (MpolGetFlags)userFlags;
        var fAddr = (decoded & MpolGetFlags.Addr) != 0;
        if (!fAddr && addr != 0)
        {
            return none with { Flags = decoded };
        }

        return new GetMempolicyCheck(Errno.None, decoded, fAddr, (decoded & MpolGetFlags.Node) != 0);
    }

    /// <summary>get_mempolicy(MPOL_F_NODE) without MPOL_F_ADDR: the task's <c>il_next</c> when its policy is
    /// INTERLEAVE, else EINVAL.</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_get_mempolicy() / do_get_mempolicy()</remarks>
    public static Errno GetMempolicyIlNext(MemPolicy? taskPolicy, int ilNext, out int node)
    {
        node = taskPolicy?.Mode == MpolMode.Interleave ? ilNext : 0;
        return taskPolicy?.Mode == MpolMode.Interleave ? Errno.None : Errno.EINVAL;
    }

    /// <summary><c>copy_nodes_to_user()</c>, get_mempolicy's last step: <c>ALIGN(maxnode - 1, 64) / 8</c> bytes, of
    /// which those beyond the kernel's 8-byte mask are cleared; more than a page → EINVAL; a fault → EFAULT.</summary>
    /// <remarks>Kernel: mm/mempolicy.c copy_nodes_to_user()</remarks>
    public static Errno CheckCopyNodesToUser(int maxnode, bool nmaskFault)
    {
        const ulong nbytes = NodeMask.MaxNumNodes / 8;
        var copy = (unchecked((ulong)(long)maxnode - 1 + 63) & ~63UL) / 8;
        if (copy > nbytes)
        {
            if (copy > MmConstants.PageSize)
            {
                return Errno.EINVAL;
            }

            if (nmaskFault)
            {
                return Errno.EFAULT;
            }

            copy = nbytes;
        }
        return copy > 0 && nmaskFault ? Errno.EFAULT : Errno.None;
    }

    /// <summary>do_mmap_pgoff's checks of an anonymous private MAP_FIXED mapping, in the kernel's order. The length is
    /// given in <paramref name="pages"/>: the caller's <c>len</c> rounded up to whole pages without wrapping, so a
    /// PAGE_ALIGN that wraps to 0 shows here as more pages than TASK_SIZE holds.
    /// <list type="number">
    /// <item>len 0 → EINVAL;</item>
    /// <item>PAGE_ALIGN(len) wraps to 0 or exceeds TASK_SIZE → ENOMEM (2.6.11 and earlier said EINVAL here);</item>
    /// <item>the pgoff overflow test (EOVERFLOW) cannot fire: an anonymous mapping passes pgoff 0;</item>
    /// <item>more than sysctl_max_map_count VMAs → ENOMEM;</item>
    /// <item>get_unmapped_area(MAP_FIXED): addr &gt; TASK_SIZE - len → ENOMEM, then addr not page aligned → EINVAL.</item>
    /// </list><paramref name="end"/> is the exclusive end of the new mapping.</summary>
    /// <remarks>Kernel: mm/mmap.c do_mmap_pgoff(), get_unmapped_area()</remarks>
    public static Errno CheckMmap(ulong addr, long pages, int mapCount, int maxMapCount, out ulong end)
    {
        end = addr;
        if (pages <= 0)
        {
            return Errno.EINVAL;
        }

        if ((ulong)pages > MmConstants.TaskSize >> MmConstants.PageShift)
        {
            return Errno.ENOMEM;
        }

        var len = (ulong)pages << MmConstants.PageShift;
        if (mapCount > maxMapCount)
        {
            return Errno.ENOMEM;
        }

        if (addr > MmConstants.TaskSize - len)
        {
            return Errno.ENOMEM;
        }

        if (!MmConstants.IsPageAligned(addr))
        {
            return Errno.EINVAL;
        }

        end = addr + len;
        return Errno.None;
    }

    /// <summary>do_munmap's argument checks: start not page aligned, above TASK_SIZE, or len beyond TASK_SIZE → EINVAL;
    /// len page-aligned up, 0 → EINVAL. <paramref name="end"/> is the exclusive end to unmap.</summary>
    /// <remarks>Kernel: mm/mmap.c do_munmap()</remarks>
    public static Errno CheckMunmap(ulong start, ulong len, out ulong end)
    {
        end = start;
        if (!MmConstants.IsPageAligned(start) || start > MmConstants.TaskSize || len > MmConstants.TaskSize - start)
        {
            return Errno.EINVAL;
        }

        len = MmConstants.PageAlign(len);
        if (len == 0)
        {
            return Errno.EINVAL;
        }

        end = start + len;
        return Errno.None;
    }

    /// <summary>sys_migrate_pages' copies of the two masks (2.6.16+): get_nodes for <c>old_nodes</c>, then for
    /// <c>new_nodes</c>, both with the 2.6.16 <c>maxnode &gt; PAGE_SIZE*8</c> test (LTP migrate_pages01: maxnode -1 →
    /// EINVAL). The caller then continues in the kernel's order: pid not found → ESRCH; no mm → EINVAL;
    /// <see cref="CheckMigratePagesPermission"/>; <see cref="CheckMigratePagesTargetNodes"/>; do_migrate_pages with
    /// <see cref="MigratePagesFlags"/>.</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_migrate_pages()</remarks>
    public static Errno CheckMigratePagesNodes(
        int maxnode, NodeMask? oldNodes, bool oldFault, NodeMask? newNodes, bool newFault, out NodeMask oldMask, out NodeMask newMask)
    {
        newMask = NodeMask.Empty;
        var err = GetNodesCore(oldNodes, maxnode, oldFault, rejectHugeMaxnode: true, out oldMask, out _);
        return err != Errno.None ? err : GetNodesCore(newNodes, maxnode, newFault, rejectHugeMaxnode: true, out newMask, out _);
    }

    /// <summary><see cref="CheckMigratePagesNodes(int, NodeMask?, bool, NodeMask?, bool, out NodeMask, out NodeMask)"/>
    /// with one fault flag for both pointers (old_nodes is read first, so its fault is the one reported).</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_migrate_pages()</remarks>
    public static Errno CheckMigratePagesNodes(
        NodeMask? oldNodes, NodeMask? newNodes, int maxnode, bool nmaskFault, out NodeMask oldMask, out NodeMask newMask) =>
        CheckMigratePagesNodes(maxnode, oldNodes, nmaskFault, newNodes, nmaskFault, out oldMask, out newMask);

    /// <summary>sys_migrate_pages' right to move another task's pages: the caller's uid or euid equals the target's
    /// uid or suid (<paramref name="sameUid"/>; always true for the caller itself), or the caller has CAP_SYS_NICE
    /// (CAP_SYS_ADMIN before Mar 2006); else EPERM.</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_migrate_pages()</remarks>
    public static Errno CheckMigratePagesPermission(bool callerIsTarget, bool sameUid, bool callerHasSysNice) =>
        callerIsTarget || sameUid || callerHasSysNice ? Errno.None : Errno.EPERM;

    /// <summary>sys_migrate_pages' test of the target nodes: not within the target's cpuset mems and no CAP_SYS_NICE →
    /// EPERM. Then a node not online → EINVAL: an emulator decision. 2.6.16–2.6.18 have no such test, so root (which
    /// passes the cpuset test through CAP_SYS_NICE) would go on to <c>alloc_pages_node()</c> on a node without a pgdat —
    /// undefined behaviour the emulator cannot reproduce. Later kernels return EINVAL here, after the EPERM tests
    /// (<c>!nodes_subset(*new, node_states[N_MEMORY])</c>), which is also what LTP migrate_pages01 expects.</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_migrate_pages() (the EINVAL: later kernels)</remarks>
    public static Errno CheckMigratePagesTargetNodes(NodeMask newNodes, NodeMask targetMemsAllowed, bool callerHasSysNice, NodeMask online)
    {
        if (!newNodes.IsSubsetOf(targetMemsAllowed) && !callerHasSysNice)
        {
            return Errno.EPERM;
        }

        return newNodes.IsSubsetOf(online) ? Errno.None : Errno.EINVAL;
    }

    /// <summary>The flags do_migrate_pages gets: MOVE_ALL with CAP_SYS_NICE, else MOVE.</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_migrate_pages()</remarks>
    public static MpolFlags MigratePagesFlags(bool callerHasSysNice) => callerHasSysNice ? MpolFlags.MoveAll : MpolFlags.Move;

    /// <summary>get_nodes; <paramref name="copied"/> says whether it got past the early return for a NULL mask or
    /// <c>maxnode &lt;= 1</c> (2.6.14 final runs mpol_check_policy only then).</summary>
    private static Errno GetNodesCore(
        NodeMask? nmask, int maxnode, bool nmaskFault, bool rejectHugeMaxnode, out NodeMask nodes, out bool copied)
    {
        nodes = NodeMask.Empty;
        copied = false;
        var bits = unchecked((ulong)(long)maxnode - 1);
        if (bits == 0 || (nmask is null && !nmaskFault))
        {
            return Errno.None;
        }

        copied = true;
        if (rejectHugeMaxnode && bits > MmConstants.PageSize * 8)
        {
            return Errno.EINVAL;
        }
        // BITS_TO_LONGS in unsigned arithmetic: it wraps to 0 for bits >= 2^64 - 63.
        var nlongs = unchecked(bits + 63) / 64;
        var endmask = bits % 64 == 0 ? ulong.MaxValue : (1UL << (int)(bits % 64)) - 1;
        if (nlongs > 1)
        {
            if (nlongs > MmConstants.PageSize / 8)
            {
                return Errno.EINVAL;
            }
            // get_user() of each word past MAX_NUMNODES: they fault with the pointer, else read as zero.
            if (nmaskFault)
            {
                return Errno.EFAULT;
            }

            nlongs = 1;
            endmask = ulong.MaxValue;
        }
        if (nlongs == 0)
        {
            return Errno.None;
        }

        if (nmaskFault)
        {
            return Errno.EFAULT;
        }

        nodes = new NodeMask((nmask?.Bits ?? 0) & endmask);
        return Errno.None;
    }
}

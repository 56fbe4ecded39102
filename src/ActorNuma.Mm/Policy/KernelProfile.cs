namespace ActorNuma.Mm;

/// <summary>Which CPUs <c>isolate_lru_page</c> drains when it finds a page without PG_lru.</summary>
public enum IsolateDrain
{
    /// <summary>No drain inside isolation (2.6.16: the drain moved before the walk, <c>lru_add_drain_all</c>).</summary>
    None,
    /// <summary>V1: <c>smp_call_function(lru_add_drain_per_cpu)</c>, which never runs on the calling CPU.</summary>
    Remote,
    /// <summary>V2: the remote drain plus <c>lru_add_drain()</c> of the local CPU ("Fix missing lru_add_drain()").</summary>
    RemoteAndLocal,
}

/// <summary>Where <c>isolate_lru_page</c>'s caller puts an isolated page on the migration list, which decides the order
/// <c>swapout_pages</c> walks it (and so which pages get swap slots first).</summary>
public enum IsolateListOrder
{
    /// <summary>V1/V2 <c>list_add(&amp;page-&gt;lru, l)</c>: each page goes to the head, so the list runs from the highest
    /// address of the walk down.</summary>
    Head,
    /// <summary>2.6.16 <c>list_add_tail</c> in migrate_page_add (Lameter, 16 Feb 2006, "page migration: Fix
    /// MPOL_INTERLEAVE behavior for migration via mbind()"): the list keeps the walk's ascending order.</summary>
    Tail,
}

/// <summary>A kernel version as a named set of switches. A scenario picks a profile and may set switches one by one.</summary>
public sealed record KernelProfile
{
    public required string Name { get; init; }

    /// <summary>Which CPUs isolate_lru_page drains (V1 remote, V2 remote and local, 2.6.16 none).</summary>
    public IsolateDrain IsolateDrain { get; init; }

    /// <summary>Head (V1/V2: <c>list_add</c>) or tail (2.6.16: <c>list_add_tail</c>) of the migration list.</summary>
    public IsolateListOrder IsolateListOrder { get; init; } = IsolateListOrder.Head;

    /// <summary>migrate_pages(2) exists (2.6.16-rc1, commit 39743889aaf7 "sys_migrate_pages"); before it the syscall
    /// number is unassigned and returns ENOSYS.</summary>
    public bool MigratePagesSyscall { get; init; }

    /// <summary><c>lru_add_drain_all()</c> in check_range before the page walk (Nick Piggin, Jan 2006; 2.6.16).</summary>
    public bool DrainAllBeforeWalk { get; init; }

    /// <summary>putback_lru_pages drops the isolation reference (Magnus Damm's fix, 18-19 Oct 2005). V2 leaked it.</summary>
    public bool PutbackDropsReference { get; init; }

    /// <summary>Putback goes through the local CPU's pagevec (<c>move_to_lru</c>, V5 "Use the lru caches"; 2.6.16).</summary>
    public bool PutbackThroughPagevec { get; init; }

    /// <summary>The mbind flags do_mbind accepts: 2.6.14 STRICT; V1/V2 STRICT|MOVE; V3+ and 2.6.16 also MOVE_ALL.</summary>
    public MpolFlags ValidMbindFlags { get; init; }

    /// <summary>MOVE also moves pages mapped by more than one process (V2: yes; 2.6.16-rc2 "Simplify migrate_page_add":
    /// only MOVE_ALL or page_mapcount == 1).</summary>
    public bool MoveSharedPages { get; init; }

    /// <summary>MOVE/MOVE_ALL without any swap fails with ENODEV (2.6.16-rc6 "Fail with error if swap not setup").</summary>
    public bool EnodevWithoutSwap { get; init; }

    /// <summary>check_pte_range fires <c>WARN_ON(rc == 0)</c> when isolation fails (V1/V2; dropped in Jan 2006).</summary>
    public bool WarnOnIsolateFailure { get; init; }

    /// <summary>Migration unmaps with <c>try_to_unmap(page, 1)</c>, which ignores young PTEs (9 Feb 2006).</summary>
    public bool MigrationUnmapIgnoresYoung { get; init; }

    /// <summary>check_pte_range skips PageReserved pages (the zero page), as 2.6.16+ does; V2 counted the zero page like any
    /// page, so STRICT could trip on it and MOVE try to isolate it.</summary>
    public bool WalkSkipsReserved { get; init; }

    /// <summary>swapout_pages takes the page lock with a blocking lock_page from this pass on (V1: 2, V2: 3).</summary>
    public int BlockingLockFromPass { get; init; } = 3;

    /// <summary>The capability MOVE_ALL requires: CAP_SYS_NICE (14 Mar 2006 patch; 2.6.18). The earlier CAP_SYS_RESOURCE is
    /// not modelled: tasks hold CAP_SYS_NICE or nothing.</summary>
    public bool MoveAllNeedsSysNice { get; init; } = true;

    /// <summary>The sys_/do_ layering of mm/mempolicy.c (Lameter, 12 Oct 2005; under V1, in 2.6.14-rc4-mm1 = V2's base,
    /// merged for 2.6.15): sys_mbind copies the node mask before do_mbind checks flags, alignment and length, and
    /// mpol_check_policy always runs. Without it (2.6.14 final) sys_mbind reads the mask last, after <c>end == start</c>
    /// has returned 0, and get_nodes returns before mpol_check_policy for a NULL mask or maxnode &lt;= 1, so mbind and
    /// set_mempolicy accept BIND and INTERLEAVE without nodes.</summary>
    public bool LayeredPolicySyscalls { get; init; }

    /// <summary>mbind silently drops mask nodes outside the cpuset's <c>mems_allowed</c> (all online nodes here) instead
    /// of failing with EINVAL: 2.6.14 final (inside get_nodes) and V1 (<c>contextualize_policy</c> in do_mbind).
    /// 2.6.14-rc4-mm1/V2 and 2.6.15+ do_mbind call only <c>mpol_check_policy</c>. set_mempolicy always restricts.</summary>
    public bool MbindRestrictsToMemsAllowed { get; init; }

    /// <summary>mbind(MPOL_DEFAULT) sets <c>MPOL_MF_DISCONTIG_OK</c>, so holes in the range are no EFAULT (V3+; 2.6.16).</summary>
    public bool MbindDefaultDiscontigOk { get; init; }

    /// <summary>get_nodes rejects <c>maxnode - 1 &gt; PAGE_SIZE * 8</c> with EINVAL (2.6.15.4 -stable; 2.6.16). Without
    /// it a maxnode of 0 or slightly below wraps <c>BITS_TO_LONGS</c> to 0 and yields an empty mask.</summary>
    public bool GetNodesRejectsHugeMaxnode { get; init; }

    /// <summary>Migration moves pages directly (2.6.18 mm/migrate.c, "Rip the page migration logic out", 2.6.17-rc1-mm2):
    /// the target page is allocated first (<c>get_new_page</c>), PTEs become migration entries instead of swap entries,
    /// the contents are copied, no swap is needed, at most 10 passes, and every page left is put back. Off: the pages
    /// are evicted through swap (V2 <c>swapout_pages</c>, 2.6.16 <c>swap_page</c>).</summary>
    public bool DirectMigration { get; init; }

    /// <summary><c>move_pages(2)</c> exists (2.6.18, Lameter's "sys_move_pages" of May 2006); before it ENOSYS.</summary>
    public bool MovePagesSyscall { get; init; }

    /// <summary>2.6.16's direct migration through the swap cache (Lameter's "Direct Migration V9", 2.6.16-rc1):
    /// <c>migrate_pages_to()</c> allocates the targets in chunks (<c>MIGRATE_CHUNK_SIZE</c>), and <c>migrate_pages()</c>
    /// still gives an anonymous page a swap slot (<c>add_to_swap</c>) but then copies the swap-cache page into its target
    /// (<c>migrate_page()</c>: <c>migrate_page_remove_references</c>, <c>migrate_page_copy</c>, <c>remove_from_swap</c>)
    /// with no I/O. Off: the V2 form, every page evicted through swap and faulted back. <see cref="DirectMigration"/>
    /// (2.6.18) wins over it.</summary>
    public bool DirectViaSwapCache { get; init; }

    /// <summary>An allocation whose zonelist leaves out a node (an MPOL_BIND policy) that runs out of memory kills the
    /// allocating task, not the largest one: <c>out_of_memory()</c>'s <c>constrained_alloc()</c> returns
    /// CONSTRAINT_MEMORY_POLICY and <c>oom_kill_process(current, ..., "No available memory (MPOL_BIND)")</c> (Lameter's
    /// "Terminate process that fails on a constrained allocation", Feb 2006, in 2.6.16). Before it, the largest task
    /// dies whatever the policy.</summary>
    public bool OomKillsConstrainedAllocator { get; init; }

    /// <summary>2.6.14 final, before any migration patch: mbind accepts only MPOL_MF_STRICT.</summary>
    public static KernelProfile Linux2614 { get; } = new()
    {
        Name = "2.6.14",
        IsolateDrain = IsolateDrain.RemoteAndLocal,
        MbindRestrictsToMemsAllowed = true,
        ValidMbindFlags = MpolFlags.Strict,
        MoveSharedPages = true,
        WarnOnIsolateFailure = true,
    };

    /// <summary>V1 (13 Oct 2005): isolate drains only remote CPUs.</summary>
    public static KernelProfile V1 { get; } = new()
    {
        Name = "v1",
        IsolateDrain = IsolateDrain.Remote,
        LayeredPolicySyscalls = true,
        MbindRestrictsToMemsAllowed = true,
        ValidMbindFlags = MpolFlags.Strict | MpolFlags.Move,
        MoveSharedPages = true,
        WarnOnIsolateFailure = true,
        BlockingLockFromPass = 2,
    };

    /// <summary>V2 (17 Oct 2005), the seed: the local drain is fixed, the putback reference still leaks.</summary>
    public static KernelProfile V2 { get; } = V1 with
    {
        Name = "v2",
        IsolateDrain = IsolateDrain.RemoteAndLocal,
        BlockingLockFromPass = 3,
        MbindRestrictsToMemsAllowed = false,
    };

    /// <summary>V2 plus the 18-19 Oct 2005 putback fix (put_page after putback).</summary>
    public static KernelProfile V2Fixed { get; } = V2 with { Name = "v2-fixed", PutbackDropsReference = true };

    /// <summary>2.6.16: migration as merged, direct through the swap cache (<see cref="DirectViaSwapCache"/>), with Nick
    /// Piggin's drain-all, putback through the pagevec, MOVE_ALL, shared pages left alone by MOVE, ENODEV without swap,
    /// no WARN_ON, try_to_unmap(page, 1).</summary>
    public static KernelProfile Linux2616 { get; } = new()
    {
        Name = "2.6.16",
        IsolateDrain = IsolateDrain.None,
        IsolateListOrder = IsolateListOrder.Tail,
        MigratePagesSyscall = true,
        DrainAllBeforeWalk = true,
        PutbackDropsReference = true,
        PutbackThroughPagevec = true,
        ValidMbindFlags = MpolFlags.Strict | MpolFlags.Move | MpolFlags.MoveAll,
        MoveSharedPages = false,
        EnodevWithoutSwap = true,
        WarnOnIsolateFailure = false,
        MigrationUnmapIgnoresYoung = true,
        WalkSkipsReserved = true,
        LayeredPolicySyscalls = true,
        MbindDefaultDiscontigOk = true,
        GetNodesRejectsHugeMaxnode = true,
        DirectViaSwapCache = true,
        OomKillsConstrainedAllocator = true,
    };

    /// <summary>2.6.18: mm/migrate.c direct migration (migration entries, no swap, <c>migrate_prep()</c> only drains:
    /// no ENODEV without swap) and the move_pages(2) syscall; everything else as 2.6.16.</summary>
    public static KernelProfile Linux2618 { get; } = Linux2616 with
    {
        Name = "2.6.18",
        DirectMigration = true,
        DirectViaSwapCache = false,
        MovePagesSyscall = true,
        EnodevWithoutSwap = false,
    };

    public static IReadOnlyList<KernelProfile> All { get; } = [Linux2614, V1, V2, V2Fixed, Linux2616, Linux2618];

    public static KernelProfile? ByName(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
}

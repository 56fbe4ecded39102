using System.Buffers;
using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>Page migration via swap, the seed's two patches: the page walk that picks misplaced pages,
/// <c>isolate_lru_page</c> with the profile's draining, <c>swapout_pages</c>' pass loop, <c>putback_lru_pages</c>;
/// and the three callers: mbind(MPOL_MF_MOVE), migrate_pages(2) and the swapout operation.</summary>
public sealed partial class NumaTaskActor
{
    /// <summary>V2: <c>if (retry &amp;&amp; pass++ &lt; 10) goto redo;</c> — passes 0 to 10.</summary>
    private const int MaxPass = 10;

    private sealed class MigrationRun(string reason, TimeSpan start)
    {
        public string Reason { get; } = reason;
        public TimeSpan Start { get; } = start;
        public long Scanned, Isolated, FailPagevec, FailElsewhere, FailFreeing, FailNotLru, Shared, Evicted, Failed, PutBack, Warnings;
        public int Passes;
        public List<int> Pagelist { get; } = new();
        public Dictionary<int, IsolateOutcome> LastFailure { get; } = new();

        public MigrationStats Stats(TimeSpan now) => new(Scanned, Isolated, FailPagevec, FailElsewhere, FailFreeing,
            FailNotLru, Shared, Evicted, Failed, PutBack, Passes, now - Start, Warnings);
    }

    /// <summary>The task's marks on pfns for set work done within one handler (<see cref="OrderPagelist"/>, the pages a
    /// swapout pass freed): each user clears its marks before it returns, so runs that overlap share them. A run's
    /// sets of its whole list cost one bit a page of the machine instead of a hash set entry a page.</summary>
    private PfnBitmap PfnMarks => _pfnMarks ??= new PfnBitmap(Topology.TotalPages);

    private PfnBitmap? _pfnMarks;

    // ---- mbind(MPOL_MF_MOVE) ----------------------------------------------------------------------------------

    /// <summary>do_mbind with MOVE: (2.6.16: ENODEV without swap, <c>lru_add_drain_all</c>) → check_range isolating
    /// misplaced pages → mbind_range (the policy is in place before any page moves) → swapout_pages → EIO only with
    /// STRICT and pages left → putback_lru_pages on every path.</summary>
    private void MbindMove(MbindCheck check)
    {
        var run = new MigrationRun("mbind", Trace.Now);
        MigrationPrologue(() =>
        {
            var candidates = new List<int>();
            var err = _state.OwnVmas.CheckRange(check.Start, check.End, check.DiscontigOk,
                (vma, s, e) => CollectMisplaced(vma, s, e, check.Flags, check.Nodes, candidates));
            var skipShared = !Profile.MoveSharedPages && (check.Flags & MpolFlags.MoveAll) == 0;
            IsolateCandidates(run, candidates, skipShared, () =>
            {
                if (err != Errno.None) { FinishMigration(run, () => Complete(SyscallResult.Fail(err))); return; }
                var rangeErr = _state.OwnVmas.MbindRange(check.Start, check.End, check.Policy);
                MbindMigrate(run, check, leftBehind =>
                {
                    var result = rangeErr != Errno.None ? rangeErr
                        : leftBehind && (check.Flags & MpolFlags.Strict) != 0 ? Errno.EIO : Errno.None;
                    FinishMigration(run, () => Complete((result == Errno.None ? SyscallResult.Ok() : SyscallResult.Fail(result))
                        with { Migration = run.Stats(Trace.Now) }));
                });
            });
        }, enodev => Complete(SyscallResult.Fail(enodev)));
    }

    /// <summary>What runs before the page walk in the profile: 2.6.16's ENODEV without swap (the 14 Mar 2006 fix,
    /// which tests <c>nr_swap_pages &lt;= 0</c>), and Nick Piggin's <c>lru_add_drain_all()</c> in check_range.</summary>
    private void MigrationPrologue(Action walk, Action<Errno> fail)
    {
        void Drain()
        {
            if (Profile.DrainAllBeforeWalk)
            {
                LruAddDrainAll(walk);
            }
            else
            {
                walk();
            }
        }
        if (!Profile.EnodevWithoutSwap) { Drain(); return; }
        Directory.Swap.Tell(new SwapDevice.GetSwapInfo(Expect<SwapDevice.SwapInfo>(r =>
        {
            if (r.NrSwapPages <= 0)
            {
                fail(Errno.ENODEV);
            }
            else
            {
                Drain();
            }
        })));
    }

    /// <summary><c>check_pte_range</c> with a page list: every present page on a node outside
    /// <paramref name="allowed"/> is a candidate; non-present PTEs are ignored.</summary>
    private Errno CollectMisplaced(Vma vma, ulong start, ulong end, MpolFlags flags, NodeMask allowed, List<int> into)
    {
        if (!VmaList.CheckRangeWalksVma(vma, flags))
        {
            return Errno.None;
        }

        foreach (var (_, pte) in _state.OwnPageTable.Range(start >> MmConstants.PageShift, end >> MmConstants.PageShift))
        {
            if (!pte.IsPresent || SkipInWalk(pte.Pfn))
            {
                continue;
            }

            if (!allowed.Contains(Topology.PfnToNid(pte.Pfn)))
            {
                into.Add(pte.Pfn);
            }
        }
        return Errno.None;
    }

    // ---- isolate_lru_page with the profile's draining ---------------------------------------------------------

    /// <summary>Isolates every candidate at its node. Pages found without PG_lru are retried once after the drain the
    /// profile's isolate_lru_page does (V1: the other CPUs by IPI; V2: those and the local CPU); pages that still fail
    /// fire V1/V2's <c>WARN_ON(rc == 0)</c> in check_pte_range and are skipped. The kernel drains once per failing
    /// page; one drain per round covers them all, since nothing refills a drained pagevec while mmap_sem is held.</summary>
    private void IsolateCandidates(MigrationRun run, List<int> candidates, bool skipShared, Action then)
    {
        run.Pagelist.EnsureCapacity(candidates.Count);
        run.Scanned += candidates.Count;
        Count(VmEvent.EmuMigrateScanned, candidates.Count);
        IsolateRound(run, candidates, skipShared, firstTry: true, () =>
        {
            OrderPagelist(run.Pagelist, candidates);
            then();
        });
    }

    /// <summary>Puts the isolated pages in the order the kernel's list holds them. check_pte_range isolates page by page
    /// in walk order (a retry after the drain happens at the page's own turn), and V1/V2 <c>isolate_lru_page</c> adds
    /// each at the head (<c>list_add</c>), so the list runs from the last page walked to the first; 2.6.16 adds at the
    /// tail. Here the nodes answer batch by batch, so the list is rebuilt from the walk.</summary>
    private void OrderPagelist(List<int> pagelist, List<int> walk)
    {
        if (pagelist.Count < 2)
        {
            return;
        }

        var isolated = PfnMarks;
        var listed = ArrayPool<int>.Shared.Rent(pagelist.Count);
        var count = pagelist.Count;
        pagelist.CopyTo(listed);
        foreach (var pfn in pagelist)
        {
            isolated.TestAndSet(pfn);
        }

        pagelist.Clear();
        foreach (var pfn in walk)
        {
            if (isolated.TestAndClear(pfn))
            {
                pagelist.Add(pfn);
            }
        }
        // An isolated page the walk does not name leaves the list; its mark goes too, so the marks are clear again.
        foreach (var pfn in listed.AsSpan(0, count))
        {
            isolated.TestAndClear(pfn);
        }

        ArrayPool<int>.Shared.Return(listed);

        if (Profile.IsolateListOrder == IsolateListOrder.Head)
        {
            pagelist.Reverse();
        }
    }

    private void IsolateRound(MigrationRun run, List<int> pfns, bool skipShared, bool firstTry, Action then)
    {
        var notOnLru = new List<int>();
        var batches = Batches(pfns);
        var done = Join(batches.Count, () =>
        {
            if (notOnLru.Count > 0 && firstTry && Profile.IsolateDrain != IsolateDrain.None)
            {
                var nodes = notOnLru.Select(Topology.PfnToNid).Distinct().OrderBy(n => n).ToArray();
                IsolateDrainCpus(nodes, () => IsolateRound(run, notOnLru, skipShared, firstTry: false, then));
                return;
            }
            foreach (var pfn in notOnLru)
            {
                IsolateFailed(run, pfn);
            }

            then();
        });
        foreach (var (node, batch) in batches)
        {
            Directory.Node(node).Tell(new IsolateLruPages(Expect<IsolateLruPagesResult>(res =>
            {
                for (var k = 0; k < res.Pfns.Length; k++)
                {
                    Isolated(run, res.Pfns[k], res.Outcomes[k], notOnLru);
                }

                done();
            }), Self, batch, skipShared));
        }
    }

    private void Isolated(MigrationRun run, int pfn, IsolateOutcome outcome, List<int> notOnLru)
    {
        switch (outcome)
        {
            case IsolateOutcome.Isolated:
                run.Isolated++;
                run.Pagelist.Add(pfn);
                _state.OwnIsolated.Add(pfn);
                Count(VmEvent.EmuMigrateIsolated);
                break;
            case IsolateOutcome.BeingFreed:
                run.FailFreeing++;
                Count(VmEvent.EmuMigrateIsolateFailFreeing);
                break;
            case IsolateOutcome.Shared:
                run.Shared++;
                Count(VmEvent.EmuMigrateSharedSkipped);
                break;
            default:
                notOnLru.Add(pfn);
                run.LastFailure[pfn] = outcome;
                break;
        }
    }

    private void IsolateFailed(MigrationRun run, int pfn)
    {
        var outcome = run.LastFailure.GetValueOrDefault(pfn, IsolateOutcome.NotLru);
        switch (outcome)
        {
            case IsolateOutcome.InPagevec: run.FailPagevec++; Count(VmEvent.EmuMigrateIsolateFailPagevec); break;
            case IsolateOutcome.IsolatedElsewhere: run.FailElsewhere++; Count(VmEvent.EmuMigrateIsolateFailIsolated); break;
            default: run.FailNotLru++; Count(VmEvent.EmuMigrateIsolateFailOther); break;
        }
        if (!Profile.WarnOnIsolateFailure)
        {
            return;
        }

        run.Warnings++;
        Count(VmEvent.EmuWarnOn);
        Trace.Warn("mm/mempolicy.c:check_pte_range", $"WARN_ON(rc == 0): isolate_lru_page failed ({outcome}) task={Pid}", pfn);
        _log.Warning("WARNING at mm/mempolicy.c check_pte_range: task {Task} node {Node} isolate_lru_page(pfn {Pfn}) returned 0 ({Reason})",
            Pid, Topology.PfnToNid(pfn), pfn, outcome);
    }

    /// <summary>The drain inside V1/V2 <c>isolate_lru_page</c>: <c>smp_call_function(lru_add_drain_per_cpu)</c> runs on
    /// every other CPU and waits; V2 adds <c>lru_add_drain()</c> on this CPU.</summary>
    private void IsolateDrainCpus(int[] ackNodes, Action then)
    {
        var cpus = Enumerable.Range(0, Topology.Cpus)
            .Where(c => c != _state.Cpu || Profile.IsolateDrain == IsolateDrain.RemoteAndLocal).ToArray();
        DrainCpus(cpus, ackNodes, then);
    }

    /// <summary><c>lru_add_drain_all()</c>: every CPU drains (keventd via schedule_on_each_cpu), and the caller waits.</summary>
    private void LruAddDrainAll(Action then) =>
        DrainCpus(Enumerable.Range(0, Topology.Cpus).ToArray(), Enumerable.Range(0, Topology.Nodes).ToArray(), then);

    private void DrainCpus(int[] cpus, int[] ackNodes, Action then, string traceName = "lru_add_drain_all")
    {
        Trace.Emit(traceName, $"task={Pid} cpus={string.Join(",", cpus)}");
        var done = Join(cpus.Length * ackNodes.Length, then);
        foreach (var cpu in cpus)
        {
            // Every node of ackNodes acknowledges this CPU's drain once, so the token stays open for that many replies.
            Directory.NodeOfCpu(cpu, Topology).Tell(new LruAddDrain(cpu, Expect<LruAddDrained>(ackNodes.Length, _ => done()), Self, ackNodes));
        }
    }

    // ---- swapout_pages and putback_lru_pages --------------------------------------------------------------------

    /// <summary>V2 <c>swapout_pages</c>: passes over the page list until a pass leaves nothing to retry or pass 10 is
    /// done. Freed pages leave the list; what stays (failed + retry of the last pass) is not evicted.</summary>
    private void SwapoutPages(MigrationRun run, Action then, int pass = 0)
    {
        if (run.Pagelist.Count == 0) { then(); return; }
        run.Passes = pass + 1;
        Count(VmEvent.EmuMigratePasses);
        var retry = 0;
        var failed = 0;
        var batches = Batches(run.Pagelist);
        // The pages each node's pass freed, as its answer carries them: marked, taken off the list and unmarked when the
        // last answer is in.
        var freedLists = new List<int[]>(batches.Count);
        var done = Join(batches.Count, () =>
        {
            var freed = PfnMarks;
            var freedCount = 0;
            foreach (var list in freedLists)
            {
                foreach (var pfn in list)
                {
                    if (freed.TestAndSet(pfn))
                    {
                        freedCount++;
                    }
                }
            }

            run.Pagelist.RemoveAll(freed.Test);
            foreach (var list in freedLists)
            {
                foreach (var pfn in list)
                {
                    if (freed.TestAndClear(pfn))
                    {
                        _state.OwnIsolated.Remove(pfn);
                    }
                }
            }

            run.Evicted += freedCount;
            Count(VmEvent.EmuMigrateEvicted, freedCount);
            if (retry > 0 && pass < MaxPass) { SwapoutPages(run, then, pass + 1); return; }
            run.Failed = failed + retry;
            Count(VmEvent.EmuMigrateFailed, run.Failed);
            then();
        });
        foreach (var (node, batch) in batches)
        {
            Directory.Node(node).Tell(new SwapoutPass(Expect<SwapoutPassResult>(res =>
                {
                    freedLists.Add(res.Freed);
                    retry += res.Retry.Length;
                    failed += res.Failed.Length;
                    done();
                }), Self, pass, batch, Profile.MigrationUnmapIgnoresYoung, Profile.BlockingLockFromPass));
        }
    }

    /// <summary><c>putback_lru_pages</c> for what is left on the list, then the migration's trace event.</summary>
    private void FinishMigration(MigrationRun run, Action then)
    {
        PutbackPages(run.Pagelist, putBack =>
        {
            run.PutBack += putBack;
            foreach (var pfn in run.Pagelist)
            {
                _state.OwnIsolated.Remove(pfn);
            }

            run.Pagelist.Clear();
            Count(VmEvent.EmuMigratePutback, run.PutBack);
            var s = run.Stats(Trace.Now);
            Trace.Emit("mm_migrate_pages", $"task={Pid} reason={run.Reason} {s.TraceFields()}");
            then();
        });
    }

    /// <summary><c>putback_lru_pages(list)</c> at the pages' nodes, in the profile's way (through this CPU's pagevec or
    /// straight onto the lists, dropping the isolation reference or not); <paramref name="then"/> gets the count.</summary>
    private void PutbackPages(List<int> pfns, Action<long> then)
    {
        var batches = Batches(pfns);
        var cpu = Profile.PutbackThroughPagevec ? _state.Cpu : -1;
        var putBack = 0L;
        var done = Join(batches.Count, () => then(putBack));
        foreach (var (node, batch) in batches)
        {
            Directory.Node(node).Tell(new PutbackLruPages(Expect<PutbackDone>(r =>
            {
                putBack += r.PutBack;
                done();
            }), Self, batch, Profile.PutbackDropsReference, cpu));
        }
    }

    /// <summary>The pages of a list grouped by node (nodes in order), in list order, at most MigrateBatch to a message.
    /// Two passes, counting then filling: a list of a whole node's pages never exists, so a large migration allocates
    /// only the messages' arrays.</summary>
    private List<(int Node, int[] Pfns)> Batches(List<int> pfns)
    {
        // Each page's node once (a division per page), into a rented buffer; then each node's pages go into its batches
        // by a cursor, without dividing again.
        var nids = System.Buffers.ArrayPool<int>.Shared.Rent(pfns.Count);
        try
        {
            return Batches(pfns, nids);
        }
        finally
        {
            System.Buffers.ArrayPool<int>.Shared.Return(nids);
        }
    }

    private List<(int Node, int[] Pfns)> Batches(List<int> pfns, int[] nids)
    {
        var perNode = new int[Topology.Nodes];
        for (var k = 0; k < pfns.Count; k++)
        {
            perNode[nids[k] = Topology.PfnToNid(pfns[k])]++;
        }

        var size = Math.Max(1, _machine.Settings.MigrateBatch);
        var batches = new List<(int Node, int[] Pfns)>();
        var batch = new int[Topology.Nodes];   // each node's batch being filled, at first its first in the result
        for (var node = 0; node < perNode.Length; node++)
        {
            batch[node] = batches.Count;
            for (var left = perNode[node]; left > 0; left -= size)
            {
                batches.Add((node, new int[Math.Min(size, left)]));
            }
        }

        var filled = perNode.AsSpan();   // reused: pages in each node's current batch
        filled.Clear();
        for (var k = 0; k < pfns.Count; k++)
        {
            var node = nids[k];
            if (filled[node] == size)
            {
                batch[node]++;
                filled[node] = 0;
            }

            batches[batch[node]].Pfns[filled[node]++] = pfns[k];
        }

        return batches;
    }

    // ---- the swapout operation ----------------------------------------------------------------------------------

    /// <summary>Evicts every present page of a range through the migration path, regardless of policy.</summary>
    private void DoSwapout(Swapout m)
    {
        if ((m.Addr & (MmConstants.PageSize - 1)) != 0 || m.Pages < 0) { Complete(SyscallResult.Fail(Errno.EINVAL)); return; }
        var run = new MigrationRun("swapout", Trace.Now);
        var first = m.Addr >> MmConstants.PageShift;
        var candidates = _state.OwnPageTable.Range(first, first + (ulong)m.Pages)
            .Where(e => e.Pte.IsPresent && e.Pte.Pfn != Topology.ZeroPfn).Select(e => e.Pte.Pfn).ToList();
        MigrationPrologue(() => IsolateCandidates(run, candidates, skipShared: false, () => SwapoutPages(run, () =>
            FinishMigration(run, () => Complete(SyscallResult.Ok(run.Failed) with { Migration = run.Stats(Trace.Now) })))),
            err => Complete(SyscallResult.Fail(err)));
    }

    // ---- migrate_pages(2) ---------------------------------------------------------------------------------------

    /// <summary><c>sys_migrate_pages</c>: ENOSYS before 2.6.16 (no such syscall: sys_ni_syscall); the node masks; the
    /// target from the task list (0 = self; ESRCH if no task has the pid, EINVAL if it has no mm: a zombie); the
    /// caller's uid or euid against the target's uid or suid unless CAP_SYS_NICE (EPERM); the target nodes; then the
    /// target runs do_migrate_pages on its mm. The return value is the number of pages not moved.</summary>
    /// <remarks>Kernel: 2.6.16 mm/mempolicy.c sys_migrate_pages(); kernel/sys_ni.c (cond_syscall before 2.6.16).</remarks>
    private void DoMigratePagesCall(MigratePages m)
    {
        if (!Profile.MigratePagesSyscall) { Complete(SyscallResult.Fail(Errno.ENOSYS)); return; }
        var err = SyscallChecks.CheckMigratePagesNodes(m.MaxNode, m.OldNodes, m.NodemaskFault, m.NewNodes, m.NodemaskFault, out var from, out var to);
        if (err != Errno.None) { Complete(SyscallResult.Fail(err)); return; }
        WithTargetMm(m.Pid, found =>
        {
            var denied = SyscallChecks.CheckMigratePagesTargetNodes(to, Topology.OnlineNodes, _state.SysNice, Topology.OnlineNodes);
            if (denied != Errno.None) { Complete(SyscallResult.Fail(denied)); return; }
            var flags = SyscallChecks.MigratePagesFlags(_state.SysNice);
            found.Task.Tell(new DoMigratePages(Expect<MigratePagesDone>(done =>
            {
                // do_migrate_pages returns a negative errno (2.6.16: -ENODEV from check_range without swap) or the count
                // of pages not moved; sys_migrate_pages hands either back, so a negative one is a failure (-1, errno).
                var result = done.NotMoved < 0 ? SyscallResult.Fail((Errno)(-done.NotMoved)) : SyscallResult.Ok(done.NotMoved);
                Complete(result with { Migration = done.Stats });
            }), Self, from, to, flags));
        });
    }

    /// <summary>The start sys_migrate_pages and sys_move_pages share: <c>find_task_by_pid</c> (ESRCH) and
    /// <c>get_task_mm</c> (EINVAL for a task without an mm), then, unless the caller has CAP_SYS_NICE, the caller's
    /// uid or euid must match the target's uid or suid (EPERM). <paramref name="then"/> goes on with the target.</summary>
    /// <remarks>Kernel: mm/mempolicy.c sys_migrate_pages(), mm/migrate.c sys_move_pages() (2.6.18).</remarks>
    private void WithTargetMm(int pidArgument, Action<KernelRoot.TaskMm> then)
    {
        var pid = pidArgument == 0 ? Pid : pidArgument;
        Directory.Kernel.Tell(new KernelRoot.FindTaskMm(Expect<KernelRoot.TaskMm>(found =>
        {
            if (found.Task is null) { Complete(SyscallResult.Fail(Errno.ESRCH)); return; }
            if (!found.HasMm) { Complete(SyscallResult.Fail(Errno.EINVAL)); return; }
            var sameUid = _state.Euid == found.Suid || _state.Euid == found.Uid || _state.Uid == found.Suid || _state.Uid == found.Uid;
            var denied = SyscallChecks.CheckMigratePagesPermission(pid == Pid, sameUid, _state.SysNice);
            if (denied != Errno.None) { Complete(SyscallResult.Fail(denied)); return; }
            then(found);
        }), pid));
    }

    /// <summary>2.6.16 <c>do_migrate_pages</c> in its swap form: evict every page on a node of old_nodes that is not in
    /// new_nodes (check_range over the whole mm with DISCONTIG_OK), then swap_pages and putback.</summary>
    private void HandleDoMigratePages(DoMigratePages m)
    {
        if (Profile.DirectMigration || Profile.DirectViaSwapCache) { HandleDoMigratePagesDirect(m); return; }
        var allowed = new NodeMask(~m.From.Without(m.To).Bits);
        var run = new MigrationRun("migrate_pages", Trace.Now);
        void Reply() => m.Caller.Tell(new MigratePagesDone(m.Token, run.Failed, run.Stats(Trace.Now)));
        MigrationPrologue(() =>
        {
            var candidates = new List<int>();
            var vmas = _state.OwnVmas.All;
            if (vmas.Count > 0)
            {
                _state.OwnVmas.CheckRange(vmas[0].Start, vmas[^1].End, discontigOk: true,
                    (vma, s, e) => CollectMisplaced(vma, s, e, m.Flags, allowed, candidates));
            }

            var skipShared = !Profile.MoveSharedPages && (m.Flags & MpolFlags.MoveAll) == 0;
            IsolateCandidates(run, candidates, skipShared, () => SwapoutPages(run, () => FinishMigration(run, Reply)));
        }, _ => { run.Failed = 0; m.Caller.Tell(new MigratePagesDone(m.Token, -(long)Errno.ENODEV, run.Stats(Trace.Now))); });
    }
}

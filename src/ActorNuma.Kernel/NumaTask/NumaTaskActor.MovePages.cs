using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary><c>move_pages(2)</c> as 2.6.18 has it: the caller checks its arguments and the target task, the target
/// runs <c>do_move_pages</c> (or <c>do_pages_stat</c> for a NULL nodes array) on its mm, and the status array is copied
/// out only when the result is not negative.</summary>
/// <remarks>Kernel: 2.6.18 mm/migrate.c sys_move_pages(), do_move_pages(), do_pages_stat(), new_page_node().</remarks>
public sealed partial class NumaTaskActor
{
    private readonly Queue<DoMovePages> _deferredMoves = new();

    /// <summary><c>sys_move_pages</c>: ENOSYS before 2.6.18; flags other than MOVE|MOVE_ALL → EINVAL; MOVE_ALL without
    /// CAP_SYS_NICE → EPERM; the task (0 = self) from the task list: none → ESRCH, no mm → EINVAL; the uid test of
    /// sys_migrate_pages → EPERM; E2BIG; then the arrays entry by entry (EFAULT, ENODEV, EACCES). Every online node is
    /// in every task's cpuset here, so EACCES cannot happen.</summary>
    private void DoMovePagesCall(MovePages m)
    {
        if (!Profile.MovePagesSyscall) { Complete(SyscallResult.Fail(Errno.ENOSYS)); return; }
        var err = SyscallChecks.CheckMovePagesFlags(m.Flags, _state.SysNice);
        if (err != Errno.None) { Complete(SyscallResult.Fail(err)); return; }
        WithTargetMm(m.Pid, found =>
        {
            var denied = SyscallChecks.CheckMovePagesArrays(m.NrPages, m.Pages.Length, m.Nodes, m.Fault, Topology.OnlineNodes, Topology.OnlineNodes);
            if (denied != Errno.None) { Complete(SyscallResult.Fail(denied)); return; }
            var count = (int)m.NrPages;
            var pages = m.Pages[..count];
            var nodes = m.Nodes?[..count];
            found.Task.Tell(new DoMovePages(Expect<MovePagesDone>(done =>
            {
                if (done.Ret < 0) { Complete(SyscallResult.Fail((Errno)(-done.Ret)) with { Migration = done.Stats }); return; }
                // "if (put_user(pm[i].status, status + i)) err = -EFAULT": the pages have moved all the same.
                if (m.Fault == MovePagesFault.Status && count > 0) { Complete(SyscallResult.Fail(Errno.EFAULT) with { Migration = done.Stats }); return; }
                Complete(SyscallResult.Ok(done.Ret) with { Status = done.Status, Migration = done.Stats });
            }), Self, pages, nodes, (MpolFlags)m.Flags & MpolFlags.MoveAll));
        });
    }

    /// <summary>The target's side: under mmap_sem (read), <c>do_pages_stat</c> or <c>do_move_pages</c>.</summary>
    private void HandleDoMovePages(DoMovePages m)
    {
        _mmReaders++;
        void Reply(long ret, int[] status, MigrationStats? stats)
        {
            m.Caller.Tell(new MovePagesDone(m.Token, ret, status, stats));
            MmReaderDone();
        }
        if (m.Nodes is null) { Reply(0, PagesStat(m.Pages), null); return; }
        var run = new MigrationRun("move_pages", Trace.Now);
        LruAddDrainAll(() => DoMovePages(run, m, (ret, status) => Reply(ret, status, run.Stats(Trace.Now))));
    }

    /// <summary>What <c>find_vma</c> + <c>follow_page</c> find at an address: -EFAULT without a VMA at or above it
    /// (a hole below a VMA is not noticed), -ENOENT without a present page or for the zero page (PageReserved), else
    /// the frame.</summary>
    private int FollowPage(ulong addr, out int pfn)
    {
        pfn = -1;
        if (_state.OwnVmas.FindVma(addr) is null)
        {
            return -(int)Errno.EFAULT;
        }

        var pte = _state.OwnPageTable.Get(addr >> MmConstants.PageShift);
        if (!pte.IsPresent || pte.Pfn == Topology.ZeroPfn)
        {
            return -(int)Errno.ENOENT;
        }

        pfn = pte.Pfn;
        return Topology.PfnToNid(pfn);
    }

    /// <summary><c>do_pages_stat</c>: each page's node, -ENOENT or -EFAULT; nothing is faulted in.</summary>
    private int[] PagesStat(ulong[] pages) => pages.Select(addr => FollowPage(addr, out _)).ToArray();

    /// <summary><c>do_move_pages</c>: per entry in order, the page's status (-EFAULT, -ENOENT, already on the node → the
    /// node, mapped more than once without MOVE_ALL → -EACCES), else <c>isolate_lru_page</c> (0 or -EBUSY). Nothing
    /// isolated → -ENOENT; else migrate_pages with <c>new_page_node</c>, whose <c>*result</c> overwrites the status of
    /// each page it handled: the new node or the error.</summary>
    private void DoMovePages(MigrationRun run, DoMovePages m, Action<long, int[]> then)
    {
        var status = new int[m.Pages.Length];
        var targetOf = new Dictionary<int, int>();
        var toIsolate = new List<(int Index, int Pfn)>();
        for (var i = 0; i < m.Pages.Length; i++)
        {
            var nid = FollowPage(m.Pages[i], out var pfn);
            status[i] = nid;
            if (pfn < 0 || nid == m.Nodes![i])
            {
                continue;
            }

            toIsolate.Add((i, pfn));
            // new_page_node: the first entry naming the page decides its target.
            targetOf.TryAdd(pfn, m.Nodes[i]);
        }
        run.Scanned += toIsolate.Count;
        Count(VmEvent.EmuMigrateScanned, toIsolate.Count);
        IsolateForMovePages(run, toIsolate, (m.Flags & MpolFlags.MoveAll) == 0, status, () =>
        {
            if (run.Pagelist.Count == 0) { FinishMigration(run, () => then(-(long)Errno.ENOENT, status)); return; }
            var results = new Dictionary<int, int>();
            MigratePagesDirect(run, pfn => NodePlan(targetOf[pfn]), results, rc => FinishMigration(run, () =>
            {
                foreach (var (index, pfn) in toIsolate)
                {
                    if (results.TryGetValue(pfn, out var result) && status[index] == 0)
                    {
                        status[index] = result;
                    }
                }

                then(rc, status);
            }));
        });
    }

    /// <summary>The mapcount test and <c>isolate_lru_page(page, &amp;pagelist)</c> for each entry, one request per node:
    /// Shared → -EACCES; isolated → 0; anything else (not on the LRU: in a pagevec, isolated by kswapd or by an earlier
    /// entry naming the same page) → -EBUSY. The list keeps the entries' order (<c>list_add_tail</c>).</summary>
    private void IsolateForMovePages(MigrationRun run, List<(int Index, int Pfn)> entries, bool skipShared, int[] status, Action then)
    {
        var byNode = entries.GroupBy(e => Topology.PfnToNid(e.Pfn)).OrderBy(g => g.Key).ToList();
        var isolated = new HashSet<int>();
        var done = Join(byNode.Count, () =>
        {
            // One isolation per page: an entry repeating a page isolated by an earlier one gets -EBUSY.
            foreach (var (index, pfn) in entries)
            {
                if (status[index] != 0 || !isolated.Remove(pfn)) { if (status[index] == 0) { status[index] = -(int)Errno.EBUSY; } continue; }
                run.Pagelist.Add(pfn);
            }
            then();
        });
        foreach (var group in byNode)
        {
            var list = group.ToList();
            var pfns = list.Select(e => e.Pfn).Distinct().ToArray();
            Directory.Node(group.Key).Tell(new IsolateLruPages(Expect<IsolateLruPagesResult>(res =>
            {
                var outcome = new Dictionary<int, IsolateOutcome>();
                for (var k = 0; k < res.Pfns.Length; k++)
                {
                    outcome[res.Pfns[k]] = res.Outcomes[k];
                }

                var seen = new HashSet<int>();
                foreach (var (index, pfn) in list)
                {
                    var o = outcome[pfn];
                    if (!seen.Add(pfn)) { status[index] = o == IsolateOutcome.Shared ? -(int)Errno.EACCES : 0; continue; }
                    switch (o)
                    {
                        case IsolateOutcome.Isolated:
                            status[index] = 0;
                            isolated.Add(pfn);
                            _state.OwnIsolated.Add(pfn);
                            run.Isolated++;
                            Count(VmEvent.EmuMigrateIsolated);
                            break;
                        case IsolateOutcome.Shared:
                            status[index] = -(int)Errno.EACCES;
                            run.Shared++;
                            Count(VmEvent.EmuMigrateSharedSkipped);
                            break;
                        default:
                            status[index] = -(int)Errno.EBUSY;
                            run.FailNotLru++;
                            break;
                    }
                }
                done();
            }), Self, pfns, skipShared));
        }
    }
}

using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>2.6.18 <c>migrate_pages(from, get_new_page, private)</c>: up to 10 passes over the isolated pages; in each,
/// a target page is allocated for every page still on the list (<c>get_new_page</c>), then each page's node runs
/// <c>unmap_and_move(page, force = pass &gt; 2)</c>. -EAGAIN pages are retried; moved pages and permanent failures
/// leave the list; whatever is left at the end is put back. The callers: mbind(MPOL_MF_MOVE) with
/// <c>new_vma_page</c>, migrate_pages(2) with <c>new_node_page</c> and move_pages(2) with <c>new_page_node</c>.</summary>
/// <remarks>Kernel: 2.6.18 mm/migrate.c migrate_pages(); mm/mempolicy.c new_vma_page(), new_node_page(),
/// do_migrate_pages(), migrate_to_node().</remarks>
public sealed partial class NumaTaskActor
{
    /// <summary>2.6.18: <c>for (pass = 0; pass &lt; 10 &amp;&amp; retry; pass++)</c>.</summary>
    private const int DirectMaxPasses = 10;

    /// <summary>Readers of this task's mmap_sem that run on its behalf (another task's move_pages or migrate_pages in
    /// the direct form): a syscall that takes mmap_sem for writing waits for them, as down_write does.</summary>
    private int _mmReaders;

    private bool MmapSemWriterWaits(Syscall next) =>
        _mmReaders > 0 && next is Mbind or Mmap or Munmap or Exit or Fork;

    private void MmReaderDone()
    {
        _mmReaders--;
        if (_current is null)
        {
            RunNext();
        }
    }

    /// <summary><c>migrate_pages()</c> of 2.6.18 over <c>run.Pagelist</c>. <paramref name="targetOf"/> is get_new_page:
    /// the allocation plan for a page. <paramref name="results"/>, when given, receives <c>*result</c> per page (the new
    /// node, or the error). <paramref name="then"/> gets the return value: <c>nr_failed + retry</c>, or -ENOMEM when a
    /// target could not be allocated (every page is then put back).</summary>
    private void MigratePagesDirect(MigrationRun run, Func<int, AllocPlan> targetOf, Dictionary<int, int>? results, Action<long> then)
    {
        var nrFailed = 0;
        void Pass(int pass)
        {
            if (run.Pagelist.Count == 0) { Done(0); return; }
            run.Passes = pass + 1;
            Count(VmEvent.EmuMigratePasses);
            AllocateTargets(run.Pagelist, targetOf, _state.Cpu, targets =>
            {
                if (targets is null) { Done(-(long)Errno.ENOMEM); return; }
                var retry = 0;
                var batches = Batches(run.Pagelist);
                var done = Join(batches.Count, () =>
                {
                    if (retry > 0 && pass + 1 < DirectMaxPasses) { Pass(pass + 1); return; }
                    Done(nrFailed + retry);
                });
                foreach (var (node, batch) in batches)
                {
                    var items = batch.Select(pfn => new MigrateItem(pfn, targets[pfn])).ToArray();
                    Directory.Node(node).Tell(new MigratePass(Expect<MigratePassResult>(res =>
                    {
                        for (var k = 0; k < res.Pfns.Length; k++)
                        {
                            var pfn = res.Pfns[k];
                            if (results is not null)
                            {
                                results[pfn] = res.Results[k];
                            }

                            switch (res.Verdicts[k])
                            {
                                case MigrateVerdict.Moved:
                                    run.Evicted++;
                                    LeaveList(run, pfn);
                                    break;
                                case MigrateVerdict.Failed:
                                    nrFailed++;
                                    LeaveList(run, pfn);
                                    break;
                                case MigrateVerdict.Retry:
                                    retry++;
                                    break;
                            }
                        }
                        done();
                    }), Self, pass, pass > 2, items, _state.Cpu));
                }
            });
        }
        void Done(long rc)
        {
            run.Failed = rc < 0 ? run.Pagelist.Count : rc;
            Count(VmEvent.EmuMigrateEvicted, run.Evicted);
            Count(VmEvent.EmuMigrateFailed, run.Failed);
            then(rc);
        }
        Pass(0);
    }

    private void LeaveList(MigrationRun run, int pfn)
    {
        run.Pagelist.Remove(pfn);
        _state.OwnIsolated.Remove(pfn);
    }

    /// <summary><c>get_new_page</c> for every page of the list: one GFP_HIGHUSER allocation each through
    /// <c>__alloc_pages</c> with its slow path, grouped by plan. The kernel allocates page by page inside the pass and
    /// aborts the pass at the first failure with -ENOMEM; here a pass's targets come together, and if any fails the
    /// ones obtained are released (through <paramref name="releaseCpu"/>'s pagevec, or freed at once for -1) and the
    /// whole call ends with -ENOMEM.</summary>
    private void AllocateTargets(List<int> pagelist, Func<int, AllocPlan> targetOf, int releaseCpu, Action<Dictionary<int, int>?> then)
    {
        var targets = new Dictionary<int, int>(pagelist.Count);
        var groups = new List<(AllocPlan Plan, List<int> Pfns)>();
        foreach (var pfn in pagelist)
        {
            var plan = targetOf(pfn);
            var group = groups.FindIndex(g => g.Plan.Interleave == plan.Interleave && g.Plan.Zonelist.AsSpan().SequenceEqual(plan.Zonelist));
            if (group < 0)
            {
                groups.Add((plan, [pfn]));
            }
            else
            {
                groups[group].Pfns.Add(pfn);
            }
        }
        var failed = false;
        var done = Join(groups.Count, () =>
        {
            if (!failed) { then(targets); return; }
            foreach (var byNode in targets.Values.GroupBy(Topology.PfnToNid))
            {
                Directory.Node(byNode.Key).Tell(new ReleaseMigrationTargets(byNode.ToArray(), releaseCpu));
            }

            then(null);
        });
        var op = new TouchOp(new Touch(0, 0, false));
        foreach (var (plan, pfns) in groups)
        {
            var items = pfns.Select((pfn, k) => new AllocItem((uint)k, 0, 0)).ToArray();
            Allocate(plan, items, AllocPurpose.MigrateTarget, op,
                onPage: p => targets[pfns[(int)p.Vpn]] = p.Pfn, onMapped: _ => { }, onRaced: _ => { },
                onOom: _ => failed = true, completed: done);
        }
    }

    /// <summary><c>new_node_page</c>: <c>alloc_pages_node(node, GFP_HIGHUSER, 0)</c>, the node's own zonelist with
    /// fallback (2.6.19 added __GFP_THISNODE for move_pages).</summary>
    private AllocPlan NodePlan(int node) => new(_machine.Zonelists[node], node, Interleave: false);

    /// <summary><c>new_vma_page(page, vma)</c>: <c>alloc_page_vma(GFP_HIGHUSER, vma, page_address_in_vma(page, vma))</c>
    /// with the first VMA of the mbind range only; a page of a later VMA gets <c>-EFAULT</c> as its address (the bug
    /// fixed in Nov 2007), which matters only for interleave.</summary>
    private AllocPlan NewVmaPagePlan(Vma? vma, ulong vpn)
    {
        var addr = vma is not null && vma.Contains(vpn << MmConstants.PageShift) ? vpn << MmConstants.PageShift : unchecked((ulong)-(long)Errno.EFAULT);
        var policy = PolicyAllocation.EffectivePolicy(vma, _state.Policy);
        return PolicyAllocation.PlanAllocVma(policy, vma, addr, CpuNode, _machine.Zonelists, ref _ilNext);
    }

    /// <summary>The pages a page walk isolated, with the page each maps at (for <c>new_vma_page</c>).</summary>
    private Dictionary<int, ulong> VpnsOfPresent()
    {
        var vpns = new Dictionary<int, ulong>();
        foreach (var (vpn, pte) in _state.OwnPageTable.Entries())
        {
            if (pte.IsPresent && pte.Pfn != Topology.ZeroPfn)
            {
                vpns.TryAdd(pte.Pfn, vpn);
            }
        }

        return vpns;
    }

    /// <summary>mbind's migration step in the profile's form: swapout_pages (swap), 2.6.16's migrate_pages_to through the
    /// swap cache, or 2.6.18's migrate_pages with new_vma_page; then whether pages were left behind, which with
    /// MPOL_MF_STRICT is EIO.</summary>
    private void MbindMigrate(MigrationRun run, MbindCheck check, Action<bool> then)
    {
        var vma = _state.OwnVmas.FindVma(check.Start);
        if (!Profile.DirectMigration && Profile.DirectViaSwapCache)
        {
            // 2.6.16 do_mbind: "if (!list_empty(&pagelist)) nr_failed = migrate_pages_to(&pagelist, vma, -1);
            // if (!err && nr_failed && (flags & MPOL_MF_STRICT)) err = -EIO;" — -ENOMEM is nonzero too.
            if (run.Pagelist.Count == 0) { then(false); return; }
            MigratePagesTo(run, vma, -1, rc => then(rc != 0));
            return;
        }
        if (!Profile.DirectMigration) { SwapoutPages(run, () => then(run.Pagelist.Count > 0)); return; }
        var vpns = VpnsOfPresent();
        // 2.6.18 do_mbind: nr_failed = migrate_pages(...); "if (nr_failed && (flags & MPOL_MF_STRICT)) err = -EIO" —
        // a -ENOMEM counts as failed too.
        MigratePagesDirect(run, pfn => NewVmaPagePlan(vma, vpns[pfn]), null, rc => then(rc != 0));
    }

    /// <summary>2.6.18 <c>do_migrate_pages</c>: node pairs from <c>node_remap(s, from, to)</c>, preferring a source whose
    /// destination is not itself still to be emptied; for each pair <c>migrate_to_node</c> walks the whole mm for pages
    /// on the source (MPOL_MF_DISCONTIG_OK) and moves them with <c>new_node_page</c>. Returns the pages not moved, or
    /// the first negative error.</summary>
    private void HandleDoMigratePagesDirect(DoMigratePages m)
    {
        _mmReaders++;
        var run = new MigrationRun("migrate_pages", Trace.Now);
        var tmp = m.From;
        long busy = 0;
        void Reply(long rc)
        {
            m.Caller.Tell(new MigratePagesDone(m.Token, rc, run.Stats(Trace.Now)));
            MmReaderDone();
        }
        void NextPair()
        {
            var source = -1;
            var dest = 0;
            foreach (var s in tmp.Nodes())
            {
                var d = NodeRemap(s, m.From, m.To);
                if (s == d)
                {
                    continue;
                }

                source = s;
                dest = d;
                if (!tmp.Contains(dest))
                {
                    break;
                }
            }
            if (source == -1) { Reply(busy); return; }
            tmp = tmp.Without(NodeMask.Of(source));
            MigrateToNode(run, source, dest, m.Flags, rc =>
            {
                if (rc < 0) { Reply(rc); return; }
                busy += rc;
                NextPair();
            });
        }
        if (Profile.DirectMigration)
        {
            LruAddDrainAll(NextPair);   // migrate_prep()
        }
        else
        {
            NextPair();   // 2.6.16: each migrate_to_node's check_range drains
        }
    }

    /// <summary><c>node_remap(oldbit, old, new)</c> = bitmap_bitremap: the n-th node of <paramref name="from"/> maps to
    /// the (n mod weight)-th node of <paramref name="to"/>; a node outside <paramref name="from"/> or an empty
    /// <paramref name="to"/> maps to itself.</summary>
    /// <remarks>Kernel: lib/bitmap.c bitmap_bitremap().</remarks>
    internal static int NodeRemap(int node, NodeMask from, NodeMask to)
    {
        if (!from.Contains(node) || to.IsEmpty)
        {
            return node;
        }

        var ord = NodeMask.Of(from.Nodes().Where(n => n < node)).Weight;
        return to.Nth(ord % to.Weight);
    }

    /// <summary><c>migrate_to_node(mm, source, dest, flags)</c>. In 2.6.16 its check_range tests for swap and drains
    /// first (<see cref="MigrationPrologue"/>), and migrate_to_node ignores what check_range returns: without swap the
    /// list stays empty and the node pair counts 0 pages not moved, not ENODEV.</summary>
    private void MigrateToNode(MigrationRun run, int source, int dest, MpolFlags flags, Action<long> then)
    {
        if (!Profile.DirectMigration)
        {
            MigrationPrologue(() => MigrateToNodeWalk(run, source, dest, flags, then), _ => then(0));
            return;
        }
        MigrateToNodeWalk(run, source, dest, flags, then);
    }

    private void MigrateToNodeWalk(MigrationRun run, int source, int dest, MpolFlags flags, Action<long> then)
    {
        var candidates = new List<int>();
        var vmas = _state.OwnVmas.All;
        var onSource = new NodeMask(~NodeMask.Of(source).Bits);
        if (vmas.Count > 0)
        {
            _state.OwnVmas.CheckRange(vmas[0].Start, vmas[^1].End, discontigOk: true,
                (vma, s, e) => CollectMisplaced(vma, s, e, flags, onSource, candidates));
        }

        var skipShared = (flags & MpolFlags.MoveAll) == 0;
        IsolateCandidates(run, candidates, skipShared, () =>
        {
            if (run.Pagelist.Count == 0) { then(0); return; }
            if (!Profile.DirectMigration)
            {
                MigratePagesTo(run, null, dest, rc => FinishMigration(run, () => then(rc)));
                return;
            }
            MigratePagesDirect(run, _ => NodePlan(dest), null, rc => FinishMigration(run, () => then(rc)));
        });
    }
}

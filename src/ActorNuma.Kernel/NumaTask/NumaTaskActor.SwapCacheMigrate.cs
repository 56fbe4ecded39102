using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>2.6.16 direct migration through the swap cache (Lameter's "Direct Migration V9", merged for 2.6.16-rc1):
/// <c>migrate_pages_to()</c> allocates new pages for up to a chunk of the list, then <c>migrate_pages(from, to, moved,
/// failed)</c> makes up to 11 passes (<c>if (retry &amp;&amp; pass++ &lt; 10) goto redo</c>) over the pages left, giving each
/// anonymous page a swap slot and copying the swap-cache page into <c>lru_to_page(to)</c>, the tail of the new pages;
/// moved pages are put back (and freed), the targets not used are freed, and failures are spliced back onto the list.
/// The callers: mbind(MPOL_MF_MOVE) with the VMA (each target allocated at a made-up address, <c>vm_start</c> plus an
/// offset that grows page by page) and migrate_pages(2) with <c>migrate_to_node()</c>'s node.</summary>
/// <remarks>Kernel: 2.6.16 mm/mempolicy.c migrate_pages_to(), migrate_to_node(), do_migrate_pages(), do_mbind();
/// mm/vmscan.c migrate_pages().</remarks>
public sealed partial class NumaTaskActor
{
    /// <summary>2.6.16 mm/mempolicy.c: <c>#define MIGRATE_CHUNK_SIZE 256</c>. The loop that allocates a chunk adds the page
    /// before it tests <c>nr_pages &gt; MIGRATE_CHUNK_SIZE</c>, so a chunk holds 257 new pages.</summary>
    internal const int MigrateChunkSize = 256;

    /// <summary><c>migrate_pages_to(pagelist, vma, dest)</c>: chunk after chunk while the previous one used all its new
    /// pages and pages are left. <paramref name="then"/> gets the pages left on the list (the failed ones spliced back
    /// in), or -ENOMEM when a new page could not be allocated.</summary>
    private void MigratePagesTo(MigrationRun run, Vma? vma, int dest, Action<long> then)
    {
        var offset = 0UL;
        var failed = new List<int>();
        void Redo()
        {
            var chunk = run.Pagelist.GetRange(0, Math.Min(run.Pagelist.Count, MigrateChunkSize + 1));
            var plans = new Dictionary<int, AllocPlan>(chunk.Count);
            foreach (var pfn in chunk)
            {
                plans[pfn] = vma is null ? NodePlan(dest) : FakeAddressPlan(vma, vma.Start + offset);
                offset += MmConstants.PageSize;
            }
            AllocateTargets(chunk, pfn => plans[pfn], releaseCpu: -1, targets =>
            {
                if (targets is null) { Out(-(long)Errno.ENOMEM, []); return; }
                var newlist = chunk.Select(pfn => targets[pfn]).ToList();   // list_add_tail, in allocation order
                MigratePagesSwapCache(run, newlist, failed, (err, moved) => PutbackMoved(moved, () =>
                {
                    if (err >= 0 && newlist.Count == 0 && run.Pagelist.Count > 0) { Redo(); return; }
                    Out(err, newlist);
                }));
            });
        }
        void Out(long err, List<int> newlist)
        {
            foreach (var byNode in newlist.GroupBy(Topology.PfnToNid))
            {
                Directory.Node(byNode.Key).Tell(new ReleaseMigrationTargets(byNode.ToArray(), -1));   // __free_page
            }

            run.Pagelist.InsertRange(0, failed);   // list_splice(&failed, pagelist)
            run.Failed = run.Pagelist.Count;
            Count(VmEvent.EmuMigrateFailed, run.Failed);
            then(err < 0 ? err : run.Pagelist.Count);
        }
        Redo();
    }

    /// <summary><c>alloc_page_vma(GFP_HIGHUSER, vma, offset + vma-&gt;vm_start)</c>: "No decision has been made as to which
    /// page a certain old page is moved to so we cannot specify the correct address", so interleave places the n-th new
    /// page at the n-th offset of the VMA, whichever page it then receives.</summary>
    private AllocPlan FakeAddressPlan(Vma vma, ulong addr) =>
        PolicyAllocation.PlanAllocVma(PolicyAllocation.EffectivePolicy(vma, _state.Policy), vma, addr, CpuNode, _machine.Zonelists, ref _ilNext);

    /// <summary>2.6.16 <c>migrate_pages(from, to, moved, failed)</c> over <c>run.Pagelist</c>. Each pass walks the list in
    /// order while new pages are left (<c>if (to &amp;&amp; list_empty(to)) break;</c>), one page at a time as the kernel's
    /// single CPU does: a page that gets as far as the copy takes the tail of <paramref name="to"/> and leaves the swap
    /// cache before the next page asks for a slot, so a move needs one free slot at a time however many pages it moves.
    /// -EAGAIN pages stay for the next pass, -ENOMEM ones (no swap slot) go to <paramref name="failed"/>, moved ones to
    /// the moved list. <paramref name="then"/> gets <c>nr_failed + retry</c> and the moved pages.</summary>
    private void MigratePagesSwapCache(MigrationRun run, List<int> to, List<int> failed, Action<long, List<int>> then)
    {
        var nrFailed = 0;
        var moved = new List<int>();
        void Pass(int pass)
        {
            run.Passes++;
            Count(VmEvent.EmuMigratePasses);
            var retry = 0;
            var walk = run.Pagelist.ToArray();   // list_for_each_entry_safe
            var cursor = 0;
            void Next()
            {
                if (cursor >= walk.Length || to.Count == 0)
                {
                    if (retry > 0 && pass < MaxPass) { Pass(pass + 1); return; }
                    then(nrFailed + retry, moved);
                    return;
                }
                var pfn = walk[cursor++];
                Directory.Node(Topology.PfnToNid(pfn)).Tell(new MigrateSwapCachePass(Expect<MigratePassResult>(res =>
                {
                    switch (res.Verdicts[0])
                    {
                        case MigrateVerdict.FreedUnderUs:
                            LeaveForMoved(run, moved, pfn);
                            break;
                        case MigrateVerdict.Retry:
                            retry++;
                            break;
                        case MigrateVerdict.Failed:
                            nrFailed++;
                            failed.Add(pfn);
                            run.Pagelist.Remove(pfn);
                            break;
                        case MigrateVerdict.Ready:
                            var newpage = to[^1];   // newpage = lru_to_page(to)
                            to.RemoveAt(to.Count - 1);
                            CopyReadyPage(run, pfn, newpage, moved, Next);
                            return;
                    }
                    Next();
                }), Self, pass, [pfn], _state.Cpu));
            }
            Next();
        }
        Pass(0);
    }

    private static void LeaveForMoved(MigrationRun run, List<int> moved, int pfn)
    {
        moved.Add(pfn);
        run.Pagelist.Remove(pfn);
    }

    /// <summary>The ready page's <c>migrate_page()</c> from the copy on, at its node; then it is on the moved list.</summary>
    private void CopyReadyPage(MigrationRun run, int pfn, int newpage, List<int> moved, Action then) =>
        Directory.Node(Topology.PfnToNid(pfn)).Tell(new MigrateSwapCacheCopy(Expect<MigratePassResult>(_ =>
        {
            LeaveForMoved(run, moved, pfn);
            run.Evicted++;
            Count(VmEvent.EmuMigrateEvicted);   // copied; a page freed under us moves without a copy
            then();
        }), Self, [new MigrateItem(pfn, newpage)], _state.Cpu));

    /// <summary><c>putback_lru_pages(&amp;moved)</c>: the old pages, which hold only the isolation reference now, go back
    /// through the pagevec and are freed when it drains ("Call release pages instead ??").</summary>
    private void PutbackMoved(List<int> moved, Action then)
    {
        PutbackPages(moved, _ =>
        {
            foreach (var pfn in moved)
            {
                _state.OwnIsolated.Remove(pfn);
            }

            then();
        });
    }
}

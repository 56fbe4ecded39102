using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>The seed's other uses of migration, memory hotplug and bad pages: <c>offline_pages()</c> (2.6.24
/// mm/memory_hotplug.c, memory hot-remove) and <c>soft_offline_page()</c> (2.6.33 mm/memory-failure.c), each driving
/// the profile's own migration path (swapout_pages for the swap profiles, 2.6.18 migrate_pages for the direct one) in
/// the context of the task that asked, as the kernel runs them in the process that writes to sysfs.</summary>
/// <remarks>Neither existed in 2.6.14–2.6.18: 2.6.15 brought mm/memory_hotplug.c with <c>online_pages()</c> only
/// (memory hot-add; <c>remove_memory()</c> returned -EINVAL until 2.6.24), offline_pages came with the memory unplug
/// series in 2.6.24, and soft_offline_page in 2.6.33. What they do around the migration is mirrored from those
/// kernels; the migration itself is the profile's.</remarks>
public sealed partial class NumaTaskActor
{
    /// <summary>2.6.24 offline_pages: <c>retry_max = 5</c> rounds of scan, migrate and check before giving up. (The kernel
    /// gives up after 5 rounds in which pages could not be isolated (-EBUSY) and otherwise loops until its 120 s timeout
    /// (-EAGAIN); the emulator bounds every round the same way and answers EBUSY.)</summary>
    internal const int OfflineRetries = 5;

    /// <summary>How often soft_offline_page tries to move a page held elsewhere before it reports EBUSY. 2.6.33 tries
    /// once after <c>shake_page()</c> (lru_add_drain_all); the emulator retries as offline_pages does.</summary>
    internal const int SoftOfflineRetries = 5;

    /// <summary>The wait before another try when pages are held elsewhere (isolated by reclaim, under writeback):
    /// <c>congestion_wait(WRITE, HZ/10)</c>, the sleep reclaim takes for I/O to complete.</summary>
    internal static TimeSpan HotplugRetryWait => VmScan.CongestionWait;

    // ---- offline_pages / online_pages -------------------------------------------------------------------------

    /// <summary><c>offline_pages()</c> over the node: isolate its frames from the allocator, then rounds of
    /// <c>lru_add_drain_all()</c>, <c>scan_lru_pages()</c>, migration of what is on the LRU (do_migrate_range through the
    /// profile's path), and <c>check_pages_isolated()</c>, until nothing is in use (MEM_OFFLINE) or the rounds run out
    /// (EBUSY, undo_isolate_page_range: the node is online again; pages already moved stay where they went).</summary>
    /// <remarks>Kernel: 2.6.24 mm/memory_hotplug.c offline_pages(), do_migrate_range(); drivers/base/memory.c
    /// memory_block_change_state().</remarks>
    private void DoOfflineNode(OfflineNode m)
    {
        if (m.Node < 0 || m.Node >= Topology.Nodes) { Complete(SyscallResult.Fail(Errno.ENOENT)); return; }
        var run = new MigrationRun("offline", Trace.Now);
        Directory.Node(m.Node).Tell(new StartIsolatePageRange(Expect<PageRangeIsolated>(r =>
        {
            if (r.Error != Errno.None) { Complete(SyscallResult.Fail(r.Error)); return; }
            OfflineRound(m.Node, run, 0);
        }), Self));
    }

    private void OfflineRound(int nid, MigrationRun run, int round)
    {
        LruAddDrainAll(() => Directory.Node(nid).Tell(new ScanNodePages(Expect<NodePagesScanned>(s =>
        {
            if (s.InUse == 0) { EndOffline(nid, run, round, offlined: true); return; }
            if (round == OfflineRetries) { EndOffline(nid, run, round, offlined: false); return; }
            if (s.Lru.Length == 0)
            {
                // Everything left is held elsewhere (isolated by reclaim, in flight): wait for its holder.
                CongestionWait(HotplugRetryWait, () => OfflineRound(nid, run, round + 1));
                return;
            }
            // hotremove_migrate_alloc: alloc_page(GFP_HIGHUSER_MOVABLE), the writer's own zonelist; the node going
            // offline forwards every request along it.
            EvacuatePages(run, [.. s.Lru], CpuNode, () => OfflineRound(nid, run, round + 1));
        }), Self)));
    }

    private void EndOffline(int nid, MigrationRun run, int rounds, bool offlined) =>
        Directory.Node(nid).Tell(new EndOffline(Expect<OfflineEnded>(r =>
        {
            Trace.Emit("memory_offline", $"task={Pid} node={nid} rc={(offlined ? "0" : "-EBUSY")} rounds={rounds + 1} pages={r.Pages} {run.Stats(Trace.Now).TraceFields()}");
            Complete((offlined ? SyscallResult.Ok() : SyscallResult.Fail(Errno.EBUSY)) with { Migration = run.Stats(Trace.Now) });
        }), Self, offlined));

    /// <summary><c>online_pages()</c> for the node.</summary>
    private void DoOnlineNode(OnlineNode m)
    {
        if (m.Node < 0 || m.Node >= Topology.Nodes) { Complete(SyscallResult.Fail(Errno.ENOENT)); return; }
        Directory.Node(m.Node).Tell(new OnlinePages(Expect<PagesOnlined>(r =>
            Complete(r.Error == Errno.None ? SyscallResult.Ok() : SyscallResult.Fail(r.Error))), Self));
    }

    /// <summary>The pages through the profile's migration path: isolate_lru_page (no shared-page test: hot-remove and
    /// memory errors move every page, as MPOL_MF_MOVE_ALL does), then swapout_pages (swap form: the tasks fault their
    /// pages back under their policies, on nodes that give frames), 2.6.16's migrate_pages_to through the swap cache
    /// (new pages from <paramref name="dest"/>'s zonelist, copied with no I/O) or 2.6.18's migrate_pages with new pages
    /// from that zonelist (direct form), then putback_lru_pages of what is left.</summary>
    private void EvacuatePages(MigrationRun run, List<int> pfns, int dest, Action then) =>
        IsolateCandidates(run, pfns, skipShared: false, () =>
        {
            if (Profile.DirectViaSwapCache)
            {
                if (run.Pagelist.Count == 0) { FinishMigration(run, then); return; }
                MigratePagesTo(run, null, dest, _ => FinishMigration(run, then));
                return;
            }
            if (!Profile.DirectMigration) { SwapoutPages(run, () => FinishMigration(run, then)); return; }
            if (run.Pagelist.Count == 0) { FinishMigration(run, then); return; }
            MigratePagesDirect(run, _ => NodePlan(dest), null, _ => FinishMigration(run, then));
        });

    // ---- soft_offline_page ------------------------------------------------------------------------------------

    /// <summary><c>soft_offline_page()</c> on one frame: a free frame is retired at once; a page in use moves away through
    /// the profile's migration path with its contents (2.6.33's new_page: <c>alloc_pages_exact_node(page_to_nid(p))</c>,
    /// the page's own node first) and its frame is retired when it is freed. A page held elsewhere (in a pagevec,
    /// isolated by reclaim or another migration, locked, under writeback) is tried again after a wait, up to
    /// <see cref="SoftOfflineRetries"/> times, then EBUSY (the page stays in use and unpoisoned).</summary>
    /// <remarks>Kernel: 2.6.33 mm/memory-failure.c soft_offline_page(), get_any_page() (shake_page: lru_add_drain_all);
    /// drivers/base/memory.c store_soft_offline_page() (ENXIO for a pfn that is not valid).</remarks>
    private void DoInjectEcc(InjectEcc m)
    {
        if (m.Node < 0 || m.Node >= Topology.Nodes || m.Pfn < Topology.FirstPfn(m.Node)
            || m.Pfn >= Topology.FirstPfn(m.Node) + Topology.PagesPerNode)
        {
            Complete(SyscallResult.Fail(Errno.ENXIO));
            return;
        }
        var pfn = (int)m.Pfn;
        var run = new MigrationRun("soft_offline", Trace.Now);
        Directory.Node(m.Node).Tell(new SoftOfflinePage(Expect<SoftOfflineStarted>(r =>
        {
            switch (r.State)
            {
                case SoftOfflineState.RetiredFree: Complete(SyscallResult.Ok()); break;
                case SoftOfflineState.AlreadyPoisoned: Complete(SyscallResult.Fail(Errno.EBUSY)); break;
                case SoftOfflineState.Unmovable: Complete(SyscallResult.Fail(Errno.EIO)); break;
                default: SoftOfflineAttempt(m.Node, pfn, run, 0); break;
            }
        }), Self, pfn));
    }

    /// <summary>One try: <c>lru_add_drain_all()</c> (shake_page), the page through the migration path, then is the
    /// frame retired (after another drain)? If not, a wait, a look whether the holder has freed the page meanwhile (its frame is then retired
    /// already), and the next try.</summary>
    private void SoftOfflineAttempt(int nid, int pfn, MigrationRun run, int attempt) =>
        LruAddDrainAll(() => EvacuatePages(run, [pfn], nid, () =>
        {
            var giveUp = attempt == SoftOfflineRetries;
            SoftOfflineCheck(nid, pfn, giveUp, c =>
            {
                if (c.Retired || giveUp) { SoftOfflineDone(pfn, run, attempt, c); return; }
                Trace.Emit("soft_offline_retry", $"task={Pid} pfn={pfn} try={attempt + 1} where={c.Where}");
                CongestionWait(HotplugRetryWait, () => SoftOfflineCheck(nid, pfn, giveUp: false, again =>
                {
                    if (again.Retired) { SoftOfflineDone(pfn, run, attempt + 1, again); return; }
                    SoftOfflineAttempt(nid, pfn, run, attempt + 1);
                }));
            });
        }));

    /// <summary>Is the frame retired? A drain first: a page put back through a pagevec (2.6.16+ move_to_lru) may hold
    /// its last reference there, and only release_pages at the drain frees it.</summary>
    private void SoftOfflineCheck(int nid, int pfn, bool giveUp, Action<SoftOfflineChecked> then) =>
        LruAddDrainAll(() => Directory.Node(nid).Tell(new SoftOfflineCheck(Expect(then), Self, pfn, giveUp)));

    private void SoftOfflineDone(int pfn, MigrationRun run, int attempt, SoftOfflineChecked c)
    {
        Trace.Emit("memory_failure", $"task={Pid} pfn={pfn} rc={(c.Retired ? "0" : "-EBUSY")} tries={attempt + 1} where={c.Where}");
        Complete((c.Retired ? SyscallResult.Ok() : SyscallResult.Fail(Errno.EBUSY)) with { Migration = run.Stats(Trace.Now) });
    }
}

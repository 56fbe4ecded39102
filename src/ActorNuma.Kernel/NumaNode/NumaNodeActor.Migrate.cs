using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>2.6.18 direct migration at the node: one pass of <c>migrate_pages()</c> over this node's pages, each page
/// through <c>unmap_and_move()</c>:
/// <code>
///   page_count == 1? ─► lock ─► writeback? ─► try_to_unmap(page, 1) ─► move_to_new_page ─► unlock, move_to_lru
///   freed under us     busy: -EAGAIN unless force (pass &gt; 2)   still mapped / count: -EAGAIN (PTEs restored)
/// </code>
/// The copy happens at the new page's node (<see cref="InstallMigratedPage"/>), which also rewrites the migration
/// entries (<c>remove_migration_ptes</c>) and hands the new page to the migrating CPU's pagevec.</summary>
/// <remarks>Kernel: 2.6.18 mm/migrate.c unmap_and_move(), move_to_new_page(), migrate_page(),
/// migrate_page_move_mapping(), migrate_page_copy(), remove_migration_ptes(); mm/rmap.c try_to_unmap_one().</remarks>
public sealed partial class NumaNodeActor
{
    private sealed class DirectMigration(MigratePass request)
    {
        public MigratePass Request { get; } = request;
        public MigrateVerdict[] Verdicts { get; } = new MigrateVerdict[request.Items.Length];
        public int[] Results { get; } = new int[request.Items.Length];
        public Dictionary<int, int> PositionOf { get; } = new();
        /// <summary>Per page: the mappings that now hold a migration entry (they must be rewritten whatever happens).</summary>
        public List<MigratedMapper>?[] Entries { get; } = new List<MigratedMapper>?[request.Items.Length];
        public int Pending;
    }

    private readonly Dictionary<long, DirectMigration> _directMigrations = new();
    /// <summary>Answers from tasks and from the new pages' nodes, by the token of the request they answer.</summary>
    private readonly Dictionary<long, Action<IMigrateMessage>> _migrateReplies = new();

    private void HandleMigrateMessage(IMigrateMessage message)
    {
        switch (message)
        {
            case MigratePass m: HandleMigratePass(m); break;
            case InstallMigratedPage m: HandleInstallMigratedPage(m); break;
            case ReleaseMigrationTargets m: ReleaseTargets(m.Pfns, m.Cpu); break;
            case MigrateSwapCachePass m: HandleMigrateSwapCachePass(m); break;
            case MigrateSwapCacheCopy m: HandleMigrateSwapCacheCopy(m); break;
            case NumaTask.MigrationUnmapResult m: _migrateReplies[m.Token](m); break;
            case NumaTask.MigrationPtesRemoved m: _migrateReplies[m.Token](m); break;
            case MigratedPageInstalled m: _migrateReplies[m.Token](m); break;
            case CopyDone m: SendInstall(m.Install); break;
            default: throw new InvalidOperationException($"node {_node}: unexpected {message.GetType().Name}");
        }
    }

    private void HandleMigratePass(MigratePass m)
    {
        var run = new DirectMigration(m);
        var token = _replies.NextToken();
        _directMigrations[token] = run;
        for (var k = 0; k < m.Items.Length; k++)
        {
            var idx = Idx(m.Items[k].OldPfn);
            if (_m.Place(idx) != FramePlace.Isolated)
            {
                throw new InvalidOperationException($"migrate_pages: pfn {m.Items[k].OldPfn} is not isolated ({_m.Place(idx)})");
            }

            run.PositionOf.Add(idx, k);
            run.Pending++;
        }
        for (var k = 0; k < m.Items.Length; k++)
        {
            UnmapAndMove(token, run, k);
        }

        Trace.Emit("mm_migrate_direct_pass", $"node={_node} pass={m.Pass} nr={m.Items.Length} force={(m.Force ? 1 : 0)}");
    }

    /// <summary><c>unmap_and_move()</c> up to the unmap: a page whose only reference is ours was freed under us (rc 0);
    /// then the page lock and writeback, which a pass below 3 does not wait for.</summary>
    private void UnmapAndMove(long token, DirectMigration run, int pos)
    {
        var idx = Idx(run.Request.Items[pos].OldPfn);
        if (_m.Count(idx) == 1)
        {
            Resolve(token, run, pos, MigrateVerdict.FreedUnderUs, Topology.PfnToNid(run.Request.Items[pos].NewPfn));
            return;
        }
        if (_m.TestAndSet(idx, PageFlags.Locked))
        {
            if (!run.Request.Force) { Resolve(token, run, pos, MigrateVerdict.Retry, -(int)Errno.EAGAIN); return; }
            Sleep(idx, PageFlags.Locked, new Waiter(() => Relock(token, run, pos)));
            return;
        }
        MigrateLocked(token, run, pos);
    }

    private void Relock(long token, DirectMigration run, int pos)
    {
        var idx = Idx(run.Request.Items[pos].OldPfn);
        if (_m.TestAndSet(idx, PageFlags.Locked)) { Sleep(idx, PageFlags.Locked, new Waiter(() => Relock(token, run, pos))); return; }
        MigrateLocked(token, run, pos);
    }

    private void MigrateLocked(long token, DirectMigration run, int pos)
    {
        var idx = Idx(run.Request.Items[pos].OldPfn);
        if (_m.Test(idx, PageFlags.Writeback))
        {
            if (!run.Request.Force) { MigrateUnlock(token, run, pos, -(int)Errno.EAGAIN); return; }
            Sleep(idx, PageFlags.Writeback, new Waiter(() => MigrateLocked(token, run, pos)));
            return;
        }
        TryToUnmapForMigration(token, run, pos);
    }

    /// <summary><c>try_to_unmap(page, 1)</c>: every mapping task replaces its PTE by a migration entry (by the swap entry
    /// for a page in the swap cache), young or not.</summary>
    private void TryToUnmapForMigration(long token, DirectMigration run, int pos)
    {
        var idx = Idx(run.Request.Items[pos].OldPfn);
        if (_m.Mapcount(idx) == 0) { MoveToNewPage(token, run, pos); return; }
        var migrationEntries = !_m.Test(idx, PageFlags.SwapCache);
        TryToUnmapMigration(idx,
            mapper =>
            {
                if (migrationEntries)
                {
                    (run.Entries[pos] ??= new()).Add(mapper);
                }
            },
            notMapped =>
            {
                if (notMapped || _m.Mapcount(idx) > 0) { RestoreAndUnlock(token, run, pos); return; }
                MoveToNewPage(token, run, pos);
            });
    }

    /// <summary><c>try_to_unmap(page, 1)</c> at every task that maps the page: each unmapped PTE drops its mapping and
    /// reference and passes on its dirty bit, and is named to <paramref name="unmapped"/>; once every task answered,
    /// <paramref name="then"/> learns whether one of them no longer mapped the page.</summary>
    /// <remarks>Kernel: 2.6.16 and 2.6.18 mm/rmap.c try_to_unmap(page, 1) → try_to_unmap_one().</remarks>
    private void TryToUnmapMigration(int idx, Action<MigratedMapper> unmapped, Action<bool> then)
    {
        var slot = _m.Test(idx, PageFlags.SwapCache) ? _m.SwapEntry(idx) : 0;
        var vpn = _m.RmapVpn(idx);
        var tasks = _m.Mappers(idx).ToArray();
        var replyToken = _replies.NextToken();
        var waiting = tasks.Length;
        var notMapped = false;
        _migrateReplies[replyToken] = reply =>
        {
            var r = (NumaTask.MigrationUnmapResult)reply;
            for (var k = 0; k < r.Pfns.Length; k++)
            {
                if (r.Outcomes[k] != NumaTask.UnmapOutcome.Unmapped) { notMapped = true; continue; }
                _m.RemoveRmap(idx, r.Task);
                if (r.Dirty[k])
                {
                    _m.Set(idx, PageFlags.Dirty);   // set_page_dirty from the PTE's dirty bit
                }

                PutPage(idx);
                unmapped(new MigratedMapper(r.Task, vpn, r.Write[k]));
            }
            if (--waiting > 0)
            {
                return;
            }

            _migrateReplies.Remove(replyToken);
            then(notMapped);
        };
        foreach (var task in tasks)
        {
            var target = Directory.Task(task) ?? throw new InvalidOperationException($"rmap of node {_node} names task {task}, which is gone");
            target.Tell(new NumaTask.TryToUnmapMigration(replyToken, Self, [new NumaTask.MigrationUnmapItem(Pfn(idx), vpn, slot)]));
        }
    }

    /// <summary><c>move_to_new_page()</c> → <c>migrate_page()</c>: <c>migrate_page_move_mapping</c> wants the page held by
    /// nobody but us (and the swap cache, for a swap-cache page), else -EAGAIN; then the copy goes to the new page's
    /// node. The old page leaves the swap cache and loses PG_active and PG_dirty (<c>migrate_page_copy</c>).</summary>
    private void MoveToNewPage(long token, DirectMigration run, int pos)
    {
        var (oldPfn, newPfn) = run.Request.Items[pos];
        var idx = Idx(oldPfn);
        var inCache = _m.Test(idx, PageFlags.SwapCache);
        if (_m.Count(idx) != (inCache ? 2 : 1)) { RestoreAndUnlock(token, run, pos); return; }
        var installToken = _replies.NextToken();
        _migrateReplies[installToken] = _ =>
        {
            _migrateReplies.Remove(installToken);
            MigrateUnlock(token, run, pos, Topology.PfnToNid(newPfn));
        };
        CopyToNewPage(idx, newPfn, installToken, run.Entries[pos]?.ToArray() ?? [], run.Request.Cpu, fromSwap: false);
    }

    /// <summary>The old page's side of <c>migrate_page_copy</c> (and of the radix-tree move before it): the page leaves
    /// the swap cache, whose reference moves to the new page, and loses PG_active and PG_dirty; then the copy goes to
    /// the new page's node, after the copy latency when one is configured.</summary>
    private void CopyToNewPage(int idx, int newPfn, long installToken, MigratedMapper[] mappers, int cpu, bool fromSwap)
    {
        var slot = 0;
        if (_m.Test(idx, PageFlags.SwapCache))
        {
            slot = _m.SwapEntry(idx);
            _m.DeleteFromSwapCache(idx);
            PutPage(idx);   // __put_page(page): the swap cache's reference moves to the new page
        }
        var flags = _m.Flags(idx) & (PageFlags.Referenced | PageFlags.Uptodate | PageFlags.Active | PageFlags.Dirty);
        _m.Clear(idx, PageFlags.Active | PageFlags.Dirty);
        var install = new InstallMigratedPage(installToken, Self, Pfn(idx), newPfn, _m.Contents(idx), flags, slot, mappers, cpu,
            fromSwap);
        var latency = _machine.Settings.MigrateCopyLatency;
        if (latency > TimeSpan.Zero)
        {
            // The migrating CPU copies one page after another (migrate_pages walks its list in order): copies of this
            // node's pages queue behind each other. Pages of other source nodes are copied by their own node actors,
            // so with several source nodes their copies overlap, which the kernel's single CPU would not do.
            var start = Trace.Now > _copyBusyUntil ? Trace.Now : _copyBusyUntil;
            _copyBusyUntil = start + latency;
            StartKernelTimer(Timers, ("copy", installToken), new CopyDone(install), _copyBusyUntil - Trace.Now);
            return;
        }
        SendInstall(install);
    }

    private TimeSpan _copyBusyUntil;

    /// <summary>The end of <c>copy_highpage</c> when the copy takes time (<see cref="KernelSettings.MigrateCopyLatency"/>).</summary>
    private sealed record CopyDone(InstallMigratedPage Install) : IMigrateMessage;

    private void SendInstall(InstallMigratedPage install)
    {
        if (Topology.PfnToNid(install.NewPfn) == _node)
        {
            HandleInstallMigratedPage(install);
        }
        else
        {
            NodeRef(Topology.PfnToNid(install.NewPfn)).Tell(install);
        }
    }

    /// <summary><c>remove_migration_ptes(page, page)</c> after a failed move: the migration entries map the old page again
    /// (rc -EAGAIN); then the unlock.</summary>
    private void RestoreAndUnlock(long token, DirectMigration run, int pos)
    {
        var idx = Idx(run.Request.Items[pos].OldPfn);
        var entries = run.Entries[pos];
        run.Entries[pos] = null;
        RemoveMigrationPtes(Pfn(idx), idx, entries, () => MigrateUnlock(token, run, pos, -(int)Errno.EAGAIN));
    }

    /// <summary><c>remove_migration_ptes(old, new)</c> for the frame <paramref name="newIdx"/> of this node: each task
    /// rewrites the entries it still holds, and each rewritten one becomes a mapping (<c>get_page</c>,
    /// <c>page_add_anon_rmap</c>).</summary>
    /// <remarks>With <paramref name="slot"/> != 0 it is 2.6.16 <c>remove_from_swap()</c>: the entries are the swap
    /// entry of that slot, each rewritten one drops its swap_map reference (<c>unuse_pte</c>'s <c>swap_free</c>).</remarks>
    private void RemoveMigrationPtes(int oldPfn, int newIdx, List<MigratedMapper>? entries, Action then, int slot = 0)
    {
        if (entries is null || entries.Count == 0) { then(); return; }
        var byTask = entries.GroupBy(e => e.Task).ToList();
        var replyToken = _replies.NextToken();
        var waiting = byTask.Count;
        var sent = byTask.ToDictionary(g => g.Key, g => g.ToArray());
        var swapFrees = 0;
        _migrateReplies[replyToken] = reply =>
        {
            var r = (NumaTask.MigrationPtesRemoved)reply;
            var items = sent[r.Task];
            for (var k = 0; k < items.Length; k++)
            {
                if (!r.Installed[k])
                {
                    continue;
                }

                _m.AddRmap(newIdx, r.Task, items[k].Vpn);
                _m.GetPage(newIdx);
                swapFrees++;
            }
            if (--waiting > 0)
            {
                return;
            }

            _migrateReplies.Remove(replyToken);
            if (slot != 0 && swapFrees > 0)
            {
                Directory.Swap.Tell(new SwapDevice.SwapFree(Enumerable.Repeat(slot, swapFrees).ToArray(), FreeCache: false));
            }

            then();
        };
        foreach (var (task, items) in sent)
        {
            var target = Directory.Task(task);
            var request = new NumaTask.RemoveMigrationPtes(replyToken, Self,
                items.Select(e => new NumaTask.RemoveMigrationItem(e.Vpn, oldPfn, Pfn(newIdx), slot == 0 && e.Write, slot)).ToArray());
            if (target is null)
            {
                Self.Tell(new NumaTask.MigrationPtesRemoved(replyToken, task, new bool[items.Length]));
            }
            else
            {
                target.Tell(request);
            }
        }
    }

    /// <summary>The end of <c>unmap_and_move()</c>: <c>unlock_page</c>; unless -EAGAIN the old page leaves the list through
    /// <c>move_to_lru</c> (a moved page then holds only that reference and is freed when the pagevec drains; a failed
    /// one goes back to the LRU with its users); the new page's fate is its node's.</summary>
    private void MigrateUnlock(long token, DirectMigration run, int pos, int result)
    {
        var idx = Idx(run.Request.Items[pos].OldPfn);
        UnlockPage(idx);
        var moved = result >= 0;
        if (result != -(int)Errno.EAGAIN)
        {
            HandlePutback(new PutbackLruPages(0, null, [Pfn(idx)], DropReference: true, run.Request.Cpu));
        }

        if (!moved)
        {
            ReleaseTargetAt(run.Request.Items[pos].NewPfn, run.Request.Cpu);
        }

        Resolve(token, run, pos, moved ? MigrateVerdict.Moved : result == -(int)Errno.EAGAIN ? MigrateVerdict.Retry : MigrateVerdict.Failed, result);
    }

    private void Resolve(long token, DirectMigration run, int pos, MigrateVerdict verdict, int result)
    {
        if (verdict == MigrateVerdict.FreedUnderUs)
        {
            ReleaseTargetAt(run.Request.Items[pos].NewPfn, run.Request.Cpu);
        }

        run.Verdicts[pos] = verdict;
        run.Results[pos] = result;
        if (--run.Pending > 0)
        {
            return;
        }

        _directMigrations.Remove(token);
        var r = run.Request;
        r.ReplyTo.Tell(new MigratePassResult(r.Token, _node, r.Items.Select(i => i.OldPfn).ToArray(), run.Verdicts, run.Results));
    }

    /// <summary>A target page no migration used goes to its node's release.</summary>
    private void ReleaseTargetAt(int pfn, int cpu)
    {
        if (Topology.PfnToNid(pfn) == _node)
        {
            ReleaseTargets([pfn], cpu);
        }
        else
        {
            NodeRef(Topology.PfnToNid(pfn)).Tell(new ReleaseMigrationTargets([pfn], cpu));
        }
    }

    /// <summary><c>move_to_lru(newpage)</c> of an unused target: <c>lru_cache_add</c> takes a reference and the
    /// allocation's is put, so the pagevec holds the only one and its drain frees the page.</summary>
    private void ReleaseTargets(int[] pfns, int cpu)
    {
        if (cpu < 0)
        {
            foreach (var pfn in pfns)
            {
                PutPage(Idx(pfn));   // 2.6.16 migrate_pages_to(): __free_page(page)
            }

            return;
        }

        foreach (var pfn in pfns)
        {
            _m.SetPlace(Idx(pfn), FramePlace.Pagevec, cpu);
        }

        var cpuNode = Topology.CpuToNode(cpu);
        var add = new LruCacheAdd(cpu, pfns, Active: false, null, null);
        if (cpuNode == _node)
        {
            HandleLruCacheAdd(add);
        }
        else
        {
            NodeRef(cpuNode).Tell(add);
        }
    }

    /// <summary>The new page's side of <c>move_to_new_page()</c>: <c>migrate_page_copy</c> (contents, PG_referenced,
    /// PG_uptodate, PG_active, PG_dirty), <c>migrate_page_move_mapping</c> (the swap-cache slot and its reference),
    /// <c>remove_migration_ptes(old, new)</c> (mapped old, writable where the entry was a write entry), then
    /// <c>move_to_lru(newpage)</c> on the migrating CPU, whose pagevec takes over the allocation's reference.</summary>
    private void HandleInstallMigratedPage(InstallMigratedPage m)
    {
        var idx = Idx(m.NewPfn);
        _m.SetContents(idx, m.Contents);
        _m.Set(idx, m.Flags);
        if (m.FromSwap)
        {
            _m.Set(idx, PageFlags.Locked);   // 2.6.16 migrate_pages(): lock_page(newpage) until unlock_both
        }

        if (m.SwapSlot != 0)
        {
            _m.AddToSwapCache(idx, m.SwapSlot, forWrite: false);
            Directory.Swap.Tell(new SwapDevice.SwapCacheReplace([m.SwapSlot], [m.OldPfn], [m.NewPfn]));
        }
        Trace.Emit("mm_migrate_page_copy", $"node={_node} old_pfn={m.OldPfn} new_pfn={m.NewPfn} mappers={m.Mappers.Length} slot={m.SwapSlot}");
        RemoveMigrationPtes(m.OldPfn, idx, [.. m.Mappers], () =>
        {
            if (m.FromSwap)
            {
                LeaveSwapCacheAfterMigration(idx, m.SwapSlot);
            }

            var active = _m.TestAndClear(idx, PageFlags.Active);
            _m.SetPlace(idx, FramePlace.Pagevec, m.Cpu);
            var cpuNode = Topology.CpuToNode(m.Cpu);
            var add = new LruCacheAdd(m.Cpu, [m.NewPfn], active, null, null);
            if (cpuNode == _node)
            {
                HandleLruCacheAdd(add);
            }
            else
            {
                NodeRef(cpuNode).Tell(add);
            }

            var done = new MigratedPageInstalled(m.Token, m.OldPfn);
            if (m.OldNode.Equals(Self))
            {
                _migrateReplies[m.Token](done);
            }
            else
            {
                m.OldNode.Tell(done);
            }
        }, m.FromSwap ? m.SwapSlot : 0);
    }
}

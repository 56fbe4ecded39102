using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Kernel;

/// <summary>The page-table side of direct migration: 2.6.18's migration entries set by <c>try_to_unmap(page, 1)</c>,
/// rewritten by <c>remove_migration_ptes()</c>, and the faults that meet one and wait (<c>migration_entry_wait</c>);
/// 2.6.16's swap entries set by the same <c>try_to_unmap(page, 1)</c> and rewritten by <c>remove_from_swap()</c>.</summary>
public sealed partial class NumaTaskActor
{
    /// <summary>Faults that met a migration entry, by page: each runs again once the entry is rewritten, as
    /// <c>migration_entry_wait()</c> sleeps on the old page's lock and returns for the fault to be retried.</summary>
    private readonly Dictionary<ulong, List<(TouchOp Op, Vma Vma, bool Write, Action Done)>> _migrationWaiters = new();

    /// <summary>Migration entries in this task's page table right now.</summary>
    private int _migrationEntries;

    /// <summary>A fork that waits for the migration entries of its parent to be rewritten first (see
    /// <see cref="ForkWaitsForMigration"/>).</summary>
    private Fork? _forkAfterMigration;

    private void HandleMigrationPteRequest(IMigrationPteRequest request)
    {
        switch (request)
        {
            case TryToUnmapMigration m: HandleTryToUnmapMigration(m); break;
            case RemoveMigrationPtes m: HandleRemoveMigrationPtes(m); break;
        }
    }

    /// <summary><c>try_to_unmap_one(page, vma, 1)</c>: the young bit does not matter; the PTE's dirty bit goes to the
    /// page; an anonymous page in the swap cache gets its swap entry (<c>swap_duplicate</c>, so the answer goes through
    /// the swap device), any other a migration entry recording whether the PTE was writable.</summary>
    /// <remarks>Kernel: 2.6.18 mm/rmap.c try_to_unmap_one(); include/linux/swapops.h make_migration_entry().</remarks>
    private void HandleTryToUnmapMigration(TryToUnmapMigration m)
    {
        var n = m.Items.Length;
        var outcomes = new UnmapOutcome[n];
        var dirty = new bool[n];
        var write = new bool[n];
        var slots = new List<int>();
        for (var k = 0; k < n; k++)
        {
            var (pfn, vpn, slot) = m.Items[k];
            var pte = _state.OwnPageTable.Get(vpn);
            if (_state.Exited || !pte.IsPresent || pte.Pfn != pfn) { outcomes[k] = UnmapOutcome.NotMapped; continue; }
            dirty[k] = pte.Dirty;
            write[k] = pte.Writable;
            if (slot != 0)
            {
                _state.OwnPageTable.Set(vpn, Pte.Swap(slot));
                slots.Add(slot);
            }
            else
            {
                _state.OwnPageTable.Set(vpn, Pte.Migration(pfn, pte.Writable));
                _migrationEntries++;
            }
            outcomes[k] = UnmapOutcome.Unmapped;
        }
        var result = new MigrationUnmapResult(m.Token, Pid, m.Items.Select(i => i.Pfn).ToArray(), outcomes, dirty, write);
        if (slots.Count > 0)
        {
            Directory.Swap.Tell(new SwapDevice.SwapDuplicateAndForward(slots.ToArray(), m.Node, result));
        }
        else
        {
            m.Node.Tell(result);
        }
    }

    /// <summary><c>remove_migration_pte()</c>: an entry that still names the old page maps the new one, old (not young),
    /// writable only if the entry was a write entry; the faults waiting on it run again.</summary>
    /// <remarks>Kernel: 2.6.18 mm/migrate.c remove_migration_pte().</remarks>
    private void HandleRemoveMigrationPtes(RemoveMigrationPtes m)
    {
        var installed = new bool[m.Items.Length];
        var woken = new List<ulong>();
        for (var k = 0; k < m.Items.Length; k++)
        {
            var (vpn, oldPfn, newPfn, write, slot) = m.Items[k];
            var pte = _state.OwnPageTable.Get(vpn);
            if (slot != 0)
            {
                installed[k] = UnusePte(vpn, pte, slot, newPfn);
                continue;
            }
            if (_state.Exited || !pte.IsMigration || pte.MigrationPfn != oldPfn)
            {
                continue;
            }

            _state.OwnPageTable.Set(vpn, Pte.Present(newPfn, write, young: false));
            _migrationEntries--;
            installed[k] = true;
            woken.Add(vpn);
        }
        m.Node.Tell(new MigrationPtesRemoved(m.Token, Pid, installed));
        foreach (var vpn in woken)
        {
            WakeMigrationWaiters(vpn);
        }

        if (_migrationEntries == 0 && _forkAfterMigration is { } fork)
        {
            _forkAfterMigration = null;
            DoFork(fork);
        }
    }

    /// <summary>2.6.16 <c>remove_from_swap()</c> → <c>unuse_vma()</c> → <c>unuse_pte()</c>: a PTE that still holds the swap
    /// entry maps the new page, old and as <c>vm_page_prot</c> gives it (read-only: a write takes do_wp_page, which
    /// reuses the page now that it left the swap cache). The node does <c>swap_free</c> for each one rewritten.</summary>
    /// <remarks>Kernel: 2.6.16 mm/rmap.c remove_from_swap(); mm/swapfile.c unuse_pte().</remarks>
    private bool UnusePte(uint vpn, Pte pte, int slot, int newPfn)
    {
        if (_state.Exited || !pte.IsSwap || pte.SwapSlot != slot)
        {
            return false;
        }

        _state.OwnPageTable.Set(vpn, Pte.Present(newPfn, write: false, young: false));
        return true;
    }

    /// <summary><c>do_swap_page()</c> on a migration entry: <c>migration_entry_wait()</c>, then the fault is retried.</summary>
    private void MigrationEntryWait(TouchOp op, Vma vma, ulong vpn, bool write, Action done)
    {
        if (!_migrationWaiters.TryGetValue(vpn, out var list))
        {
            _migrationWaiters[vpn] = list = new();
        }

        list.Add((op, vma, write, done));
        Trace.Emit("migration_entry_wait", $"task={Pid} vpn={vpn:x}");
    }

    private void WakeMigrationWaiters(ulong vpn)
    {
        if (!_migrationWaiters.Remove(vpn, out var list))
        {
            return;
        }

        foreach (var (op, vma, write, done) in list)
        {
            var batch = new FaultBatch(this, op);
            AccessPage(batch, vma, vpn, write, done);
            batch.Flush();
        }
    }

    /// <summary>A fork while this task's page table holds migration entries waits until they are rewritten. The kernel's
    /// fork copies such an entry (<c>copy_one_pte</c>, made a read entry for a COW mapping) and the rewrite reaches the
    /// child through the anon_vma; here the node names the mappings it rewrites when it unmaps them, so the child would
    /// keep a stale entry. Waiting gives the state the kernel reaches, with the fork ordered after the move. It happens
    /// only when another task moves a page this one shares (MOVE_ALL): a task's own moves hold its mmap_sem.</summary>
    private bool ForkWaitsForMigration(Fork m)
    {
        if (_migrationEntries == 0)
        {
            return false;
        }

        _forkAfterMigration = m;
        return true;
    }

    /// <summary>zap_pte_range on a migration entry: the entry goes (<c>free_swap_and_cache</c> ignores it); the move
    /// then finds the entry gone and maps nothing here.</summary>
    private void ZapMigrationEntry(ulong vpn)
    {
        _state.OwnPageTable.Set(vpn, Pte.None);
        _migrationEntries--;
    }
}

namespace ActorNuma.Kernel;

/// <summary>The task's part of 2.6.18 direct migration: <c>move_pages(2)</c>, and the page-table side of
/// <c>try_to_unmap(page, 1)</c> (migration entries) and <c>remove_migration_ptes()</c>.</summary>
public static partial class NumaTask
{
    /// <summary>A page-table request of direct migration: served at once, as the PTE lock allows.</summary>
    internal interface IMigrationPteRequest;

    /// <summary><c>move_pages(pid, nr_pages, pages, nodes, status, flags)</c> (2.6.18). <see cref="Nodes"/> null is a
    /// NULL nodes array: only the status of each page is reported. <see cref="NrPages"/> is the raw count, which may
    /// exceed the arrays given (the entries past them are unreadable). ENOSYS before 2.6.18.</summary>
    public sealed record MovePages(int Pid, ulong NrPages, ulong[] Pages, int[]? Nodes, int Flags, MovePagesFault Fault) : Syscall;

    /// <summary>Swap out the whole resident set and stop (the seed's "suspending an application by swapping it out").
    /// Returns the number of resident pages left in memory.</summary>
    public sealed record Suspend : Syscall;

    /// <summary>SIGCONT for a suspended task: not a syscall of the task but a signal, delivered at once, ahead of the
    /// syscalls the stopped task holds. <see cref="Tag"/> comes back in the answer.</summary>
    public sealed record Resume(int Tag);

    /// <summary>The answer to <see cref="Resume"/>: 0, or EINVAL for a task that was not stopped.</summary>
    public sealed record Resumed(int Tag, SyscallResult Result);

    /// <summary>Sent by the move_pages caller to the target: run do_move_pages (or do_pages_stat) on your mm.</summary>
    internal sealed record DoMovePages(long Token, IActorRef Caller, ulong[] Pages, int[]? Nodes, MpolFlags Flags) : IKernelRequest;

    /// <summary>do_move_pages' answer: <see cref="Ret"/> is a negative errno or the count of pages not moved; the status
    /// of each page (copied out only when <see cref="Ret"/> &gt;= 0).</summary>
    internal sealed record MovePagesDone(long Token, long Ret, int[] Status, MigrationStats? Stats) : IKernelReply;

    /// <summary>One mapping of a page to unmap for migration: a page in the swap cache gets its swap entry in the PTE
    /// (<see cref="Slot"/> != 0), any other anonymous page a migration entry.</summary>
    internal readonly record struct MigrationUnmapItem(int Pfn, uint Vpn, int Slot);

    /// <summary>2.6.18 <c>try_to_unmap_one(page, vma, migration = 1)</c> for each page: young bits are ignored.</summary>
    internal sealed record TryToUnmapMigration(long Token, IActorRef Node, MigrationUnmapItem[] Items) : IMigrationPteRequest;

    /// <summary>The answer to <see cref="TryToUnmapMigration"/>: per page, unmapped or not, the PTE's dirty and write
    /// bits (a write migration entry maps the new page writable again).</summary>
    internal sealed record MigrationUnmapResult(long Token, int Task, int[] Pfns, UnmapOutcome[] Outcomes, bool[] Dirty, bool[] Write)
        : NumaNode.IMigrateMessage;

    /// <summary>A migration entry for <see cref="OldPfn"/> at <see cref="Vpn"/> becomes a PTE of <see cref="NewPfn"/>
    /// (the old one again when the move failed). With <see cref="Slot"/> != 0 it is 2.6.16 <c>remove_from_swap</c>: the
    /// swap entry of that slot becomes the PTE (<c>unuse_pte</c>).</summary>
    internal readonly record struct RemoveMigrationItem(uint Vpn, int OldPfn, int NewPfn, bool Write, int Slot = 0);

    /// <summary><c>remove_migration_ptes(old, new)</c> for this task's mappings; faults waiting on them retry.</summary>
    internal sealed record RemoveMigrationPtes(long Token, IActorRef Node, RemoveMigrationItem[] Items) : IMigrationPteRequest;

    /// <summary>Which entries still held the migration entry and now map the page (a task that exited or unmapped the
    /// range meanwhile installs none, and the node adds no rmap for it).</summary>
    internal sealed record MigrationPtesRemoved(long Token, int Task, bool[] Installed) : NumaNode.IMigrateMessage;
}

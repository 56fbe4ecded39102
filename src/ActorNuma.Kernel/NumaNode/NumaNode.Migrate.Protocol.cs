namespace ActorNuma.Kernel;

/// <summary>The node's part of 2.6.18 direct migration (mm/migrate.c <c>unmap_and_move</c>): one pass over the old
/// pages of this node, the copy to the new page's node, and the release of target pages that were not used.</summary>
public static partial class NumaNode
{
    /// <summary>A message of the direct-migration paths that a node handles.</summary>
    internal interface IMigrateMessage;

    /// <summary>An isolated page and the target page <c>get_new_page</c> allocated for it in this pass.</summary>
    internal readonly record struct MigrateItem(int OldPfn, int NewPfn);

    /// <summary>One pass of 2.6.18 <c>migrate_pages()</c> over this node's pages: <c>unmap_and_move(page, force)</c> for
    /// each; <see cref="Cpu"/> is the migrating task's CPU, whose pagevec <c>move_to_lru</c> uses.</summary>
    internal sealed record MigratePass(long Token, IActorRef ReplyTo, int Pass, bool Force, MigrateItem[] Items, int Cpu)
        : IMigrateMessage, IKernelRequest;

    internal enum MigrateVerdict : byte
    {
        Pending,
        /// <summary>rc 0: the contents are in the new page, the old page left the list and is being freed.</summary>
        Moved,
        /// <summary>rc 0 with <c>page_count == 1</c>: the page was freed under us; it stays on the list.</summary>
        FreedUnderUs,
        /// <summary>-EAGAIN: locked, under writeback, still mapped or still referenced; tried again next pass.</summary>
        Retry,
        /// <summary>Another error: the page went back to the LRU (<c>move_to_lru</c>).</summary>
        Failed,
        /// <summary>2.6.16: <c>migrate_page_remove_references</c> succeeded; the page is locked, unmapped, held by the swap
        /// cache and the isolation only, and waits for its target (<see cref="MigrateSwapCacheCopy"/>).</summary>
        Ready,
    }

    /// <summary>Per page (request order): its verdict and <c>*result</c> (the new page's node, or a negative errno).</summary>
    internal sealed record MigratePassResult(long Token, int Node, int[] Pfns, MigrateVerdict[] Verdicts, int[] Results)
        : IKernelReply;

    /// <summary>A task that maps the page being moved: where, and whether its entry was a write migration entry.</summary>
    internal readonly record struct MigratedMapper(int Task, uint Vpn, bool Write);

    /// <summary><c>move_to_new_page()</c> at the new page's node: the contents and flags copied
    /// (<c>migrate_page_copy</c>), the swap-cache slot taken over (<c>migrate_page_move_mapping</c>), then
    /// <c>remove_migration_ptes(old, new)</c> and <c>move_to_lru(newpage)</c> on <see cref="Cpu"/>.</summary>
    /// <param name="FromSwap">2.6.16 <c>migrate_page()</c>: the mappers hold swap entries, which <c>remove_from_swap</c>
    /// rewrites, and the new page then leaves the swap cache (<c>delete_from_swap_cache</c>), freeing the slot.</param>
    internal sealed record InstallMigratedPage(long Token, IActorRef OldNode, int OldPfn, int NewPfn, uint Contents,
        PageFlags Flags, int SwapSlot, MigratedMapper[] Mappers, int Cpu, bool FromSwap = false) : IMigrateMessage;

    internal sealed record MigratedPageInstalled(long Token, int OldPfn) : IMigrateMessage;

    /// <summary><c>move_to_lru(newpage)</c> of target pages no migration used: into <see cref="Cpu"/>'s pagevec with
    /// their only reference, so the drain frees them. <see cref="Cpu"/> -1: 2.6.16 <c>migrate_pages_to()</c>'s
    /// <c>__free_page</c> of leftover targets, straight back to the free list.</summary>
    internal sealed record ReleaseMigrationTargets(int[] Pfns, int Cpu) : IMigrateMessage;

    /// <summary>One pass of 2.6.16 <c>migrate_pages()</c> (mm/vmscan.c) over this node's pages, up to the choice of the
    /// target: page_count, the page lock (trylock before pass 3), writeback (waited for from pass 1),
    /// <c>add_to_swap</c> and <c>migrate_page_remove_references</c>. The answer is a <see cref="MigratePassResult"/> with
    /// <see cref="MigrateVerdict.Ready"/> for the pages that wait for their targets.</summary>
    internal sealed record MigrateSwapCachePass(long Token, IActorRef ReplyTo, int Pass, int[] Pfns, int Cpu)
        : IMigrateMessage, IKernelRequest;

    /// <summary>The rest of 2.6.16 <c>migrate_page()</c> for pages that are <see cref="MigrateVerdict.Ready"/>, each with
    /// the target <c>lru_to_page(to)</c> gave it: the copy, <c>remove_from_swap</c>, the unlock. Answered with a
    /// <see cref="MigratePassResult"/> of <see cref="MigrateVerdict.Moved"/> pages.</summary>
    internal sealed record MigrateSwapCacheCopy(long Token, IActorRef ReplyTo, MigrateItem[] Items, int Cpu)
        : IMigrateMessage, IKernelRequest;
}

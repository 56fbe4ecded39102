using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Kernel;

/// <summary>The locks of the task's mm that make other actors' requests wait, as named states: mmap_sem, which the
/// syscall in progress may hold for writing, and the page-table locks fork's copy_page_range holds. A request that finds
/// its lock taken waits in the state's queue and runs, in arrival order, when the holder lets go.</summary>
/// <remarks>Named state records rather than Akka's Become/Stash: Unstash puts the messages back in front of the
/// mailbox, which under the seeded executor would order them differently from the queues here (and from every trace
/// recorded so far).</remarks>
public sealed partial class NumaTaskActor
{
    /// <summary><c>mm-&gt;mmap_sem</c> as other tasks meet it: mbind, mmap, munmap, exit and fork hold it for writing
    /// (<c>down_write</c>) while they run; do_migrate_pages from another task's migrate_pages (<c>down_read</c>) waits in
    /// <see cref="Readers"/> until the syscall completes (<c>up_write</c>).</summary>
    private sealed record MmapSem(Queue<DoMigratePages> Readers)
    {
        public static bool HeldForWriteBy(Syscall? current) => current is Mbind or Mmap or Munmap or Exit or Fork;
    }

    /// <summary>The page-table locks: free, or held by fork's <c>copy_page_range</c>, whose rmap requests from nodes
    /// (try_to_unmap, page_referenced) wait until the copy is done.</summary>
    private abstract record PageTableLock
    {
        public sealed record Free : PageTableLock
        {
            public static readonly Free Instance = new();
        }

        public sealed record CopyingPageRange(Queue<object> Waiting) : PageTableLock;
    }

    private readonly MmapSem _mmapSem = new(new Queue<DoMigratePages>());
    private PageTableLock _pageTableLock = PageTableLock.Free.Instance;

    /// <summary>Syscalls that take mmap_sem for writing; migrate_pages (down_read) waits for them.</summary>
    private bool HoldsMmapSemForWrite => MmapSem.HeldForWriteBy(_current);

    /// <summary><c>up_write(&amp;mm-&gt;mmap_sem)</c> at the end of a syscall: the waiting do_migrate_pages run.</summary>
    private void ReleaseMmapSem()
    {
        while (_mmapSem.Readers.Count > 0)
        {
            HandleDoMigratePages(_mmapSem.Readers.Dequeue());
        }
    }

    /// <summary>fork's copy_page_range takes the page-table locks.</summary>
    private void LockPageTablesForFork() => _pageTableLock = new PageTableLock.CopyingPageRange(new Queue<object>());

    /// <summary>The copy is done: the locks are free; <paramref name="then"/> runs, then the rmap requests that waited.</summary>
    private void UnlockPageTables(Action then)
    {
        var waiting = ((PageTableLock.CopyingPageRange)_pageTableLock).Waiting;
        _pageTableLock = PageTableLock.Free.Instance;
        then();
        while (waiting.Count > 0)
        {
            OnReceive(waiting.Dequeue());
        }
    }
}

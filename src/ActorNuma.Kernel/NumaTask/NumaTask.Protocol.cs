
namespace ActorNuma.Kernel;

/// <summary>The public protocol of <see cref="NumaTaskActor"/>: the syscalls a task makes, the faults it takes, and the
/// requests the rest of the kernel makes of its page table (rmap walks). Every syscall is answered with one
/// <see cref="SyscallResult"/>; a task runs one syscall at a time, as a single-threaded process does.</summary>
public static partial class NumaTask
{
    /// <summary>A system call (or a fault-generating access) made by the task.</summary>
    public abstract record Syscall;

    /// <summary>mmap(addr, pages * 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED).</summary>
    public sealed record Mmap(ulong Addr, long Pages) : Syscall;

    public sealed record Munmap(ulong Addr, ulong Len) : Syscall;

    /// <summary>Loads (or stores) to every page of a range: faults where needed, checks what each load reads.</summary>
    public sealed record Touch(ulong Addr, long Pages, bool Write) : Syscall;

    /// <summary>mbind(start, len, mode, nmask, maxnode, flags) with raw mode and flags, so invalid ones can be tried.</summary>
    public sealed record Mbind(ulong Addr, ulong Len, int Mode, NodeMask? Nodes, int MaxNode, bool NodemaskFault, int Flags)
        : Syscall;

    public sealed record SetMempolicy(int Mode, NodeMask? Nodes, int MaxNode, bool NodemaskFault) : Syscall;

    public sealed record GetMempolicy(int Flags, ulong Addr, int MaxNode, bool NodemaskGiven) : Syscall;

    public sealed record SchedSetaffinity(int Cpu) : Syscall;

    /// <summary>Evicts every present page of the range through the migration path (isolate, swapout_pages, putback):
    /// the seed's "suspending an application by swapping it out". Returns the number of pages not evicted.</summary>
    public sealed record Swapout(ulong Addr, long Pages) : Syscall;

    /// <summary>exit(status): the task's memory is released; it stays a zombie until its parent reaps it.</summary>
    public sealed record Exit(int Status = 0) : Syscall;

    /// <summary>waitpid(pid, &amp;status, nohang ? WNOHANG : 0): reaps an exited child (pid -1: any child). Returns the
    /// child's pid with its wait status, 0 with WNOHANG while no child has exited, ECHILD without such a child.</summary>
    public sealed record Waitpid(int Pid, bool NoHang) : Syscall;

    /// <summary>fork(): the child gets a copy-on-write copy of the address space and the task policy.</summary>
    public sealed record Fork(string ChildName) : Syscall;

    /// <summary>migrate_pages(pid, maxnode, old_nodes, new_nodes) (2.6.16, swap-based form). ENOSYS before 2.6.16.</summary>
    public sealed record MigratePages(int Pid, int MaxNode, NodeMask? OldNodes, NodeMask? NewNodes, bool NodemaskFault)
        : Syscall;

    /// <summary>What a migration did. <see cref="Fields"/> is the one list of its statistics, with the names the
    /// report's <c>migration</c> object gives them (tools outside this repository read those); the trace's
    /// <c>mm_migrate_pages</c> event is written from the same list (<see cref="TraceFields"/>).</summary>
    public sealed record MigrationStats(
        long Scanned, long Isolated, long FailPagevec, long FailIsolatedElsewhere, long FailBeingFreed, long FailNotLru,
        long SkippedShared, long Evicted, long Failed, long PutBack, int Passes, TimeSpan Time, long Warnings)
    {
        /// <summary>Every statistic by its report name, in report order.</summary>
        public IEnumerable<(string Name, long Value)> Fields() =>
        [
            ("scanned", Scanned), ("isolated", Isolated), ("isolate_fail_pagevec", FailPagevec),
            ("isolate_fail_isolated", FailIsolatedElsewhere), ("isolate_fail_freeing", FailBeingFreed),
            ("isolate_fail_other", FailNotLru), ("shared_skipped", SkippedShared), ("evicted", Evicted), ("failed", Failed),
            (PutBackName, PutBack), ("passes", Passes), ("time_us", (long)Time.TotalMicroseconds), (WarningsName, Warnings),
        ];

        private const string PutBackName = "put_back";
        private const string WarningsName = "warnings";

        /// <summary>The trace event's <c>key=value</c> list, from <see cref="Fields"/>. Two differences, both kept so
        /// that every recorded trace hash stays valid: the warnings are left out (each is a trace event of its own),
        /// and put_back is spelled <c>putback</c>, as the trace always has.</summary>
        public string TraceFields() => string.Join(" ", Fields()
            .Where(f => f.Name != WarningsName)
            .Select(f => $"{(f.Name == PutBackName ? "putback" : f.Name)}={f.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}"));
    }

    /// <summary>The result of a syscall: its return value and errno, plus what some calls report.</summary>
    public sealed record SyscallResult(long Ret, Errno Errno)
    {
        public MpolMode? Mode { get; init; }
        public NodeMask? Nodes { get; init; }
        public int? Node { get; init; }
        public MigrationStats? Migration { get; init; }
        /// <summary>For fork: the child's pid.</summary>
        public int? ChildPid { get; init; }
        /// <summary>For waitpid: the reaped child's wait status (exit code &lt;&lt; 8, or the signal that killed it).</summary>
        public int? WaitStatus { get; init; }
        public long Faults { get; init; }
        public long MajorFaults { get; init; }
        /// <summary>For move_pages: the status array as copied out (null when it was not).</summary>
        public int[]? Status { get; init; }

        public static SyscallResult Ok(long ret = 0) => new(ret, Errno.None);
        public static SyscallResult Fail(Errno e) => new(-1, e);
    }

    // ---- queries (read-only, answered at once even in the middle of a syscall) -------------------------------

    /// <summary>Per-node counts of present pages (the zero page not counted) and of swapped-out pages in a range; with
    /// <see cref="SwapCache"/>, also how many present pages are in the swap cache (asked of their nodes).</summary>
    public sealed record QueryPages(ulong Addr, long Pages, bool SwapCache = false);

    /// <summary><see cref="SwapCache"/> is null unless asked for.</summary>
    public sealed record PagesReport(IReadOnlyDictionary<int, long> PerNode, long Swapped, long NotPresent, long? SwapCache = null);

    /// <summary>/proc/pid/numa_maps.</summary>
    public sealed record GetNumaMaps;

    public sealed record NumaMapsReport(IReadOnlyList<string> Lines);

    // ---- rmap requests from nodes (page table lock, not mmap_sem: served while a syscall waits) ----------------

    internal readonly record struct UnmapItem(int Pfn, uint Vpn, int Slot);

    /// <summary><c>try_to_unmap_one</c> for each page: a young PTE fails (and loses its young bit) unless
    /// <see cref="IgnoreYoung"/>; otherwise the PTE becomes the swap entry.</summary>
    internal sealed record TryToUnmap(long Token, IActorRef Node, UnmapItem[] Items, bool IgnoreYoung) : IKernelRequest;

    internal enum UnmapOutcome : byte { Unmapped, Young, NotMapped }

    /// <summary>The answer to <see cref="TryToUnmap"/>, delivered to the node through the swap device.</summary>
    internal sealed record UnmapResult(long Token, int Task, int[] Pfns, UnmapOutcome[] Outcomes, bool[] Dirty) : IKernelReply;

    /// <summary><c>page_referenced_one</c> for each page: was the PTE young? The bit is cleared.</summary>
    internal sealed record PageReferenced(long Token, IActorRef Node, int[] Pfns, uint[] Vpns) : IKernelRequest;

    internal sealed record PageReferencedResult(long Token, int Task, int[] Pfns, bool[] Young) : IKernelReply;

    /// <summary>The OOM killer asks for the task's size (<c>badness()</c> starts from mm-&gt;total_vm).</summary>
    internal sealed record GetTotalVm(long Token) : IKernelRequest;

    internal sealed record TotalVm(long Token, int Pid, long Pages, bool Exited) : IKernelReply;

    /// <summary>The OOM killer chose this task.</summary>
    internal sealed record OomKill(int Pfn);

    /// <summary>Sent by the migrate_pages caller to the target: run do_migrate_pages on your mm.</summary>
    internal sealed record DoMigratePages(long Token, IActorRef Caller, NodeMask From, NodeMask To, MpolFlags Flags) : IKernelRequest;

    internal sealed record MigratePagesDone(long Token, long NotMoved, MigrationStats Stats) : IKernelReply;

    /// <summary>A one-way step of the task's own finished (routed back to it through another actor).</summary>
    internal sealed record StepDone(long Token) : IKernelReply;
}

using System.Globalization;
using ActorNuma.Kernel;

namespace ActorNuma.TestKit;

/// <summary>
/// A kernel event as the machine's trace recorded it, published on the test's <c>ActorSystem.EventStream</c> in trace
/// order. Subscribe a probe to <see cref="KernelEvent"/> for all of them, or to one record type:
/// <code>Sys.EventStream.Subscribe(probe.Ref, typeof(PageSwappedOut));</code>
/// </summary>
/// <param name="Seq">The event's sequence number in the trace (several records may share one: an isolation that took
/// fewer pages than asked is both a <see cref="PageIsolated"/> and an <see cref="IsolationFailed"/>).</param>
/// <param name="Time">Time since boot on the machine's clock (virtual in deterministic mode).</param>
public abstract record KernelEvent(long Seq, TimeSpan Time);

/// <summary>Pages allocated for a fault of <paramref name="Task"/> on <paramref name="Node"/>: an anonymous page
/// (<c>do_anonymous_page</c>) or a copy-on-write copy (<c>do_wp_page</c>).</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Task">The faulting task's pid.</param>
/// <param name="Node">The node the pages came from.</param>
/// <param name="Cpu">The CPU the task faulted on.</param>
/// <param name="Pages">How many pages this allocation took.</param>
/// <param name="CopyOnWrite">True for <c>do_wp_page</c>'s copy.</param>
/// <remarks>Trace: <c>mm_page_alloc</c> with purpose AnonFault or CowCopy.</remarks>
public sealed record PageFaulted(long Seq, TimeSpan Time, int Task, int Node, int Cpu, int Pages, bool CopyOnWrite)
    : KernelEvent(Seq, Time);

/// <summary>Pages of <paramref name="Task"/> coming back from swap on <paramref name="Node"/>: found in the swap cache
/// and mapped where they are, or allocated for a read of their slot (<c>read_swap_cache_async</c>).</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Task">The faulting task's pid.</param>
/// <param name="Node">The node that holds the pages.</param>
/// <param name="Pages">How many pages.</param>
/// <param name="FromSwapCache">True for a swap-cache hit, false for a page allocated for a read from the device.</param>
/// <remarks>Trace: <c>mm_swap_cache_hit</c>, and <c>mm_page_alloc</c> with purpose SwapIn.</remarks>
public sealed record PageSwappedIn(long Seq, TimeSpan Time, int Task, int Node, int Pages, bool FromSwapCache)
    : KernelEvent(Seq, Time);

/// <summary>Pages taken off <paramref name="Node"/>'s LRU lists by <paramref name="Isolator"/> (migration,
/// kswapd or direct reclaim).</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Node">The node whose LRU the pages left.</param>
/// <param name="Isolator">"migration", "kswapd" or "direct".</param>
/// <param name="Requested">Pages asked for.</param>
/// <param name="Taken">Pages isolated.</param>
/// <remarks>Trace: <c>mm_vmscan_lru_isolate</c>. Kernel: mm/vmscan.c isolate_lru_page(), isolate_lru_pages().</remarks>
public sealed record PageIsolated(long Seq, TimeSpan Time, int Node, string Isolator, int Requested, int Taken)
    : KernelEvent(Seq, Time);

/// <summary>A migration asked <paramref name="Node"/> to isolate pages and got fewer: the others were in a CPU's
/// pagevec, isolated by someone else (kswapd), being freed, or not on the LRU.</summary>
/// <param name="Seq">The trace sequence number (the same as the <see cref="PageIsolated"/> it follows).</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Node">The node asked.</param>
/// <param name="Requested">Pages asked for.</param>
/// <param name="Taken">Pages isolated.</param>
/// <remarks>Trace: <c>mm_vmscan_lru_isolate isolator=migration</c> with nr_taken &lt; nr_requested.</remarks>
public sealed record IsolationFailed(long Seq, TimeSpan Time, int Node, int Requested, int Taken)
    : KernelEvent(Seq, Time);

/// <summary>One page written to its swap slot.</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Node">The page's node.</param>
/// <param name="Pfn">The page frame.</param>
/// <param name="Slot">The swap slot it was written to.</param>
/// <remarks>Trace: <c>mm_vmscan_writepage</c>. Kernel: mm/vmscan.c pageout(), mm/page_io.c swap_writepage().</remarks>
public sealed record PageSwappedOut(long Seq, TimeSpan Time, int Node, int Pfn, int Slot) : KernelEvent(Seq, Time);

/// <summary>Isolated pages a migration put back on <paramref name="Node"/>'s LRU.</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Node">The node.</param>
/// <param name="Pages">How many pages went back.</param>
/// <param name="DropReference">Whether the putback dropped the isolation's reference (the V2 leak is when it does not).</param>
/// <remarks>Trace: <c>mm_migrate_putback</c>. Kernel: mm/vmscan.c putback_lru_pages() of the 2005 patchset.</remarks>
public sealed record PagePutBack(long Seq, TimeSpan Time, int Node, int Pages, bool DropReference) : KernelEvent(Seq, Time);

/// <summary>A migration (mbind MPOL_MF_MOVE, migrate_pages, or a swapout) finished on <paramref name="Task"/>'s mm.</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Task">The pid whose pages were walked.</param>
/// <param name="Reason">What started it (mbind, migrate_pages, swapout).</param>
/// <param name="Scanned">Pages the walk looked at.</param>
/// <param name="Isolated">Pages isolated.</param>
/// <param name="Evicted">Pages written out (they come back, under the policy in force, when touched).</param>
/// <param name="Failed">Pages that could not be evicted.</param>
/// <param name="PutBack">Pages put back on the LRU.</param>
/// <remarks>Trace: <c>mm_migrate_pages</c>. Kernel: mm/mempolicy.c do_migrate_pages(), mm/vmscan.c swapout_pages().</remarks>
public sealed record PagesMigrated(long Seq, TimeSpan Time, int Task, string Reason, int Scanned, int Isolated,
    int Evicted, int Failed, int PutBack) : KernelEvent(Seq, Time);

/// <summary><c>wakeup_kswapd</c> woke <paramref name="Node"/>'s kswapd.</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Node">The node.</param>
/// <param name="Order">The allocation order that woke it.</param>
/// <param name="FreePages">The node's free pages then (-1 when unknown).</param>
/// <remarks>Trace: <c>mm_vmscan_kswapd_wake</c>. Kernel: mm/vmscan.c kswapd(), balance_pgdat().</remarks>
public sealed record KswapdWoke(long Seq, TimeSpan Time, int Node, int Order, int FreePages) : KernelEvent(Seq, Time);

/// <summary><paramref name="Node"/>'s kswapd went back to sleep.</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Node">The node.</param>
/// <param name="Reclaimed">Pages it reclaimed since it woke.</param>
/// <param name="FreePages">The node's free pages.</param>
/// <remarks>Trace: <c>mm_vmscan_kswapd_sleep</c>.</remarks>
public sealed record KswapdSlept(long Seq, TimeSpan Time, int Node, int Reclaimed, int FreePages) : KernelEvent(Seq, Time);

/// <summary>A task was killed for memory: by its own fault (VM_FAULT_OOM) or by the OOM killer.</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Task">The killed pid.</param>
/// <param name="Name">Its name.</param>
/// <param name="Reason">"fault" or "oom_killer".</param>
/// <remarks>Trace: <c>oom_kill_process</c>. Kernel: mm/oom_kill.c oom_kill_process(), mm/memory.c VM_FAULT_OOM.</remarks>
public sealed record OomKill(long Seq, TimeSpan Time, int Task, string Name, string Reason) : KernelEvent(Seq, Time);

/// <summary>An emulated <c>WARN_ON</c> fired.</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Site">The kernel site (<c>mm/mempolicy.c:check_pte_range</c>).</param>
/// <param name="Pfn">The page concerned.</param>
/// <param name="Message">What the warning says.</param>
/// <remarks>Trace: <c>kernel_warn</c>.</remarks>
public sealed record WarnOn(long Seq, TimeSpan Time, string Site, int Pfn, string Message) : KernelEvent(Seq, Time);

/// <summary>A task was created (spawned, or as fork's child).</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Pid">Its pid.</param>
/// <param name="Name">Its name.</param>
/// <param name="Cpu">The CPU it runs on.</param>
/// <remarks>Trace: <c>task_new</c>.</remarks>
public sealed record TaskCreated(long Seq, TimeSpan Time, int Pid, string Name, int Cpu) : KernelEvent(Seq, Time);

/// <summary>fork() made <paramref name="Child"/> from <paramref name="Parent"/>.</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Parent">The parent's pid.</param>
/// <param name="Child">The child's pid.</param>
/// <param name="Name">The child's name.</param>
/// <remarks>Trace: <c>sched_process_fork</c>. Kernel: kernel/fork.c copy_mm(), mm/memory.c copy_page_range().</remarks>
public sealed record TaskForked(long Seq, TimeSpan Time, int Parent, int Child, string Name) : KernelEvent(Seq, Time);

/// <summary>A task exited (its memory is being released; a zombie until reaped).</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Task">The pid.</param>
/// <param name="Name">Its name.</param>
/// <param name="OomKilled">Whether the OOM path killed it.</param>
/// <remarks>Trace: <c>sched_process_exit</c>. Kernel: kernel/exit.c do_exit(), exit_mm().</remarks>
public sealed record TaskExited(long Seq, TimeSpan Time, int Task, string Name, bool OomKilled) : KernelEvent(Seq, Time);

/// <summary>Any other trace event (mm_add_to_swap, lru_add_drain, mbind, ...), by its trace name and field text.</summary>
/// <param name="Seq">The trace sequence number.</param>
/// <param name="Time">Time since boot.</param>
/// <param name="Name">The trace event's name.</param>
/// <param name="Fields">Its fields, as the trace prints them (<c>key=value</c> pairs).</param>
public sealed record OtherKernelEvent(long Seq, TimeSpan Time, string Name, string Fields) : KernelEvent(Seq, Time);

/// <summary>Turns trace events into <see cref="KernelEvent"/> records.</summary>
public static class KernelEvents
{
    /// <summary>The records one trace event becomes, in order (usually one).</summary>
    /// <param name="e">A trace event as <see cref="KernelTrace"/> hands it to its sink.</param>
    public static IReadOnlyList<KernelEvent> From(TraceEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var (seq, time) = (e.Seq, e.Time);
        if (e.Name == "kernel_warn")
        {
            return [ParseWarn(seq, time, e.Fields)];
        }

        var f = Fields(e.Fields);
        switch (e.Name)
        {
            case "mm_page_alloc":
                var purpose = Str(f, "purpose");
                return purpose == "SwapIn"
                    ? [new PageSwappedIn(seq, time, Int(f, "task"), Int(f, "node"), Int(f, "nr"), FromSwapCache: false)]
                    : [new PageFaulted(seq, time, Int(f, "task"), Int(f, "node"), Int(f, "cpu"), Int(f, "nr"), purpose == "CowCopy")];
            case "mm_swap_cache_hit":
                return [new PageSwappedIn(seq, time, Int(f, "task"), Int(f, "node"), Int(f, "nr"), FromSwapCache: true)];
            case "mm_vmscan_lru_isolate":
                var isolated = new PageIsolated(seq, time, Int(f, "node"), Str(f, "isolator"), Int(f, "nr_requested"), Int(f, "nr_taken"));
                return isolated.Isolator == "migration" && isolated.Taken < isolated.Requested
                    ? [isolated, new IsolationFailed(seq, time, isolated.Node, isolated.Requested, isolated.Taken)]
                    : [isolated];
            case "mm_vmscan_writepage":
                return [new PageSwappedOut(seq, time, Int(f, "node"), Int(f, "pfn"), Int(f, "slot"))];
            case "mm_migrate_putback":
                return [new PagePutBack(seq, time, Int(f, "node"), Int(f, "nr"), Int(f, "drop_ref") != 0)];
            case "mm_migrate_pages":
                return [new PagesMigrated(seq, time, Int(f, "task"), Str(f, "reason"), Int(f, "scanned"), Int(f, "isolated"),
                    Int(f, "evicted"), Int(f, "failed"), Int(f, "putback"))];
            case "mm_vmscan_kswapd_wake":
                return [new KswapdWoke(seq, time, Int(f, "nid"), Int(f, "order"), Int(f, "free"))];
            case "mm_vmscan_kswapd_sleep":
                return [new KswapdSlept(seq, time, Int(f, "nid"), Int(f, "reclaimed"), Int(f, "free"))];
            case "oom_kill_process":
                return [new OomKill(seq, time, Int(f, "task"), Str(f, "name"), Str(f, "reason"))];
            case "task_new":
                return [new TaskCreated(seq, time, Int(f, "pid"), Str(f, "name"), Int(f, "cpu"))];
            case "sched_process_fork":
                return [new TaskForked(seq, time, Int(f, "parent"), Int(f, "child"), Str(f, "name"))];
            case "sched_process_exit":
                return [new TaskExited(seq, time, Int(f, "task"), Str(f, "name"), Int(f, "oom") != 0)];
            default:
                return [new OtherKernelEvent(seq, time, e.Name, e.Fields)];
        }
    }

    /// <summary><c>site=S pfn=N message...</c>: the message is the rest of the line.</summary>
    private static WarnOn ParseWarn(long seq, TimeSpan time, string fields)
    {
        var parts = fields.Split(' ', 3);
        var f = Fields(string.Join(' ', parts.Take(2)));
        return new WarnOn(seq, time, Str(f, "site"), Int(f, "pfn"), parts.Length > 2 ? parts[2] : "");
    }

    private static Dictionary<string, string> Fields(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq > 0)
            {
                fields[part[..eq]] = part[(eq + 1)..];
            }
        }
        return fields;
    }

    private static string Str(Dictionary<string, string> f, string key) => f.GetValueOrDefault(key, "");

    private static int Int(Dictionary<string, string> f, string key) =>
        f.TryGetValue(key, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : -1;
}

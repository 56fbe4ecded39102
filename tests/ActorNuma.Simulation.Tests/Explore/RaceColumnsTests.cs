using ActorNuma.Kernel;
using ActorNuma.Simulation.Explore;

namespace ActorNuma.Simulation.Tests.Explore;

/// <summary>replay --columns: one column per actor in the order each first appears, time going down, only the events
/// that touch the pages the failure names.</summary>
[Trait("kind", "unit")]
public sealed class RaceColumnsTests
{
    private static TraceEvent At(long seq, string actor, string name, string fields) =>
        new(seq, TimeSpan.Zero, name, fields) { Actor = actor };

    private static readonly TraceEvent[] Trace =
    [
        At(1, "kernel", "task_new", "pid=1 name=a cpu=0"),
        At(2, "task1", "kernel_warn", "site=mm/mempolicy.c:check_pte_range pfn=12 WARN_ON(rc == 0)"),
        At(3, "node0", "mm_vmscan_writepage", "node=0 pfn=12 slot=1"),
        At(4, "node0", "mm_vmscan_writepage", "node=0 pfn=13 slot=2"),
        At(5, "node1", "mm_swap_cache_hit", "node=1 task=1 nr=2 first_pfn=11"),
        At(6, "node1", "mm_page_alloc", "node=1 nr=1"),
    ];

    [Fact]
    public void Only_events_that_touch_a_page_the_failure_names_are_drawn_each_in_its_actors_column()
    {
        var lines = RaceColumns.Draw(Trace, [new KernelWarning("check_pte_range", "WARN_ON(rc == 0)", 12)], []);

        var w = RaceColumns.ColumnWidth;
        Assert.Equal(
        [
            "pages: pfn 12",
            "task a (CPU 0)".PadRight(w) + "node0".PadRight(w) + "node1",
            "WARN WARN_ON(rc == 0)",
            new string(' ', w) + "mm_vmscan_writepage node=0 pfn=12 slot=1",
            new string(' ', 2 * w) + "mm_swap_cache_hit node=1 task=1 nr=2 first_pfn=11",
        ], lines);
    }

    [Fact]
    public void A_failure_that_names_no_page_draws_every_event_that_names_one()
    {
        var lines = RaceColumns.Draw(Trace, [], ["step 8 (expect-pages): node 1 has 7 pages, expected 8"]);

        Assert.Equal("pages: every page the trace names (the failure names none)", lines[0]);
        Assert.Equal(4, lines.Count - 2);
        Assert.DoesNotContain(lines, l => l.Contains("mm_page_alloc", StringComparison.Ordinal));
    }

    [Fact]
    public void A_checker_message_names_its_pages_as_pfn_N()
    {
        var lines = RaceColumns.Draw(Trace, [], ["page-refcount: pfn 13 has 2 references, 1 user"]);

        Assert.Equal("pages: pfn 13", lines[0]);
        Assert.Equal("node0", lines[1]);
        Assert.Equal("mm_vmscan_writepage node=0 pfn=13 slot=2", lines[2]);
    }
}

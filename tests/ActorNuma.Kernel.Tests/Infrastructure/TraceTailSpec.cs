namespace ActorNuma.Kernel.Tests.Infrastructure;

/// <summary>The trace's tail: a fixed ring of the last events' lines, whole lines only, oldest first, the same text the
/// trace hashes.</summary>
public sealed class TraceTailSpec
{
    [Fact]
    public void The_tail_keeps_the_last_whole_lines_in_order_once_the_ring_wraps()
    {
        var trace = new KernelTrace(() => TimeSpan.FromMilliseconds(1.5), keep: 100) { Tail = new TraceTail(300) };
        for (var k = 0; k < 40; k++)
        {
            trace.Emit("mm_page_alloc", $"node=0 pfn={k}");
        }

        var lines = trace.Tail!.Lines();

        var all = trace.Snapshot().Select(e => e.ToString()).ToArray();
        Assert.InRange(lines.Count, 3, 300 / all[^1].Length);
        Assert.Equal(all[^lines.Count..], lines);
    }

    [Fact]
    public void A_tail_that_has_not_wrapped_holds_every_line()
    {
        var trace = new KernelTrace(() => TimeSpan.Zero, keep: 10) { Tail = new TraceTail(1 << 12) };
        trace.Emit("boot", "nodes=2");
        trace.EmitEach("mm_vmscan_writepage", 2, new[] { 7, 8 }, static (f, p, k) => f.Append("pfn=").Append(p[k]));

        Assert.Equal(trace.Snapshot().Select(e => e.ToString()), trace.Tail!.Lines());
    }
}

namespace ActorNuma.Kernel.Tests.Infrastructure;

/// <summary>The pool of trace segments: a segment given back is handed out again, empty, to a trace that wants no
/// more than its size; the pool keeps a bounded number; and a trace whose segments come from it hashes the same.</summary>
public sealed class TraceSegmentPoolSpec
{
    [Fact]
    public void A_returned_segment_is_handed_out_again_empty()
    {
        var pool = new TraceSegmentPool(maxKept: 2);
        var segment = pool.Rent(64, 1000);
        segment.Entries[0] = new TraceEntry { Head = "mm_vmscan_writepage" };
        segment.Count = 1;
        segment.TextLength = 10;

        pool.Return(segment);

        Assert.Equal(1, pool.Count);
        var again = pool.Rent(64, 1000);
        Assert.Same(segment, again);
        Assert.Equal((0, 0), (again.Count, again.TextLength));
        Assert.Null(again.Entries[0].Head);   // a pooled segment keeps no names alive
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public void A_kept_segment_too_small_for_the_request_stays_and_a_new_one_is_made()
    {
        var pool = new TraceSegmentPool(maxKept: 2);
        var small = pool.Rent(64, 100);
        pool.Return(small);

        var more = pool.Rent(1024, 100);
        var longer = pool.Rent(64, 100_000);

        Assert.NotSame(small, more);
        Assert.NotSame(small, longer);
        Assert.True(more.Entries.Length >= 1024);
        Assert.True(longer.Text.Length >= 100_000);
        Assert.Same(small, pool.Rent(32, 50));
    }

    [Fact]
    public void A_segment_whose_text_grew_for_a_huge_field_is_not_kept()
    {
        var pool = new TraceSegmentPool(maxKept: 2);
        var (entries, chars) = TraceSegment.Sized(KernelTrace.DefaultBufferChars);
        var segment = pool.Rent(entries, chars);

        Assert.True(segment.MakeRoom(chars * 4));   // an empty segment grows to fit
        pool.Return(segment);

        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public void The_pool_keeps_at_most_its_bound()
    {
        var pool = new TraceSegmentPool(maxKept: 2);
        var segments = Enumerable.Range(0, 5).Select(_ => pool.Rent(64, 64)).ToList();

        segments.ForEach(pool.Return);

        Assert.Equal(2, pool.Count);
    }

    [Fact]
    public void Every_segment_array_stays_below_the_large_object_threshold()
    {
        foreach (var chars in new[] { 0, 4096, KernelTrace.DefaultBufferChars, int.MaxValue })
        {
            var (entries, text) = TraceSegment.Sized(chars);
            var entryBytes = entries * System.Runtime.CompilerServices.Unsafe.SizeOf<TraceEntry>();

            Assert.True(entryBytes < 85_000 && text * sizeof(char) < 85_000,
                $"bufferChars {chars}: {entries} entries ({entryBytes} B) and {text} characters make a large-object array");
        }
    }

    [Fact]
    public void Traces_that_follow_each_other_on_pooled_buffers_hash_as_fresh_ones_would()
    {
        static string Run(int events)
        {
            var trace = new KernelTrace(() => TimeSpan.FromMilliseconds(2), keep: 0, bufferChars: 4096);
            for (var k = 0; k < events; k++)
            {
                trace.Emit("mm_add_to_swap", $"node={k % 2} nr={k} é");
            }

            return trace.Sha256();
        }

        static string Expected(int events) =>
            Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Concat(
                Enumerable.Range(0, events).Select(k => $"{k + 1,8} {2.0,12:F3}ms mm_add_to_swap node={k % 2} nr={k} é\n"))))).ToLowerInvariant();

        // The first fills several buffers (hashed in the background, then back to the pool); the next ones start on them.
        foreach (var events in new[] { 5_000, 3, 5_000, 0 })
        {
            Assert.Equal(Expected(events), Run(events));
        }
    }
}

namespace ActorNuma.Kernel.Tests.Infrastructure;

/// <summary>The pool of trace hash buffers: a buffer given back is handed out again, empty, to a trace that wants no
/// more than its capacity; the pool keeps a bounded number; and a trace whose buffers come from it hashes the same.</summary>
public sealed class TraceBufferPoolSpec
{
    [Fact]
    public void A_returned_buffer_is_handed_out_again_empty()
    {
        var pool = new TraceBufferPool(maxKept: 2);
        var buffer = pool.Rent(1000);
        buffer.Append("mm_vmscan_writepage node=0");

        pool.Return(buffer);

        Assert.Equal(1, pool.Count);
        var again = pool.Rent(1000);
        Assert.Same(buffer, again);
        Assert.Equal(0, again.Length);
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public void A_kept_buffer_too_small_for_the_request_stays_and_a_new_one_is_made()
    {
        var pool = new TraceBufferPool(maxKept: 2);
        var small = pool.Rent(100);
        pool.Return(small);

        var large = pool.Rent(100_000);

        Assert.NotSame(small, large);
        Assert.True(large.Capacity >= 100_000);
        Assert.Same(small, pool.Rent(50));
    }

    [Fact]
    public void The_pool_keeps_at_most_its_bound()
    {
        var pool = new TraceBufferPool(maxKept: 2);
        var buffers = Enumerable.Range(0, 5).Select(_ => pool.Rent(64)).ToList();

        buffers.ForEach(pool.Return);

        Assert.Equal(2, pool.Count);
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

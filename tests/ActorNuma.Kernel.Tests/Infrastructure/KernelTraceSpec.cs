namespace ActorNuma.Kernel.Tests.Infrastructure;

/// <summary>The trace buffer: an event's line is the same whether its fields come as a string or as an interpolated
/// string formatted straight into the hash buffer.</summary>
public sealed class KernelTraceSpec
{
    private static KernelTrace At(double ms, int keep = 100) => new(() => TimeSpan.FromMilliseconds(ms), keep);

    [Fact]
    public void Interpolated_fields_hash_and_keep_the_same_lines_as_string_fields()
    {
        var (node, pfn, slot) = (1, 4242, 17);
        var byString = At(1.5);
        var byHandler = At(1.5);
        for (var k = 0; k < 3; k++)
        {
            byString.Emit("mm_vmscan_writepage", "node=" + node + " pfn=" + (pfn + k) + " slot=" + slot);
            byHandler.Emit("mm_vmscan_writepage", $"node={node} pfn={pfn + k} slot={slot}");
        }

        Assert.Equal(byString.Sha256(), byHandler.Sha256());
        Assert.Equal(byString.Snapshot(), byHandler.Snapshot());
        Assert.Equal("node=1 pfn=4244 slot=17", byHandler.Snapshot()[2].Fields);
        Assert.Equal(3, byHandler.Events);
    }

    [Fact]
    public void A_batch_of_events_writes_the_lines_single_events_would()
    {
        int[] pfns = [7, 8, 9];
        var single = At(3.25);
        var batch = At(3.25);
        foreach (var pfn in pfns)
        {
            single.Emit("mm_vmscan_writepage", $"node=1 pfn={pfn}");
        }

        batch.EmitEach("mm_vmscan_writepage", pfns.Length, pfns, static (fields, p, k) => fields.Append("node=1 pfn=").Append(p[k]));
        batch.EmitEach("none", 0, pfns, static (_, _, _) => throw new InvalidOperationException("no event, no fields"));

        Assert.Equal(single.Sha256(), batch.Sha256());
        Assert.Equal(single.Snapshot(), batch.Snapshot());
        Assert.Equal([1L, 2L, 3L], batch.Snapshot().Select(e => e.Seq));
    }

    [Fact]
    public void The_digest_is_sha256_of_the_trace_lines_however_many_buffers_were_hashed_in_the_background()
    {
        var ms = 0.0;
        var trace = new KernelTrace(() => TimeSpan.FromMilliseconds(ms), keep: 100_000);
        for (var k = 0; k < 20_000; k++)   // about 1.2 MB of lines: many buffers, hashed by the background task
        {
            ms = k / 7 * 0.125;
            if (k % 3 == 0)
            {
                trace.Emit("mm_vmscan_writepage", $"node={k % 2} pfn={k} slot={k + 1}");
            }
            else
            {
                trace.Emit("mm_add_to_swap", "nr=" + k + " é");   // a non-ASCII field: the digest is of UTF-8
            }
        }
        var text = string.Concat(trace.Snapshot().Select(e => e + "\n"));
        var expected = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

        Assert.True(text.Length > 1 << 20);
        Assert.Equal(expected.ToLowerInvariant(), trace.Sha256());
        Assert.Equal(trace.Sha256(), trace.Sha256());
    }

    [Fact]
    public void Every_event_time_is_written_as_the_event_text_has_it_whatever_its_width()
    {
        TimeSpan[] times =
        [
            TimeSpan.Zero, TimeSpan.FromTicks(5), TimeSpan.FromMilliseconds(1.5), TimeSpan.FromMilliseconds(1.5),
            TimeSpan.FromMilliseconds(99_999_999.9994), TimeSpan.FromMilliseconds(123_456_789.125), TimeSpan.FromDays(-3),
            TimeSpan.MaxValue, TimeSpan.MinValue, TimeSpan.FromMilliseconds(2),
        ];
        var now = TimeSpan.Zero;
        var trace = new KernelTrace(() => now, keep: 100);
        foreach (var time in times)
        {
            now = time;
            trace.Emit("tick", $"at={time.Ticks}");
        }
        var text = string.Concat(trace.Snapshot().Select(e => e + "\n"));
        var expected = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

        Assert.Equal(times, trace.Snapshot().Select(e => e.Time));
        Assert.Equal(expected.ToLowerInvariant(), trace.Sha256());
    }

    [Fact]
    public async Task A_field_that_throws_leaves_no_partial_line_and_no_lock_held()
    {
        var trace = At(1);
        var clean = At(1);
        trace.Emit("a", $"n={1}");
        clean.Emit("a", $"n={1}");

        Assert.Throws<InvalidOperationException>(() => trace.Emit("b", $"n={Fail()}"));
        // Another thread: the lock must be free.
        await Task.Run(() => trace.Emit("c", $"n={3}")).WaitAsync(TimeSpan.FromSeconds(10));
        clean.Emit("c", $"n={3}");

        Assert.Equal(clean.Snapshot(), trace.Snapshot());
        Assert.Equal(clean.Sha256(), trace.Sha256());
        static int Fail() => throw new InvalidOperationException("field");
    }

    [Fact]
    public void An_event_emitted_while_another_events_fields_are_formatted_is_a_whole_line_of_its_own()
    {
        var trace = At(1);
        trace.Emit("outer", $"inner_seq={Inner()}");

        Assert.Equal(["1 inner x=1", "2 outer inner_seq=1"], trace.Snapshot().Select(e => $"{e.Seq} {e.Name} {e.Fields}"));
        long Inner()
        {
            trace.Emit("inner", $"x={1}");
            return trace.Events;
        }
    }

    [Fact]
    public void Events_past_the_kept_window_are_hashed_but_not_kept()
    {
        var small = At(0, keep: 2);
        var large = At(0, keep: 10);
        for (var k = 0; k < 5; k++)
        {
            small.Emit("e", $"k={k}");
            large.Emit("e", $"k={k}");
        }

        Assert.Equal(2, small.Snapshot().Count);
        Assert.Equal(5, large.Snapshot().Count);
        Assert.Equal(large.Sha256(), small.Sha256());
    }

    [Fact]
    public void A_disabled_trace_formats_nothing_and_counts_nothing()
    {
        var trace = At(0);
        trace.Enabled = false;
        var formatted = 0;
        trace.Emit("e", $"x={Count()}");

        Assert.Equal(0, formatted);
        Assert.Equal(0, trace.Events);
        Assert.Empty(trace.Snapshot());
        int Count() => ++formatted;
    }

    [Fact]
    public void The_log_sink_sees_each_interpolated_event_once_in_order()
    {
        var trace = At(2, keep: 0);
        var seen = new List<TraceEvent>();
        trace.Log = seen.Add;
        trace.Emit("a", $"n={1}");
        trace.Emit("b", "n=2");

        Assert.Equal(["a n=1", "b n=2"], seen.Select(e => $"{e.Name} {e.Fields}"));
        Assert.Equal([1L, 2L], seen.Select(e => e.Seq));
    }
}

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

    private static readonly TraceLayout Writepage = new("mm_vmscan_writepage", "node", "pfn", "slot");

    [Fact]
    public void A_layout_batch_hashes_keeps_and_logs_the_lines_interpolated_events_would()
    {
        (long Node, long Pfn, long Slot)[] pages = [(1, 4242, 17), (0, 0, -3), (1, long.MaxValue, long.MinValue)];
        var single = At(3.25);
        var batch = At(3.25);
        var logged = new List<string>();
        batch.Log = e => logged.Add(e.Fields);
        foreach (var (node, pfn, slot) in pages)
        {
            single.Emit("mm_vmscan_writepage", $"node={node} pfn={pfn} slot={slot}");
        }

        batch.EmitEach(Writepage, pages.Length, pages, static (p, k) => new TraceValues(p[k].Node, p[k].Pfn, p[k].Slot));

        Assert.Equal(single.Sha256(), batch.Sha256());
        Assert.Equal(single.Snapshot(), batch.Snapshot());
        Assert.Equal("node=1 pfn=9223372036854775807 slot=-9223372036854775808", batch.Snapshot()[2].Fields);
        Assert.Equal(single.Snapshot().Select(e => e.Fields), logged);
    }

    [Fact]
    public void Layout_and_text_events_across_many_segments_hash_as_their_lines_and_reach_the_tail()
    {
        var ms = 0.0;
        var trace = new KernelTrace(() => TimeSpan.FromMilliseconds(ms), keep: 100_000, bufferChars: 4096) { Tail = new TraceTail(1 << 12) };
        var huge = new string('x', 70_000);   // longer than a segment's text and the hashing's line buffer
        for (var k = 0; k < 5_000; k++)
        {
            ms = k / 5 * 0.5;
            switch (k % 4)
            {
                case 0: trace.EmitEach(Writepage, 2, k, static (k, j) => new TraceValues(k % 2, k + j, -j)); break;
                case 1: trace.Emit("mm_add_to_swap", $"nr={k} é"); break;
                case 2: trace.Emit("big", k % 1000 == 2 ? huge : "small"); break;
                default: trace.EmitEach("each", 1, k, static (f, k, _) => f.Append("k=").Append(k)); break;
            }
        }
        var lines = trace.Snapshot().Select(e => e + "\n").ToArray();
        var expected = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Concat(lines))));

        var tail = trace.Tail!.Lines();

        Assert.Equal(6_250, trace.Events);
        Assert.Equal(lines[^tail.Count..].Select(l => l.TrimEnd('\n')), tail);
        Assert.Equal(expected.ToLowerInvariant(), trace.Sha256());
    }

    [Fact]
    public void A_values_reader_that_throws_keeps_the_events_before_it_and_leaves_no_gap_in_the_sequence()
    {
        var trace = At(1);
        var clean = At(1);
        int[] pfns = [7, 8, -1];

        Assert.Throws<InvalidOperationException>(() => trace.EmitEach(Writepage, pfns.Length, pfns,
            static (p, k) => p[k] < 0 ? throw new InvalidOperationException("pfn") : new TraceValues(0, p[k], 0)));
        trace.Emit("after", "x=1");
        clean.EmitEach(Writepage, 2, pfns, static (p, k) => new TraceValues(0, p[k], 0));
        clean.Emit("after", "x=1");

        Assert.Equal([1L, 2L, 3L], trace.Snapshot().Select(e => e.Seq));
        Assert.Equal(clean.Sha256(), trace.Sha256());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a,b,c,d")]
    [InlineData("node,")]
    public void A_layout_has_one_to_three_named_fields(string csv)
    {
        var keys = csv.Length == 0 ? [] : csv.Split(',');
        var error = Assert.Throws<ArgumentException>(() => new TraceLayout("mm_vmscan_writepage", keys));

        Assert.Contains("1 to 3 non-empty keys", error.Message);
    }

    [Fact]
    public void Surrogate_pairs_and_a_lone_surrogate_hash_as_the_utf8_of_the_lines_across_segments()
    {
        var trace = new KernelTrace(() => TimeSpan.FromMilliseconds(1), keep: 100_000, bufferChars: 4096);
        for (var k = 0; k < 3_000; k++)   // more than a segment's entries and text
        {
            trace.Emit("name", k % 3 == 0 ? $"clef=\U0001D11E k={k}" : k % 3 == 1 ? "lone=\ud800" : $"k={k}");
        }
        var text = string.Concat(trace.Snapshot().Select(e => e + "\n"));
        var expected = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

        Assert.Equal(expected.ToLowerInvariant(), trace.Sha256());
    }

    [Fact]
    public void An_event_without_a_name_is_refused_and_the_trace_goes_on()
    {
        var trace = At(1);
        var clean = At(1);

        Assert.Throws<ArgumentNullException>(() => trace.Emit(null!, "x=1"));
        trace.Emit("after", "x=1");
        clean.Emit("after", "x=1");

        Assert.Equal(1, trace.Events);
        Assert.Equal(clean.Sha256(), trace.Sha256());
    }
}

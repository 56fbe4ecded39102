using ActorNuma.Mm;

namespace ActorNuma.Kernel.Tests;

/// <summary>The node's wait table (<c>zone-&gt;wait_table</c>, <c>page_waitqueue()</c>): pages share hashed queues, and a
/// wake-up of (page, bit) takes exactly that page's sleepers on that bit, in the order they slept, and leaves everyone
/// else in the queue asleep in their order.</summary>
public sealed class WaitTableSpec
{
    // 64 pages: the table's 4 queues, so the 40 pages below share queues.
    private static WaitTable<int> Table() => new(pages: 64);

    [Fact]
    public void A_wake_up_takes_the_page_and_bits_sleepers_in_the_order_they_slept()
    {
        var table = Table();
        for (var n = 0; n < 3; n++)
        {
            for (var idx = 0; idx < 40; idx++)
            {
                table.Add(idx, n == 1 ? PageFlags.Writeback : PageFlags.Locked, idx * 10 + n);
            }
        }

        Assert.True(table.Take(7, PageFlags.Locked, out var first, out var more));
        Assert.Equal(70, first);
        Assert.Equal([72], more!);
        Assert.True(table.Take(7, PageFlags.Writeback, out first, out more));
        Assert.Equal((71, null), (first, more));
        Assert.False(table.Take(7, PageFlags.Locked, out _, out _));
        Assert.Equal(117, table.Count);

        // Every other sleeper is still there, each page's in order.
        for (var idx = 0; idx < 40; idx++)
        {
            if (idx == 7)
            {
                continue;
            }

            Assert.True(table.Take(idx, PageFlags.Locked, out first, out more));
            Assert.Equal(idx * 10, first);
            Assert.Equal([idx * 10 + 2], more!);
            Assert.True(table.Take(idx, PageFlags.Writeback, out first, out _));
            Assert.Equal(idx * 10 + 1, first);
        }

        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void A_sleeper_queued_after_a_wake_up_sleeps_behind_those_still_there_and_entries_are_reused()
    {
        var table = Table();
        for (var round = 0; round < 1000; round++)   // 1,000 sleeps through a pool that never holds more than 3
        {
            table.Add(4, PageFlags.Locked, round);
            table.Add(8, PageFlags.Locked, -round);
            Assert.True(table.Take(4, PageFlags.Locked, out var first, out _));
            Assert.Equal(round, first);
            table.Add(4, PageFlags.Locked, round + 1);
            Assert.True(table.Take(8, PageFlags.Locked, out first, out _));
            Assert.Equal(-round, first);
            Assert.True(table.Take(4, PageFlags.Locked, out first, out _));
            Assert.Equal(round + 1, first);
        }

        Assert.Equal(0, table.Count);
        Assert.False(table.Take(4, PageFlags.Locked, out _, out _));
    }
}

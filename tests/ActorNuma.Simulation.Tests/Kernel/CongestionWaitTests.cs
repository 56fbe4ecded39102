namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary><c>blk_congestion_wait(WRITE, HZ/10)</c>, the nap of balance_pgdat and try_to_free_pages between priorities:
/// a completed write request wakes every sleeper (freed_request → clear_queue_congested), so with swap writes in flight
/// the nap ends at the next completion; only with none does it last the whole timeout.</summary>
/// <remarks>Kernel: 2.6.14 drivers/block/ll_rw_blk.c blk_congestion_wait(), freed_request(); the trace is the later
/// kernel's writeback_congestion_wait tracepoint (2.6.37 mm/backing-dev.c congestion_wait()).</remarks>
[Trait("kind", "scenario")]
public sealed class CongestionWaitTests
{
    /// <param name="file">reclaim-direct.conf has kswapd off (every nap is a task's try_to_free_pages, taken right
    /// after its own pageout started writes); kswapd-pressure.conf never stalls a task (every nap is kswapd's
    /// balance_pgdat, some at priorities that wrote nothing).</param>
    /// <param name="someWithoutWrites">Whether some naps find no write in flight.</param>
    [Theory]
    [InlineData("reclaim-direct.conf", false)]
    [InlineData("kswapd-pressure.conf", true)]
    public void A_congestion_nap_ends_at_the_next_completed_swap_write_and_sleeps_its_whole_timeout_only_with_none_in_flight(
        string file, bool someWithoutWrites)
    {
        var report = ScenarioRun.RunFile(file, seed: 1);

        report.AssertClean();
        var naps = report.Trace.Where(e => e.Name == "writeback_congestion_wait").Select(Nap).ToList();
        Assert.NotEmpty(naps);
        Assert.All(naps, n => Assert.Equal(100_000, n.Timeout));
        Assert.All(naps, n => Assert.InRange(n.Delayed, 0, n.Timeout));
        // Woken by a write: 32 pages queued on a device of one request in flight at 100us a page.
        Assert.Contains(naps, n => n.Delayed == 3_200);
        // No write in flight: HZ/10.
        Assert.Equal(someWithoutWrites, naps.Any(n => n.Delayed == n.Timeout));
    }

    private static (long Timeout, long Delayed) Nap(ActorNuma.Kernel.TraceEvent e)
    {
        var fields = e.Fields.Split(' ').Select(f => f.Split('=')).ToDictionary(kv => kv[0], kv => long.Parse(kv[1]));
        return (fields["usec_timeout"], fields["usec_delayed"]);
    }
}

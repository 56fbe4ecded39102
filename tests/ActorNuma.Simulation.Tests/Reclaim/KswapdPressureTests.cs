using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Reclaim;

/// <summary>Issue 4 §1, §4, §6: kswapd under steady pressure (kswapd-pressure.conf, two tasks faulting 64 pages a
/// second into node 1), and its counters per node.</summary>
[Trait("kind", "scenario")]
public sealed class KswapdPressureTests
{
    private const int Seed = 1;

    [Fact]
    public void Kswapd_wakes_below_pages_low_and_keeps_free_pages_between_low_and_high_while_tasks_keep_faulting()
    {
        var free = 0;
        var wm = default(Watermarks);
        var report = ReclaimRun.Load("kswapd-pressure.conf").Run(Seed, atEnd: m =>
        {
            free = m.Nodes[1].Memory.FreePages;
            wm = m.Nodes[1].Memory.Watermarks;
        });

        report.AssertClean();
        Assert.Equal((256, 320, 384), (wm.PagesMin, wm.PagesLow, wm.PagesHigh));
        var wakes = report.Events("mm_vmscan_kswapd_wake");
        var sleeps = report.Events("mm_vmscan_kswapd_sleep");
        Assert.True(wakes.Count >= 3, $"kswapd woke {wakes.Count} times");
        Assert.Equal(wakes.Count, sleeps.Count);
        // Woken only by an allocation that found the zone at or below pages_low; asleep only above pages_high.
        Assert.All(wakes, w => Assert.True(w.Has("nid=1") && w.Field("free") <= wm.PagesLow, w.ToString()));
        Assert.All(sleeps, s => Assert.True(s.Has("nid=1") && s.Field("free") > wm.PagesHigh, s.ToString()));
        // Each wake is followed by its sleep before the next wake.
        for (var k = 0; k < wakes.Count; k++)
        {
            Assert.True(sleeps[k].Seq > wakes[k].Seq);
            if (k + 1 < wakes.Count)
            {
                Assert.True(wakes[k + 1].Seq > sleeps[k].Seq);
            }
        }
        // kswapd kept up: no allocation ever fell below pages_min and none reclaimed for itself.
        Assert.Equal(0, report.Vm("allocstall"));
        Assert.Equal(0, report.Vm("pgscan_direct"));
        Assert.All(report.Events("mm_page_alloc"), e => Assert.True(e.Field("free") >= wm.PagesMin, e.ToString()));
        Assert.True(report.Vm("kswapd_steal") > 0 && report.Vm("pswpout") > 0);
        // The last round left the zone between the marks.
        Assert.InRange(free, wm.PagesLow + 1, wm.PagesHigh);
    }

    [Fact]
    public void Reclaim_counters_are_kept_per_node_and_the_idle_node_counts_nothing()
    {
        var scanned = new long[2];
        var stolen = new long[2];
        var report = ReclaimRun.Load("kswapd-pressure.conf").Run(Seed, atEnd: m =>
        {
            foreach (var n in m.Nodes)
            {
                scanned[n.Memory.Node] = n.Memory.Stat[VmEvent.PgscanKswapd];
                stolen[n.Memory.Node] = n.Memory.Stat[VmEvent.Pgsteal];
            }
        });

        report.AssertClean();
        // Each node's zone counts its own scanning and stealing (2.6.14 mod_page_state_zone), summed into vmstat.
        Assert.Equal([0, report.Vm("pgscan_kswapd")], scanned);
        Assert.Equal([0, report.Vm("pgsteal")], stolen);
        foreach (var counter in new[] { "pgscan_kswapd", "pgsteal", "kswapd_steal", "pgrefill", "pgdeactivate", "pageoutrun", "pgrotated" })
        {
            Assert.True(report.Vm(counter) > 0, $"{counter} is 0");
            Assert.Equal(report.Vm(counter), report.NodeVm(1, counter));
            Assert.Equal(0, report.NodeVm(0, counter));
        }
        Assert.Equal(0, report.NodeVm(1, "pgscan_direct"));
        Assert.DoesNotContain(report.Events("mm_vmscan_kswapd_wake"), e => e.Has("nid=0"));
        // kswapd_steal counts what kswapd freed; here kswapd did all the reclaiming.
        Assert.Equal(report.Vm("pgsteal"), report.Vm("kswapd_steal"));
        // Every page kswapd took off the inactive list was counted as scanned on node 1's own VmStat.
        var isolated = report.Events("mm_vmscan_lru_isolate").Where(e => e.Has("isolator=kswapd") && e.Has("lru=inactive"));
        Assert.Equal(report.NodeVm(1, "pgscan_kswapd"), isolated.Sum(e => e.Field("nr_scanned")));
    }

    [Fact]
    public void The_same_seed_replays_the_same_pressure_run()
    {
        var first = ReclaimRun.Load("kswapd-pressure.conf").Run(Seed);
        var second = ReclaimRun.Load("kswapd-pressure.conf").Run(Seed);

        Assert.Equal(first.TraceSha256, second.TraceSha256);
        Assert.Equal(first.Vmstat, second.Vmstat);
    }
}

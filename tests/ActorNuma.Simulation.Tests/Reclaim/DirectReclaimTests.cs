namespace ActorNuma.Simulation.Tests.Reclaim;

/// <summary>Issue 4 §2, §6: __alloc_pages' direct reclaim (try_to_free_pages) with kswapd switched off
/// (reclaim-direct.conf).</summary>
[Trait("kind", "scenario")]
public sealed class DirectReclaimTests
{
    private const int Seed = 1;

    [Fact]
    public void Without_kswapd_the_allocating_task_reclaims_for_itself_counted_in_allocstall_and_pgscan_direct()
    {
        var report = ReclaimRun.Load("reclaim-direct.conf").Run(Seed);

        report.AssertClean();
        Assert.True(report.Vm("allocstall") > 0);
        Assert.True(report.Vm("pgscan_direct") > 0);
        Assert.True(report.Vm("pgsteal") > 0);
        Assert.True(report.Vm("pswpout") > 0);
        // Nothing is kswapd's.
        foreach (var counter in new[] { "pgscan_kswapd", "kswapd_steal", "pageoutrun" })
        {
            Assert.Equal(0, report.Vm(counter));
        }

        Assert.Empty(report.Events("mm_vmscan_kswapd_wake"));
        Assert.DoesNotContain(report.Events("mm_vmscan_lru_isolate"), e => e.Has("isolator=kswapd"));
        // One try_to_free_pages per allocstall, each bracketed by its begin and end events.
        Assert.Equal(report.Vm("allocstall"), report.Events("mm_vmscan_direct_reclaim_begin").Count);
        Assert.Equal(report.Vm("allocstall"), report.Events("mm_vmscan_direct_reclaim_end").Count);
        Assert.Equal(report.Vm("pgscan_direct"), report.NodeVm(0, "pgscan_direct"));
        Assert.Equal(report.Vm("pgsteal"),
            report.Events("mm_vmscan_lru_shrink_inactive").Where(e => e.Has("isolator=direct")).Sum(e => e.Field("nr_reclaimed")));
    }

    [Fact]
    public void The_first_direct_reclaim_on_an_unaged_lru_makes_no_progress_and_the_oom_killer_takes_the_largest_task()
    {
        var report = ReclaimRun.Load("reclaim-direct.conf").Run(Seed);

        report.AssertClean();
        // try_to_free_pages walked priorities 12 to 0: the refills found every page referenced on the first pass and
        // deactivated on the second, but no shrink_cache ran before the first reclaim ended with nothing freed.
        var ends = report.Events("mm_vmscan_direct_reclaim_end");
        Assert.Equal(0, ends[0].Field("nr_reclaimed"));
        var kill = Assert.Single(report.Events("oom_kill_process"));
        Assert.True(kill.Has("name=hog") && kill.Has("reason=oom_killer"), kill.ToString());
        Assert.True(report.Events("mm_vmscan_lru_shrink_inactive").First().Seq > ends[0].Seq);
        // Later reclaims ran on the aged lists and made progress (32 pages each, SWAP_CLUSTER_MAX).
        Assert.Contains(ends, e => e.Field("nr_reclaimed") >= 32);
    }
}

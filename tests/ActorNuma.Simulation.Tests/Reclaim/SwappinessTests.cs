using ActorNuma.Kernel;
using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Tests.Reclaim;

/// <summary>Issue 4 §1, §6: vm_swappiness in refill_inactive_zone (reclaim-swappiness.conf: a node of mapped
/// anonymous pages aged by kswapd). swap_tendency = mapped_ratio / 2 + distress + vm_swappiness; a mapped page is
/// deactivated only when that reaches 100 and the page was not referenced.</summary>
[Trait("kind", "scenario")]
public sealed class SwappinessTests
{
    private const int Seed = 1;

    private static (RunReport Report, int Active, int Inactive) Run(int swappiness, int? swapSlots = null)
    {
        var scenario = ReclaimRun.Load("reclaim-swappiness.conf").WithSwappiness(swappiness);
        if (swapSlots is { } slots)
        {
            scenario = scenario with { Machine = scenario.Machine with { Swap = scenario.Machine.Swap with { Slots = slots } } };
        }

        int active = 0, inactive = 0;
        var report = scenario.Run(Seed, atEnd: m => (active, inactive) = (m.Nodes[0].Memory.NrActive, m.Nodes[0].Memory.NrInactive));
        report.AssertClean();
        return (report, active, inactive);
    }

    private static IReadOnlyList<TraceEvent> Refills(RunReport r) => r.Events("mm_vmscan_lru_shrink_active");

    [Fact]
    public void With_swappiness_0_mapped_pages_stay_active_until_distress_alone_makes_swap_tendency_100()
    {
        var (report, _, _) = Run(swappiness: 0);

        var refills = Refills(report);
        Assert.NotEmpty(refills);
        // No refill below swap_tendency 100 deactivated anything: every page it took was mapped.
        Assert.All(refills.Where(e => e.Field("swap_tendency") < 100), e =>
        {
            Assert.True(e.Has("reclaim_mapped=0"), e.ToString());
            Assert.Equal(0, e.Field("nr_deactivated"));
        });
        // kswapd's first run: mapped_ratio/2 is about 50, so only distress = 100 >> priority >= 50 (priority <= 1) gets
        // swap_tendency to 100; every refill at a higher priority kept its pages.
        // (The first run is the prefix of refills whose priority never goes up again; the next run, after
        // loop_again, starts from DEF_PRIORITY with prev_priority, and so distress, left where the first one ended.)
        var firstRun = refills.TakeWhile((e, k) => k == 0 || e.Field("priority") <= refills[k - 1].Field("priority")).ToList();
        Assert.All(firstRun.Where(e => e.Field("priority") >= 2), e => Assert.True(e.Has("reclaim_mapped=0"), e.ToString()));
        Assert.Contains(firstRun, e => e.Field("priority") <= 1 && e.Has("reclaim_mapped=1"));
    }

    [Fact]
    public void With_swappiness_100_every_refill_may_deactivate_mapped_pages()
    {
        var (report, _, _) = Run(swappiness: 100);

        var refills = Refills(report);
        Assert.NotEmpty(refills);
        Assert.All(refills, e => Assert.True(e.Has("reclaim_mapped=1") && e.Field("swap_tendency") >= 100, e.ToString()));
        // A page deactivated only on a look after the one that found it referenced: the first look at each page
        // (young PTE, PG_referenced from the fault) keeps it, so the first refills deactivate nothing.
        Assert.Equal(0, refills[0].Field("nr_deactivated"));
        Assert.True(report.Vm("pgdeactivate") > 0);
    }

    [Fact]
    public void Swappiness_0_deactivates_fewer_pages_and_leaves_more_active_than_swappiness_100()
    {
        var low = Run(swappiness: 0);
        var high = Run(swappiness: 100);

        Assert.True(low.Report.Vm("pgdeactivate") < high.Report.Vm("pgdeactivate"),
            $"pgdeactivate {low.Report.Vm("pgdeactivate")} at swappiness 0, {high.Report.Vm("pgdeactivate")} at 100");
        Assert.True(low.Active > high.Active, $"{low.Active} pages active at swappiness 0, {high.Active} at 100");
        // Both still reclaimed: swappiness chooses which pages age, not whether the zone is balanced.
        Assert.True(low.Report.Vm("kswapd_steal") > 0 && high.Report.Vm("kswapd_steal") > 0);
    }

    [Fact]
    public void Without_swap_no_mapped_anonymous_page_is_ever_deactivated_even_at_swappiness_100()
    {
        var (report, active, inactive) = Run(swappiness: 100, swapSlots: 0);

        Assert.NotEmpty(Refills(report));
        Assert.All(Refills(report), e => Assert.Equal(0, e.Field("nr_deactivated")));
        Assert.Equal(0, report.Vm("pgdeactivate"));
        Assert.Equal(0, report.Vm("pswpout"));
        Assert.Equal(0, inactive);
        Assert.True(active > 1700);
        // Nothing reclaimable: kswapd marks the zone all_unreclaimable and goes back to sleep.
        Assert.NotEmpty(report.Events("mm_vmscan_zone_unreclaimable"));
        Assert.Equal(report.Events("mm_vmscan_kswapd_wake").Count, report.Events("mm_vmscan_kswapd_sleep").Count);
    }
}

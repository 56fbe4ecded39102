using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Tests.Reclaim;

/// <summary>Issue 4 §5: the races between reclaim and migration or faults, each as a deterministic scenario with the
/// outcome it must show and every checker green. The interleaving of actors is the seeded scheduler's: the seed each
/// test names is one under which the race happens.</summary>
[Trait("kind", "race")]
public sealed class ReclaimRaceTests
{
    // ---- (b) a page kswapd swapped out comes back under the new policy -------------------------------------------

    [Fact]
    public void A_page_kswapd_swapped_out_comes_back_on_the_node_of_the_policy_set_after_the_swap_out_seed_1()
    {
        var report = ReclaimRun.Load("reclaim-race-swapped-page-new-policy.conf").Run(seed: 1);

        report.AssertClean();
        var (before, swapped) = report.Pages(8, nodes: 2);
        Assert.True(swapped > 0, "kswapd swapped none of a's pages out");
        Assert.Equal(512 - swapped, before[0]);
        // kswapd alone did it: no migration, no direct reclaim.
        Assert.True(report.Vm("pgscan_kswapd") > 0);
        Assert.Equal(0, report.Vm("allocstall"));
        Assert.Equal(0, report.Vm("emu_migrate_evicted"));
        var (after, left) = report.Pages(11, nodes: 2);
        Assert.Equal(0, left);
        Assert.Equal(512, after[0] + after[1]);
        // The pages that stayed present stayed on node 0; those read back from swap were allocated under mbind's
        // bind=1, on node 1 (a page kswapd had written but not yet freed is found in the swap cache, on node 0).
        Assert.True(after[0] >= before[0]);
        Assert.True(after[1] > 0, "no page came back on node 1");
        Assert.True(report.Vm("pswpin") >= after[1]);
        var swapIns = report.Events("mm_page_alloc").Where(e => e.Has("purpose=SwapIn")).ToList();
        Assert.NotEmpty(swapIns);
        Assert.All(swapIns, e => Assert.True(e.Has("node=1"), e.ToString()));
    }

    // ---- (c) a touch while the page's writeback is in flight --------------------------------------------------------

    [Fact]
    public void A_touch_while_kswapd_writes_the_page_out_hits_the_swap_cache_and_keeps_the_page_on_its_old_node_seed_1()
    {
        var writeLatency = TimeSpan.FromMilliseconds(20);
        var report = ReclaimRun.Load("reclaim-race-touch-during-writeback.conf").Run(seed: 1);

        report.AssertClean();
        var (before, swapped) = report.Pages(8, nodes: 2);
        Assert.True(swapped > 0, "kswapd unmapped none of a's pages");
        Assert.Equal(512 - swapped, before[0]);
        // a's policy says node 1 now (step 12's get_mempolicy expectation held), yet every page is on node 0 again,
        // and none was read from swap: each swapped PTE was resolved by lookup_swap_cache (a minor fault), on the page
        // where it was.
        var (after, left) = report.Pages(11, nodes: 2);
        Assert.Equal((512L, 0L, 0L), (after[0], after[1], left));
        Assert.Equal(0, report.Vm("pswpin"));
        Assert.Equal(0, report.Vm("pgmajfault"));
        Assert.DoesNotContain(report.Events("mm_page_alloc"), e => e.Has("purpose=SwapIn"));
        var hits = report.Events("mm_swap_cache_hit");
        Assert.Equal(swapped, hits.Sum(e => e.Field("nr")));
        // The hits came while the writes were in flight: the first write kswapd started completes one write latency
        // after it started, and every hit is earlier than that; the run ends with all of them still under writeback.
        var writes = report.Events("mm_vmscan_writepage");
        Assert.Equal(report.Vm("pswpout"), writes.Count);
        var firstCompletion = writes.Min(e => e.Time) + writeLatency;
        Assert.All(hits, h => Assert.True(h.Time < firstCompletion, $"{h} is not before {firstCompletion}"));
        Assert.Equal(report.Vm("pswpout"), report.Vm("nr_writeback"));
    }

    // ---- (a) kswapd holds pages an mbind MOVE wants -----------------------------------------------------------------

    private const string KswapdVsMove = "reclaim-race-kswapd-vs-mbind-move.conf";
    private const int MoveStep = 14;

    private static RunReport RunKswapdVsMove(string profile, int seed)
    {
        var report = ReclaimRun.Load(KswapdVsMove).WithProfile(profile).Run(seed);
        report.AssertClean();
        // The step tells every page it looked at: isolated, or failed for one reason.
        Assert.Equal(report.Migration(MoveStep, "scanned"),
            new[] { "isolated", "isolate_fail_pagevec", "isolate_fail_isolated", "isolate_fail_freeing", "isolate_fail_other", "shared_skipped" }
                .Sum(f => report.Migration(MoveStep, f)));
        // Only kswapd reclaimed: nobody stalled in direct reclaim, so reclaim's isolations were kswapd's.
        Assert.Equal(0, report.Vm("allocstall"));
        Assert.True(report.Vm("pgscan_kswapd") > 0);
        return report;
    }

    [Fact]
    public void Under_v2_pages_kswapd_has_isolated_fail_isolation_for_mbind_move_and_warn_seed_23()
    {
        var report = RunKswapdVsMove("v2", seed: 23);

        var failed = report.Migration(MoveStep, "isolate_fail_isolated");
        Assert.True(failed > 0, ReclaimRun.Describe(report));
        // V2's isolate_lru_page drained every CPU and retried; the pages kswapd still held failed again, and
        // check_pte_range's WARN_ON(rc == 0) fired once for each.
        Assert.Equal(failed, report.Migration(MoveStep, "warnings"));
        var warnings = report.Warnings.Where(w => w.Site == "mm/mempolicy.c:check_pte_range").ToList();
        Assert.Equal(failed, warnings.Count);
        Assert.All(warnings, w => Assert.Contains("IsolatedElsewhere", w.Message));
        Assert.Contains(report.Events("lru_add_drain_all"), e => e.Has("cpus=0,1,2,3"));
        // Those pages were not evicted by the migration; mbind still succeeded (no MPOL_MF_STRICT).
        Assert.Equal(0, report.Step(MoveStep).Ret);
        Assert.Equal(report.Migration(MoveStep, "isolated"), report.Migration(MoveStep, "evicted") + report.Migration(MoveStep, "failed"));
    }

    [Fact]
    public void Under_2_6_16_pages_kswapd_has_isolated_fail_isolation_for_mbind_move_without_a_warning_seed_23()
    {
        var report = RunKswapdVsMove("2.6.16", seed: 23);

        Assert.True(report.Migration(MoveStep, "isolate_fail_isolated") > 0, ReclaimRun.Describe(report));
        Assert.Equal(0, report.Migration(MoveStep, "warnings"));
        Assert.Empty(report.Warnings);
    }

    [Theory]
    [InlineData("v2", 20, 23)]
    [InlineData("2.6.16", 1, 3)]
    public void Over_a_few_seeds_mbind_move_both_meets_and_misses_pages_kswapd_holds(string profile, int first, int last)
    {
        var outcomes = Enumerable.Range(first, last - first + 1)
            .Select(seed => RunKswapdVsMove(profile, seed).Migration(MoveStep, "isolate_fail_isolated") > 0)
            .ToList();

        Assert.Contains(true, outcomes);
        Assert.Contains(false, outcomes);
    }

    // ---- (d) direct reclaim by one task while another runs mbind MOVE -------------------------------------------------

    private const string DirectVsMove = "reclaim-race-direct-vs-mbind-move.conf";
    private const int DirectMoveStep = 15;

    private static RunReport RunDirectVsMove(int seed)
    {
        var report = ReclaimRun.Load(DirectVsMove).Run(seed);
        report.AssertClean();
        // b reclaimed for itself, and nothing else reclaimed (kswapd is off).
        Assert.True(report.Vm("allocstall") > 0 && report.Vm("pgscan_direct") > 0);
        Assert.Equal(0, report.Vm("pgscan_kswapd"));
        Assert.Equal(report.Migration(DirectMoveStep, "scanned"),
            new[] { "isolated", "isolate_fail_pagevec", "isolate_fail_isolated", "isolate_fail_freeing", "isolate_fail_other", "shared_skipped" }
                .Sum(f => report.Migration(DirectMoveStep, f)));
        return report;
    }

    [Fact]
    public void Pages_held_by_another_tasks_direct_reclaim_fail_isolation_for_mbind_move_and_both_complete_seed_15()
    {
        var report = RunDirectVsMove(seed: 15);

        var failed = report.Migration(DirectMoveStep, "isolate_fail_isolated");
        Assert.True(failed > 0, ReclaimRun.Describe(report));
        Assert.Equal(failed, report.Migration(DirectMoveStep, "warnings"));
        Assert.Equal(0, report.Step(DirectMoveStep).Ret);
        Assert.True(report.Migration(DirectMoveStep, "evicted") > 0);
        // The first try_to_free_pages found an unaged LRU and freed nothing: the OOM killer took hog, not a or b.
        var kill = Assert.Single(report.Events("oom_kill_process"));
        Assert.True(kill.Has("name=hog"), kill.ToString());
        // a read all 512 pages back (the data checker saw each return what a wrote).
        Assert.Equal(512, report.Step(18).Ret);
    }

    [Fact]
    public void Over_a_few_seeds_mbind_move_both_meets_and_misses_pages_held_by_direct_reclaim()
    {
        var outcomes = Enumerable.Range(14, 2)
            .Select(seed => RunDirectVsMove(seed).Migration(DirectMoveStep, "isolate_fail_isolated") > 0)
            .ToList();

        Assert.Equal([false, true], outcomes);
    }
}

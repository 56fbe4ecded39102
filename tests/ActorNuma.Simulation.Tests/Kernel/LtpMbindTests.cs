namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>LTP's mbind01, mbind02 and mbind04 (reference §10) as scenario files, each under the 2.6.14-era profile that
/// decides its cases: v2 (2.6.14-rc4-mm1 + V2) for mbind01's mask checks, 2.6.14 final for the rest and for the cases
/// where 2.6.14 final answers differently.</summary>
[Trait("kind", "scenario")]
public sealed class LtpMbindTests
{
    [Fact]
    public void Mbind01_under_v2_rejects_and_accepts_each_case_as_the_v2_base_kernel_does()
    {
        var report = ScenarioRun.RunFile("ltp-mbind01.conf", seed: 1);

        Assert.Equal("v2", report.Profile);
        report.AssertClean();
        Assert.Equal(21, report.Steps.Count);
    }

    [Fact]
    public void Mbind01_under_2_6_14_final_accepts_bind_and_interleave_without_a_mask()
    {
        var report = ScenarioRun.RunFile("ltp-mbind01-2.6.14.conf", seed: 1);

        Assert.Equal("2.6.14", report.Profile);
        report.AssertClean();
    }

    [Fact]
    public void Mbind01_without_a_mask_for_bind_is_einval_under_v2_but_succeeds_under_2_6_14_final()
    {
        const string steps = """
            { task = t, op = mmap, addr = "0x10000000", pages = 16 }
            { task = t, op = mbind, addr = "0x10000000", pages = 16, mode = bind }
            { task = t, op = set_mempolicy, mode = interleave }
            """;
        var v2 = ScenarioRun.RunText(Inline(steps), seed: 1, profile: "v2");
        var final = ScenarioRun.RunText(Inline(steps), seed: 1, profile: "2.6.14");

        v2.AssertFailed(1, ActorNuma.Mm.Errno.EINVAL);
        v2.AssertFailed(2, ActorNuma.Mm.Errno.EINVAL);
        final.AssertReturned(1, 0);
        final.AssertReturned(2, 0);
    }

    [Theory]
    [InlineData("2.6.14", 0)]
    [InlineData("v1", 0)]
    [InlineData("v2", (int)ActorNuma.Mm.Errno.EINVAL)]
    public void A_mask_node_that_is_not_online_is_dropped_silently_by_2_6_14_and_v1_and_refused_by_v2(string profile, int errno)
    {
        // 2.6.14 final (in get_nodes) and V1 (contextualize_policy in do_mbind) intersect the mask with mems_allowed;
        // the V2 base's do_mbind only runs mpol_check_policy, which rejects a node that is not online.
        const string steps = """
            { task = t, op = mmap, addr = "0x10000000", pages = 16 }
            { task = t, op = mbind, addr = "0x10000000", pages = 16, mode = bind, nodes = [1, 5] }
            { task = t, op = get_mempolicy, addr = "0x10000000", flags = [addr] }
            """;
        var report = ScenarioRun.RunText(Inline(steps), seed: 1, profile: profile);

        if (errno == 0)
        {
            report.AssertReturned(1, 0);
            Assert.Equal(new[] { 1 }, report.Syscall(2).Nodes);
        }
        else
        {
            report.AssertFailed(1, (ActorNuma.Mm.Errno)errno);
            Assert.Equal("default", report.Syscall(2).Mode);
        }
    }

    [Fact]
    public void Mbind02_strict_on_a_misplaced_page_is_eio_and_installs_no_policy_for_each_mode()
    {
        var report = ScenarioRun.RunFile("ltp-mbind02.conf", seed: 1);

        Assert.Equal("2.6.14", report.Profile);
        report.AssertClean();
        foreach (var step in new[] { 7, 10, 13 })
        {
            report.AssertFailed(step, ActorNuma.Mm.Errno.EIO);
        }
        // numa_maps: the three refused ranges keep DEFAULT with their page on node 0 (still in cpu 0's pagevec, so not yet
        // PG_active: active=0); the untouched range took the policy.
        Assert.Equal(
            ["10000000 default anon=1 dirty=1 active=0 N0=1", "10100000 default anon=1 dirty=1 active=0 N0=1", "10200000 default anon=1 dirty=1 active=0 N0=1", "10300000 bind=1"],
            report.NumaMaps["t"]);
    }

    [Fact]
    public void Mbind04_puts_all_16_unfaulted_pages_on_the_bound_node_in_the_parent_and_in_a_forked_child()
    {
        var report = ScenarioRun.RunFile("ltp-mbind04.conf", seed: 1);

        Assert.Equal("2.6.14", report.Profile);
        report.AssertClean();
        // 12 ranges per side (3 modes x 2 flag sets x 2 nodes), each checked with expect-pages.
        Assert.Equal(24, report.Steps.Count(s => s.Op == "expect-pages" && s.Ok));
        Assert.Equal(24 * 16, report.Vmstat["numa_hit"]);
    }

    private static string Inline(string steps) => $$"""
        actornuma { topology { nodes = 2, cpus-per-node = 2, pages-per-node = 1024 } }
        scenario {
          name = inline
          tasks = [ { name = t, cpu = 0 } ]
          steps = [
        {{steps}}
          ]
        }
        """;
}

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>LTP's get_mempolicy01/02 and set_mempolicy01/02 (reference §10) as scenario files under profile 2.6.14.</summary>
[Trait("kind", "scenario")]
public sealed class LtpMempolicyTests
{
    [Fact]
    public void Get_mempolicy01_reads_back_the_task_and_vma_policies_as_2_6_14_reports_them()
    {
        var report = ScenarioRun.RunFile("ltp-get-mempolicy01.conf", seed: 1);

        Assert.Equal("2.6.14", report.Profile);
        report.AssertClean();
    }

    [Fact]
    public void Get_mempolicy02_fails_with_efault_for_a_null_address_and_einval_for_bad_flags()
    {
        var report = ScenarioRun.RunFile("ltp-get-mempolicy02.conf", seed: 1);

        report.AssertClean();
        report.AssertFailed(1, ActorNuma.Mm.Errno.EFAULT);
        report.AssertFailed(2, ActorNuma.Mm.Errno.EINVAL);
    }

    [Fact]
    public void Set_mempolicy01_bind_and_preferred_put_every_page_on_the_chosen_node_in_the_task_and_its_child()
    {
        var report = ScenarioRun.RunFile("ltp-set-mempolicy01.conf", seed: 1);

        Assert.Equal("2.6.14", report.Profile);
        report.AssertClean();
        Assert.Equal(8, report.Steps.Count(s => s.Op == "expect-pages" && s.Ok));
    }

    [Fact]
    public void Set_mempolicy02_interleaves_a_task_policy_by_page_offset_with_exact_per_node_counts()
    {
        var report = ScenarioRun.RunFile("ltp-set-mempolicy02.conf", seed: 1);

        report.AssertClean();
        report.AssertPages(3, [2, 2, 2, 2], swapped: 0);
        report.AssertPages(8, [0, 8, 0, 8], swapped: 0);
        report.AssertPages(15, [1, 2, 0, 0], swapped: 0);
        Assert.Equal(27, report.Numastat.Sum(n => n.Value["interleave_hit"]));
    }
}

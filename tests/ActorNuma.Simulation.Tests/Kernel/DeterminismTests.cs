using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Deterministic mode: one seed, one run — the same trace hash and the same report file byte for byte; and on
/// a racy scenario (two tasks acting at once through async steps) different seeds interleave differently. Each race
/// test names its seeds.</summary>
[Trait("kind", "scenario")]
public sealed class DeterminismTests
{
    private const string MoveVsTouch = "race-mbind-move-vs-shared-touch.conf";
    private const string TwoFaulters = "race-two-tasks-fault-same-node.conf";

    [Theory]
    [InlineData(MoveVsTouch, 5)]
    [InlineData(TwoFaulters, 2)]
    [InlineData("migrate-own-pagevec.conf", 1)]
    public void The_same_seed_twice_gives_the_same_trace_hash_and_a_byte_identical_report(string file, int seed)
    {
        var first = ScenarioRun.RunFile(file, seed);
        var second = ScenarioRun.RunFile(file, seed);

        first.AssertClean();
        Assert.Equal(first.TraceSha256, second.TraceSha256);
        Assert.Equal(first.TraceEvents, second.TraceEvents);
        Assert.Equal(ReportJson.Write(first), ReportJson.Write(second));
    }

    [Fact]
    public void Seeds_4_and_5_interleave_mbind_move_and_the_childs_reads_differently_and_both_stay_consistent()
    {
        var seed4 = ScenarioRun.RunFile(MoveVsTouch, seed: 4);
        var seed5 = ScenarioRun.RunFile(MoveVsTouch, seed: 5);

        Assert.NotEqual(seed4.TraceSha256, seed5.TraceSha256);
        foreach (var report in new[] { seed4, seed5 })
        {
            report.AssertClean();
            report.AssertReturned(4, 0);
            Assert.Equal(32, report.Migration(4, "isolated"));
            // Whatever the interleaving, each task's 32 pages are present or in swap (none lost, none doubled).
            foreach (var step in new[] { 8, 9 })
            {
                var (perNode, swapped) = report.Pages(step, nodes: 2);
                Assert.Equal(32, perNode.Sum() + swapped);
            }
            report.AssertReturned(6, 32);
            Assert.Equal(0, report.Pages(12, 2).Swapped);
            Assert.Equal(0, report.Pages(13, 2).Swapped);
        }
    }

    [Fact]
    public void Seeds_1_and_2_interleave_two_tasks_faulting_on_one_node_differently_with_the_same_totals()
    {
        var seed1 = ScenarioRun.RunFile(TwoFaulters, seed: 1);
        var seed2 = ScenarioRun.RunFile(TwoFaulters, seed: 2);

        Assert.NotEqual(seed1.TraceSha256, seed2.TraceSha256);
        seed1.AssertClean();
        seed2.AssertClean();
        Assert.Equal(seed1.Vmstat, seed2.Vmstat);
        Assert.Equal(seed1.NumaMaps, seed2.NumaMaps);
    }

    [Fact]
    public void A_run_reports_the_seed_it_was_given_over_the_one_in_the_file()
    {
        var report = ScenarioRun.RunFile(TwoFaulters, seed: 77);

        Assert.Equal(77, report.Seed);
        Assert.StartsWith("seed=77 mode=deterministic", report.DerivedParameters[0]);
    }
}

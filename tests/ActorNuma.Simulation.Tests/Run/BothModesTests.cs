using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Tests.Kernel;

namespace ActorNuma.Simulation.Tests.Run;

[CollectionDefinition("Concurrent runs", DisableParallelization = true)]
public sealed class ConcurrentRuns;

/// <summary>The same scenario gives the same step results in both run modes: every step returns the same value and
/// errno and meets or misses its expectation alike, and no checker fires in either. A concurrent run's interleaving is
/// not reproducible, so these tests assert outcomes only, never how long anything took.</summary>
[Collection("Concurrent runs")]
[Trait("kind", "scenario")]
public sealed class BothModesTests
{
    private static RunReport RunIn(RunMode mode, LoadedScenario scenario, TimeSpan? stallTimeout = null) =>
        ScenarioRunner.Run(scenario, new RunOptions
        {
            Seed = scenario.Machine.Run.Seed,
            Mode = mode,
            StallTimeout = stallTimeout ?? new RunOptions().StallTimeout,
        });

    private static IEnumerable<(int, string, long?, string?, bool, string?)> Results(RunReport r) =>
        r.Steps.Select(s => (s.Index, s.Op, s.Ret, s.Errno?.ToString(), s.Ok, s.Message));

    /// <summary>Syscall-level scenarios, migrations through swap, a placement lost to the pagevec, kswapd racing a
    /// touch during writeback (whose writes outlast any fixed rest window), and two races whose page counts differ by
    /// interleaving while their syscalls' results do not. Each runs clean under every seed from 1 to 16 as well: a
    /// concurrent run may take any of those interleavings, swapin-readahead-placement.conf's checkpoint with a
    /// readahead read still in flight among them.</summary>
    [Theory(Timeout = 300_000)]
    [InlineData("default.conf")]
    [InlineData("ltp-mbind01.conf")]
    [InlineData("ltp-migrate-pages01.conf")]
    [InlineData("migrate-own-pagevec.conf")]
    [InlineData("migrate-swap-too-small.conf")]
    [InlineData("migrate-placement-lost.conf")]
    [InlineData("reclaim-race-touch-during-writeback.conf")]
    [InlineData("race-mbind-move-vs-shared-touch.conf")]
    [InlineData("reclaim-race-kswapd-vs-mbind-move.conf")]
    [InlineData("swapin-readahead-placement.conf")]
    public async Task A_scenario_gives_the_same_step_results_in_deterministic_and_concurrent_mode(string file)
    {
        var scenario = ScenarioRun.Load(file);

        var deterministic = RunIn(RunMode.Deterministic, scenario);
        var concurrent = await Task.Run(() => RunIn(RunMode.Concurrent, scenario));

        deterministic.AssertClean();
        concurrent.AssertClean();
        Assert.Equal("concurrent", concurrent.Mode);
        Assert.Equal(Results(deterministic), Results(concurrent));
    }

    /// <summary>Liveness is judged by progress: a write in flight is progress to come, so a device slower than the
    /// stall window (four writes of half a second against a window of one second) keeps the run waiting, not
    /// failing.</summary>
    [Fact(Timeout = 120_000)]
    public async Task A_concurrent_run_waits_for_a_device_slower_than_its_stall_window()
    {
        var scenario = ScenarioLoader.Parse("""
            actornuma {
              topology { nodes = 2, cpus-per-node = 1, pages-per-node = 256 }
              swap { slots = 64, write-latency = 500ms, read-latency = 500ms }
              kswapd.enabled = off
              run { mode = concurrent, seed = 1 }
            }
            scenario {
              name = "slow-device"
              tasks = [ { name = a, cpu = 0 } ]
              steps = [
                { task = a, op = mmap, addr = "0x10000000", pages = 4 }
                { task = a, op = touch, addr = "0x10000000", pages = 4, write = on }
                { task = a, op = swapout, addr = "0x10000000", pages = 4 }
                { op = expect-pages, task = a, addr = "0x10000000", pages = 4, swapped = 4 }
              ]
            }
            """, "slow-device.conf");

        var report = await Task.Run(() => RunIn(RunMode.Concurrent, scenario, stallTimeout: TimeSpan.FromSeconds(1)));

        report.AssertClean();
        Assert.Equal(4, report.Vmstat["pswpout"]);
    }
}

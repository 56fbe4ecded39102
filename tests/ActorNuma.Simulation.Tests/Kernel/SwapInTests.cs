using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>do_swap_page as 2.6.14 runs it: vm_swap_full() asked fault by fault, and readahead pages left where
/// read_swap_cache_async and swapin_readahead leave them while their read is in flight.</summary>
[Trait("kind", "scenario")]
public sealed class SwapInTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Each_fault_asks_vm_swap_full_after_the_previous_one_freed_its_slot(int seed)
    {
        var report = ScenarioRun.RunFile("swapin-vm-swap-full-per-fault.conf", seed);

        report.AssertClean();
        Assert.Equal(4L, report.PageCounts(6).Swapcache);
        Assert.Equal(4L, report.Vmstat["emu_swap_free"]);
    }

    /// <summary>Touching page B reads the cluster {A's slot, B's slot}; A's page is placed on node 1, B's on node 0,
    /// in two reads. When the fault's own read completes first, the touch returns while A's page is still being read:
    /// the checkpoint after the touch sees it as 2.6.14 leaves it, on the active list (swapin_readahead's
    /// lru_add_drain), PG_locked and not yet up to date, with one reference, the swap cache's.</summary>
    [Fact]
    public void A_readahead_page_under_read_sits_on_the_active_list_locked_with_only_the_swap_cache_reference()
    {
        var text = System.IO.File.ReadAllText(ScenarioRun.PathOf("swapin-readahead-placement.conf"));
        var scenario = Simulation.Scenarios.ScenarioLoader.Parse(text, "readahead.conf");
        scenario = scenario with { Scenario = scenario.Scenario with { Steps = scenario.Scenario.Steps.Take(11).ToList() } };
        var seen = 0;
        for (var seed = 1; seed <= 12; seed++)
        {
            var state = default((PageFlags Flags, FramePlace Place, int Count, int Held)?);
            var report = Simulation.Run.ScenarioRunner.Run(scenario, new Simulation.Run.RunOptions
            {
                Seed = seed,
                AtEnd = machine =>
                {
                    var node1 = machine.Nodes[1].Memory;
                    for (var i = 0; i < node1.Pages; i++)
                    {
                        if (node1.Test(i, PageFlags.Locked))
                        {
                            state = (node1.Flags(i), node1.Place(i), node1.Count(i), node1.Holds(i).Count);
                        }
                    }
                },
            });
            Assert.Empty(report.Violations);
            if (state is not { } s)
            {
                continue;
            }

            seen++;
            Assert.Equal(FramePlace.Lru, s.Place);
            Assert.True(s.Flags.HasFlag(PageFlags.Active | PageFlags.Lru | PageFlags.SwapCache), $"seed {seed}: {s.Flags}");
            Assert.False(s.Flags.HasFlag(PageFlags.Uptodate), $"seed {seed}: {s.Flags}");
            Assert.Equal((1, 0), (s.Count, s.Held));
        }
        Assert.True(seen > 0, "no seed of 1..12 ended with the readahead read in flight");
    }

    [Fact]
    public void The_readahead_placement_scenario_no_longer_trips_a_checker_at_the_seeds_that_used_to()
    {
        foreach (var seed in new[] { 5, 6, 11, 12 })
        {
            Assert.Empty(ScenarioRun.RunFile("swapin-readahead-placement.conf", seed).Violations);
        }
    }
}

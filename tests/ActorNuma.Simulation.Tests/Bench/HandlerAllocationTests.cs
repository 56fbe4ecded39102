using ActorNuma.Kernel;
using ActorNuma.Simulation.Bench;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Bench;

/// <summary>The bench's probe of what each kernel handler allocates.</summary>
[Trait("kind", "scenario")]
public sealed class HandlerAllocationTests
{
    private const string Scenario = """
        actornuma {
          topology { nodes = 2, cpus-per-node = 1, pages-per-node = 2048 }
          swap { slots = 2048 }
          kswapd { enabled = off }
          run { mode = deterministic, seed = 1 }
          log.level = ERROR
        }
        scenario {
          name = probe
          tasks = [ { name = t0, cpu = 0 } ]
          steps = [
            { task = t0, op = mmap, addr = "0x100000000", pages = 512 }
            { task = t0, op = touch, addr = "0x100000000", pages = 512, write = on }
          ]
        }
        """;

    [Fact]
    public void A_run_with_the_probe_counts_each_handlers_messages_and_bytes_largest_first()
    {
        var probe = new HandlerAllocation();
        var report = ScenarioRunner.Run(ScenarioLoader.Parse(Scenario, "probe.conf"), new RunOptions { Allocation = probe });

        Assert.All(report.Steps, s => Assert.True(s.Ok, s.Message));
        var handlers = probe.Snapshot();
        // 512 new pages come from node 0 in AllocPages messages (16 faults to a message by default), and each of them
        // allocates at least its reply.
        var alloc = Assert.Single(handlers, h => h.Actor == nameof(NumaNodeActor) && h.Message == "AllocPages");
        Assert.Equal(512 / 16, alloc.Messages);
        Assert.True(alloc.Bytes > 0);
        Assert.Equal(handlers.Sum(h => h.Bytes), probe.Total);
        Assert.Equal(handlers.OrderByDescending(h => h.Bytes).Select(h => h.Bytes), handlers.Select(h => h.Bytes));
    }

    [Fact]
    public void A_run_without_the_probe_leaves_the_machine_without_one()
    {
        KernelMachine? machine = null;
        ScenarioRunner.Run(ScenarioLoader.Parse(Scenario, "probe.conf"), new RunOptions { AtEnd = m => machine = m });

        Assert.NotNull(machine);
        Assert.Null(machine.Allocation);
    }

    [Fact]
    public void The_bench_breakdown_names_the_handlers_of_a_migrated_page()
    {
        var breakdown = Benchmarks.AllocationByHandler(2048, RunMode.Deterministic, top: 3);

        Assert.StartsWith("by handler (", breakdown);
        Assert.Contains("at 2048 pages", breakdown);
        Assert.Equal(3, breakdown[(breakdown.IndexOf("): ", StringComparison.Ordinal) + 3)..].Split(", ").Length);
    }
}

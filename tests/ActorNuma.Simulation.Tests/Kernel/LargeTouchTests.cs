using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>A load of never-touched pages maps the zero page without a message; a read of hundreds of thousands of them
/// must not grow the stack a frame per chunk.</summary>
[Trait("kind", "scenario")]
public sealed class LargeTouchTests
{
    private const string Text = """
        actornuma {
          topology { nodes = 2, cpus-per-node = 1, pages-per-node = 1024 }
          swap { slots = 64 }
        }
        scenario {
          name = "a large read of untouched pages"
          tasks = [ { name = a, cpu = 0 } ]
          steps = [
            { task = a, op = mmap, addr = "0x10000000", pages = 300000 }
            { task = a, op = touch, addr = "0x10000000", pages = 300000, expect { ret = 300000 } }
            { op = expect-pages, task = a, addr = "0x10000000", pages = 300000, nodes { }, swapped = 0 }
          ]
        }
        """;

    [Theory]
    [InlineData(RunMode.Deterministic)]
    [InlineData(RunMode.Concurrent)]
    public void A_read_of_300000_untouched_pages_maps_the_zero_page_everywhere_and_returns(RunMode mode)
    {
        var scenario = ScenarioLoader.Parse(Text, "large-read.conf");

        var report = ScenarioRunner.Run(scenario, new RunOptions { Seed = 1, Mode = mode, CheckEveryStep = false });

        report.AssertClean();
        Assert.Equal(300_000L, report.Syscall(1).Faults);
    }
}

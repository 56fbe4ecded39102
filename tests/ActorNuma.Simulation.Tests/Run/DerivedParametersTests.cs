using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Run;

/// <summary>A run's first lines state the swap device it ran with, so two runs' times can be compared.</summary>
[Trait("kind", "scenario")]
public sealed class DerivedParametersTests
{
    [Fact]
    public void The_parameters_name_the_swap_devices_latencies_and_queue_depth()
    {
        var scenario = ScenarioLoader.Parse("""
            actornuma.swap { write-latency = 10us, read-latency = 12us, queue-depth = 32 }
            scenario { name = "nvme", tasks = [], steps = [] }
            """, "nvme.conf");

        var lines = ScenarioRunner.DerivedParameters(scenario, new RunOptions());

        Assert.Contains(lines, l => l.Contains("write_latency=10us read_latency=12us queue_depth=32 ", StringComparison.Ordinal));
    }
}

using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>A task that can no longer answer is left out of numa_maps at once; the report does not wait for it.</summary>
[Trait("kind", "scenario")]
public sealed class NumaMapsOfADeadTaskTests
{
    [Fact(Timeout = 20_000)]
    public async Task A_task_that_stopped_answering_is_left_out_of_numa_maps_without_waiting_for_it()
    {
        var scenario = ScenarioLoader.Parse("""
            actornuma { topology { nodes = 2, cpus-per-node = 1, pages-per-node = 256 } }
            scenario {
              name = dead-task
              tasks = [ { name = a, cpu = 0 }, { name = b, cpu = 1 } ]
              steps = [
                { task = a, op = mmap, addr = "0x10000000", pages = 4 }
                { task = b, op = mmap, addr = "0x10000000", pages = 4 }
              ]
            }
            """, "dead-task.conf");
        // Stands in for a task actor that crashed: it is gone before the report asks for numa_maps.
        var options = new RunOptions
        {
            Seed = 1,
            AtEnd = machine => machine.Directory.Task(machine.Tasks.Single(t => t.Name == "b").Pid)!.Tell(Akka.Actor.PoisonPill.Instance, Akka.Actor.ActorRefs.NoSender),
        };

        var report = await Task.Run(() => ScenarioRunner.Run(scenario, options));

        Assert.Equal(["a"], report.NumaMaps.Keys);
    }
}

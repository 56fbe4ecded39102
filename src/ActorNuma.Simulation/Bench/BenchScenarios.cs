using System.Text;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Bench;

/// <summary>The scenarios the bench runs, written as the HOCON a user would write: one task per node (task i on CPU i,
/// one CPU a node), each with its own mapping at the same address.</summary>
internal static class BenchScenarios
{
    private const string Addr = "0x100000000";

    public static string Machine(int nodes, int perNodeData, RunMode mode, int swapSlots, bool headroom = true) => $$"""
        actornuma {
          topology { nodes = {{nodes}}, cpus-per-node = 1, pages-per-node = {{(headroom ? perNodeData + perNodeData / 4 + 4096 : perNodeData)}} }
          swap { slots = {{swapSlots}}, write-latency = 0us, read-latency = 0us }
          kernel { profile = v2-fixed }
          kswapd { enabled = off }
          run { mode = {{mode.ToString().ToLowerInvariant()}}, seed = 1 }
          log.level = ERROR
        }

        """;

    /// <summary>Steps 0..2n: every task maps <paramref name="pages"/> and write-faults them, all at once.</summary>
    public static string FaultIn(string name, int tasks, int pages) => Scenario(name, tasks, FaultInSteps(tasks, pages));

    /// <summary><see cref="FaultIn"/>, then every task mbind(MPOL_BIND, next node, MPOL_MF_MOVE)s its pages at once, then
    /// touches them all again at once (the faults bring them back from swap on the next node).</summary>
    public static string MoveToNextNode(int tasks, int pages)
    {
        var steps = new StringBuilder(FaultInSteps(tasks, pages));
        for (var i = 0; i < tasks; i++)
        {
            steps.AppendLine($$"""{ task = t{{i}}, op = mbind, addr = "{{Addr}}", pages = {{pages}}, mode = bind, nodes = [{{(i + 1) % tasks}}], flags = [move], async = on }""");
        }

        steps.AppendLine("{ op = wait }");
        for (var i = 0; i < tasks; i++)
        {
            steps.AppendLine($$"""{ task = t{{i}}, op = touch, addr = "{{Addr}}", pages = {{pages}}, async = on }""");
        }

        steps.AppendLine("{ op = wait }");
        return Scenario("bench-migration", tasks, steps.ToString());
    }

    /// <summary>The step ranges of <see cref="MoveToNextNode"/>: the evicting mbinds and their wait, the touches and theirs.</summary>
    public static ((int From, int To) Evict, (int From, int To) Back) MigrationSteps(int tasks) =>
        ((2 * tasks + 1, 3 * tasks + 1), (3 * tasks + 2, 4 * tasks + 2));

    /// <summary>One task maps <paramref name="map"/> pages and write-faults the first <paramref name="fault"/>.</summary>
    public static string MapAndFault(int map, int fault) => Scenario("bench-memory", 1,
        $$"""{ task = t0, op = mmap, addr = "{{Addr}}", pages = {{map}} }""" + "\n" +
        (fault > 0 ? $$"""{ task = t0, op = touch, addr = "{{Addr}}", pages = {{fault}}, write = on }""" : ""));

    /// <summary>The race catalogue (<c>hocon/scenarios/races/</c>, embedded), by file name.</summary>
    public static IEnumerable<(string Name, LoadedScenario Scenario)> RaceCatalogue()
    {
        const string prefix = "ActorNuma.races.";
        var assembly = typeof(BenchScenarios).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[prefix.Length..];
            yield return (Path.GetFileNameWithoutExtension(name), ScenarioLoader.Parse(HoconDocument.ReadResource(resource), "races/" + name));
        }
    }

    private static string FaultInSteps(int tasks, int pages)
    {
        var steps = new StringBuilder();
        for (var i = 0; i < tasks; i++)
        {
            steps.AppendLine($$"""{ task = t{{i}}, op = mmap, addr = "{{Addr}}", pages = {{pages}} }""");
        }

        for (var i = 0; i < tasks; i++)
        {
            steps.AppendLine($$"""{ task = t{{i}}, op = touch, addr = "{{Addr}}", pages = {{pages}}, write = on, async = on }""");
        }

        steps.AppendLine("{ op = wait }");
        return steps.ToString();
    }

    private static string Scenario(string name, int tasks, string steps) => $$"""
        scenario {
          name = "{{name}}"
          tasks = [ {{string.Join(", ", Enumerable.Range(0, tasks).Select(i => $"{{ name = t{i}, cpu = {i} }}"))}} ]
          steps = [
        {{steps}}
          ]
        }
        """;
}

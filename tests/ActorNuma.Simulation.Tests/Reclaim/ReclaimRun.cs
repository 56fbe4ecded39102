using System.Globalization;
using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Reclaim;

/// <summary>Runs the reclaim scenarios of <c>hocon/scenarios/</c> (kswapd-*.conf, reclaim-*.conf) deterministically under
/// a named seed, with the overrides the reclaim tests vary (profile, swappiness), and reads the report back: step
/// values, trace events and their fields, per-node counters.</summary>
internal static class ReclaimRun
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ActorNuma.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no ActorNuma.sln above {AppContext.BaseDirectory}");
    });

    public static string PathOf(string file) => Path.Combine(Root.Value, "hocon", "scenarios", file);

    public static LoadedScenario Load(string file) => ScenarioLoader.LoadFile(PathOf(file));

    public static LoadedScenario Inline(string hocon) => ScenarioLoader.Parse(hocon, "inline.conf");

    public static LoadedScenario WithProfile(this LoadedScenario s, string profile) =>
        s with { Machine = s.Machine with { Profile = KernelProfile.ByName(profile) ?? throw new ArgumentException(profile) } };

    public static LoadedScenario WithSwappiness(this LoadedScenario s, int swappiness) =>
        s with { Machine = s.Machine with { Kswapd = s.Machine.Kswapd with { Swappiness = swappiness } } };

    /// <summary>Runs in deterministic mode under <paramref name="seed"/>; <paramref name="atEnd"/> sees the machine
    /// at the end of the run, quiescent.</summary>
    public static RunReport Run(this LoadedScenario s, int seed, Action<KernelMachine>? atEnd = null) =>
        ScenarioRunner.Run(s, new RunOptions { Seed = seed, Mode = RunMode.Deterministic, AtEnd = atEnd });

    // ---- the report --------------------------------------------------------------------------------------------

    /// <summary>No checker fired and every expectation the scenario states held.</summary>
    public static void AssertClean(this RunReport r)
    {
        if (r.Violations.Count == 0 && r.Steps.All(s => s.Ok))
        {
            return;
        }

        throw new Xunit.Sdk.XunitException($"the run was not clean\n{Describe(r)}");
    }

    public static StepResult Step(this RunReport r, int index) =>
        r.Steps.SingleOrDefault(s => s.Index == index) ?? throw new Xunit.Sdk.XunitException($"no step {index}\n{Describe(r)}");

    /// <summary>A field of the <c>value.migration</c> a MOVE step reported, by its report name.</summary>
    public static long Migration(this RunReport r, int index, string field) => Kernel.ScenarioRun.Migration(r, index, field);

    /// <summary>What an expect-pages step saw: present pages per node and swapped-out pages.</summary>
    public static (long[] PerNode, long Swapped) Pages(this RunReport r, int index, int nodes) => Kernel.ScenarioRun.Pages(r, index, nodes);

    public static long Vm(this RunReport r, string counter) =>
        r.Vmstat.TryGetValue(counter, out var v) ? v : throw new Xunit.Sdk.XunitException($"no vmstat counter {counter}");

    /// <summary>A counter of one node (with its kswapd's), 0 when the node never counted it.</summary>
    public static long NodeVm(this RunReport r, int node, string counter) =>
        r.NodeVmstat.TryGetValue($"node{node}", out var c) ? c.GetValueOrDefault(counter) : 0;

    public static IReadOnlyList<TraceEvent> Events(this RunReport r, string name) =>
        r.Trace.Where(e => e.Name == name).ToList();

    /// <summary>A <c>key=value</c> field of a trace event, as a number.</summary>
    public static long Field(this TraceEvent e, string key)
    {
        foreach (var part in e.Fields.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith(key + "=", StringComparison.Ordinal))
            {
                return long.Parse(part[(key.Length + 1)..], CultureInfo.InvariantCulture);
            }
        }

        throw new Xunit.Sdk.XunitException($"trace event {e} has no field {key}");
    }

    public static bool Has(this TraceEvent e, string keyValue) =>
        e.Fields.Split(' ', StringSplitOptions.RemoveEmptyEntries).Contains(keyValue);

    public static string Describe(RunReport r)
    {
        var lines = new List<string> { $"scenario {r.Scenario} profile {r.Profile} seed {r.Seed}" };
        foreach (var s in r.Steps)
        {
            lines.Add($"  [{s.Index}] {s.Task} {s.Op} ret={s.Ret} errno={s.Errno} ok={s.Ok} {s.Message}");
        }

        lines.AddRange(r.Violations.Select(v => "  violation: " + v));
        lines.AddRange(r.Warnings.Take(5).Select(w => $"  warning: {w.Site} pfn {w.Pfn} {w.Message}"));
        return string.Join("\n", lines);
    }
}

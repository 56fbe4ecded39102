using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Every file in <c>hocon/scenarios/</c>, found on disk (no list to keep), at 50 seeds with the checkers at every
/// step. A checker that fires must mean a kernel bug: no scenario may trip one, except a scenario that demonstrates a bug
/// on purpose (<c>shows-bug</c>), which must trip exactly the checkers it names.</summary>
[Trait("kind", "scenario")]
public sealed class EveryScenarioTests
{
    private const int Seeds = 50;

    /// <summary>Every scenario file, subfolders (the race catalogue) included, by path below hocon/scenarios.</summary>
    public static TheoryData<string> Files()
    {
        var root = Path.Combine(ScenarioRun.RepoRoot, "hocon", "scenarios");
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(root, "*.conf", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(root, path));
        return data;
    }

    /// <summary>A bug shown on purpose may need the right interleaving: at every seed only the named checkers may fire,
    /// and over the 50 seeds each of them does.</summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void Checkers_fire_only_where_a_scenario_shows_a_bug_on_purpose(string file)
    {
        var scenario = ScenarioRun.Load(file);
        var shown = scenario.Scenario.ShowsBug.ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var report = ScenarioRunner.Run(scenario, new RunOptions { Seed = seed, Mode = RunMode.Deterministic, TraceKeep = 0 });
            var fired = report.Violations.Select(CheckerOf).ToHashSet(StringComparer.Ordinal);
            seen.UnionWith(fired);
            if (!fired.IsSubsetOf(shown))
                throw new Xunit.Sdk.XunitException(
                    $"{file} seed {seed}: checkers fired [{string.Join(", ", fired.Order())}], the scenario shows " +
                    $"[{string.Join(", ", shown.Order())}]\n{ScenarioRun.Describe(report)}");
        }
        Assert.True(seen.SetEquals(shown), $"{file}: over {Seeds} seeds [{string.Join(", ", seen.Order())}] fired, the scenario shows [{string.Join(", ", shown.Order())}]");
    }

    /// <summary>"page-refcount: pfn 3 ...", "liveness: ...", "kernel BUG: ..." → the checker's name.</summary>
    private static string CheckerOf(string violation) => violation[..Math.Max(0, violation.IndexOf(':'))];
}

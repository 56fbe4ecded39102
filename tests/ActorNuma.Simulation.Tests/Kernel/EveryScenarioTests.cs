using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Every file in <c>hocon/scenarios/</c>, found on disk (no list to keep), at 50 seeds with the checkers at every
/// step. A checker that fires must mean a kernel bug: no scenario may trip one, except a scenario that demonstrates a bug
/// on purpose (<c>shows-bug</c>), which must trip exactly the checkers it names, at every seed.</summary>
[Trait("kind", "scenario")]
public sealed class EveryScenarioTests
{
    private const int Seeds = 50;

    public static TheoryData<string> Files() => ScenarioFileTests.Files();

    [Theory]
    [MemberData(nameof(Files))]
    public void Checkers_fire_only_where_a_scenario_shows_a_bug_on_purpose(string file)
    {
        var scenario = ScenarioRun.Load(file);
        var expected = scenario.Scenario.ShowsBug.Order(StringComparer.Ordinal).ToList();
        for (var seed = 1; seed <= Seeds; seed++)
        {
            var report = ScenarioRunner.Run(scenario, new RunOptions { Seed = seed, Mode = RunMode.Deterministic, TraceKeep = 0 });
            var fired = report.Violations.Select(CheckerOf).Distinct().Order(StringComparer.Ordinal).ToList();
            if (!fired.SequenceEqual(expected))
                throw new Xunit.Sdk.XunitException(
                    $"{file} seed {seed}: checkers fired [{string.Join(", ", fired)}], the scenario shows [{string.Join(", ", expected)}]\n" +
                    ScenarioRun.Describe(report));
        }
    }

    /// <summary>"page-refcount: pfn 3 ...", "liveness: ...", "kernel BUG: ..." → the checker's name.</summary>
    private static string CheckerOf(string violation) => violation[..Math.Max(0, violation.IndexOf(':'))];
}

using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Every file in <c>hocon/scenarios/</c>, found on disk (no list to keep), in deterministic mode at many seeds
/// with the checkers at every step. A checker that fires must mean a kernel bug: no scenario may trip one, except a
/// scenario that demonstrates a bug on purpose (<c>shows-bug</c>), which must trip exactly the checkers it names. Every
/// other file's expectations hold at every seed, unless the file says why they cannot (<c>schedule-dependent</c>).</summary>
[Trait("kind", "scenario")]
public sealed class EveryScenarioTests
{
    private const int Seeds = 50;
    private const int MinSeeds = 3;

    /// <summary>Seeds 1, 2, ... run until the file has used this many scheduler steps (at least <see cref="MinSeeds"/>
    /// seeds, at most <see cref="Seeds"/>): a file of 100,000 pages gets the few seeds its size allows, a syscall file
    /// all fifty. Counted in steps, not time, so every machine runs the same seeds.</summary>
    private const long StepBudget = 500_000;

    /// <summary>Every scenario file, subfolders (the race catalogue) included, by path below hocon/scenarios.</summary>
    public static TheoryData<string> Files() => new(FileNames());

    public static IReadOnlyList<string> FileNames()
    {
        var root = Path.Combine(ScenarioRun.RepoRoot, "hocon", "scenarios");
        return Directory.GetFiles(root, "*.conf", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(path => Path.GetRelativePath(root, path)).ToList();
    }

    /// <summary>A bug shown on purpose may need the right interleaving: at every seed only the named checkers may fire,
    /// and over the seeds each of them does. A file that shows no bug meets its expectations at every seed and at the
    /// seed it names.</summary>
    [Theory]
    [MemberData(nameof(Files))]
    public void Checkers_fire_only_where_a_scenario_shows_a_bug_and_expectations_hold_at_every_seed(string file)
    {
        var scenario = ScenarioRun.Load(file);
        var shown = scenario.Scenario.ShowsBug.ToHashSet(StringComparer.Ordinal);
        var judgeSteps = shown.Count == 0 && scenario.Scenario.ScheduleDependent is null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var seeds = 0;
        long steps = 0;
        foreach (var seed in SeedsOf(scenario))
        {
            if (seeds >= MinSeeds && (seeds >= Seeds || steps >= StepBudget))
            {
                break;
            }

            var report = ScenarioRunner.Run(scenario, new RunOptions { Seed = seed, Mode = RunMode.Deterministic, TraceKeep = 0 });
            seeds++;
            steps += report.SchedulerSteps;
            var fired = report.Violations.Select(CheckerOf).ToHashSet(StringComparer.Ordinal);
            seen.UnionWith(fired);
            if (!fired.IsSubsetOf(shown))
            {
                throw new Xunit.Sdk.XunitException(
                    $"{file} seed {seed}: checkers fired [{string.Join(", ", fired.Order())}], the scenario shows " +
                    $"[{string.Join(", ", shown.Order())}]\n{ScenarioRun.Describe(report)}");
            }

            if (judgeSteps && !report.ExpectationsHeld)
            {
                throw new Xunit.Sdk.XunitException($"{file} seed {seed}: an expectation failed\n{ScenarioRun.Describe(report)}");
            }
        }
        Assert.True(seen.SetEquals(shown), $"{file}: over {seeds} seeds [{string.Join(", ", seen.Order())}] fired, the scenario shows [{string.Join(", ", shown.Order())}]");
    }

    /// <summary>The seed the file names first, then 1, 2, 3, ...</summary>
    private static IEnumerable<int> SeedsOf(LoadedScenario scenario) =>
        Enumerable.Range(1, Seeds).Prepend(scenario.Machine.Run.Seed).Distinct();

    /// <summary>"page-refcount: pfn 3 ...", "liveness: ...", "kernel BUG: ..." → the checker's name.</summary>
    internal static string CheckerOf(string violation) => violation[..Math.Max(0, violation.IndexOf(':'))];
}

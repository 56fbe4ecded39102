using System.Globalization;
using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Bench;

/// <summary>
/// Schedules explored per second on the race catalogue (issue #9 item 2: at least 2,000 schedules/s over 10,000
/// schedules of each catalogue scenario, both cores busy): every scenario file of a directory, explored with the random
/// strategy on one worker per core, as <c>actornuma explore &lt;file&gt; --count N</c> does.
/// </summary>
/// <remarks>
/// The figure is wall-clock schedules per second, so it depends on how much of the machine the explorer gets; the
/// detail also gives schedules per second of processor time (every thread of the process, GC and JIT included), which
/// says what a schedule costs whatever else runs. One warm-up exploration of the first file runs first and is not
/// counted: the first schedules of a process run code the JIT has not optimised yet.
/// </remarks>
public static class ExploreBenchmark
{
    /// <summary>The catalogue's directory relative to the repository root, where <c>actornuma bench</c> looks by default.</summary>
    public const string DefaultCatalogue = "hocon/scenarios/races";

    public static IReadOnlyList<Benchmarks.Figure> Run(string directory, int schedules, int workers, Action<string>? progress = null)
    {
        var files = Directory.GetFiles(directory, "*.conf").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new ScenarioException($"{directory}: no scenario files (*.conf) to explore");
        var scenarios = files.Select(ScenarioLoader.LoadFile).ToArray();
        Explore(scenarios[0], Math.Min(schedules, 500), workers);
        var figures = new List<Benchmarks.Figure>();
        foreach (var (file, scenario) in files.Zip(scenarios))
        {
            var s = Explore(scenario, schedules, workers);
            var figure = new Benchmarks.Figure($"explore {Path.GetFileNameWithoutExtension(file)}", s.SchedulesPerSecond, "sched/s",
                string.Create(CultureInfo.InvariantCulture,
                    $"{s.Results.Count} schedules in {s.Elapsed.TotalSeconds:F2} s on {workers} workers; {s.SchedulesPerCpuSecond:F0} per cpu-second; " +
                    $"{s.Results.Average(r => r.SchedulerSteps):F0} steps a schedule; {s.Outcomes.Count} outcomes, {s.Failing.Count} failing"));
            progress?.Invoke("  " + Benchmarks.Format(figure));
            figures.Add(figure);
        }
        return figures;
    }

    private static ExploreSummary Explore(LoadedScenario scenario, int schedules, int workers) =>
        Explorer.Explore(scenario, new ExploreOptions { Seeds = Enumerable.Range(1, schedules).ToArray(), Workers = workers });
}

using System.Collections.Concurrent;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Tests.Kernel;

namespace ActorNuma.Simulation.Tests.Run;

/// <summary>Every file in <c>hocon/scenarios/</c> (subfolders included) in concurrent mode, several times: real threads
/// and real time give interleavings the seeded scheduler may never pick, so these runs assert only what holds in every
/// schedule: no checker fires and every expectation the file states holds. A file that shows a bug on purpose
/// (<c>shows-bug</c>) is left out, and a file whose expectations hold only in some schedules
/// (<c>schedule-dependent</c>) is held to its checkers alone.</summary>
/// <remarks>A concurrent run mostly waits (on the device's latency, kswapd's timers, the quiescence test), so the runs of
/// every file share a few workers and overlap the rest of the suite; each file's rows wait only for their own runs.
/// A run is bounded by the stall window: one that stops making progress ends with a liveness violation.</remarks>
[Trait("kind", "scenario")]
public sealed class EveryScenarioConcurrentTests
{
    private const int Runs = 3;
    private const int Workers = 4;

    public static TheoryData<string> Files() => new(FileNames());

    private static IEnumerable<string> FileNames() =>
        EveryScenarioTests.FileNames().Where(file => ScenarioRun.Load(file).Scenario.ShowsBug.Count == 0);

    [Theory(Timeout = 600_000)]
    [MemberData(nameof(Files))]
    public async Task A_scenario_runs_clean_in_concurrent_mode_every_time(string file)
    {
        var scenario = ScenarioRun.Load(file);

        var reports = await Task.WhenAll(Pool.RunsOf(file));

        foreach (var (report, run) in reports.Select((r, i) => (r, i + 1)))
        {
            Assert.Equal("concurrent", report.Mode);
            if (report.Violations.Count > 0 || (scenario.Scenario.ScheduleDependent is null && !report.ExpectationsHeld))
            {
                throw new Xunit.Sdk.XunitException($"{file}, concurrent run {run} of {Runs}, was not clean\n{ScenarioRun.Describe(report)}");
            }
        }
    }

    /// <summary><see cref="Workers"/> threads that run every file's runs, queued at once when the first row asks (in file
    /// order, run by run), so that the rows after the first mostly find theirs done.</summary>
    private static class Pool
    {
        private static readonly BlockingCollection<(LoadedScenario, TaskCompletionSource<RunReport>)> Queue = new();
        private static readonly Dictionary<string, Task<RunReport>[]> Runs = QueueAll();

        public static Task<RunReport>[] RunsOf(string file) => Runs[file];

        private static Dictionary<string, Task<RunReport>[]> QueueAll()
        {
            var files = FileNames().ToList();
            var runs = files.ToDictionary(f => f, _ => new TaskCompletionSource<RunReport>[EveryScenarioConcurrentTests.Runs]);
            for (var run = 0; run < EveryScenarioConcurrentTests.Runs; run++)
            {
                foreach (var file in files)
                {
                    var done = runs[file][run] = new TaskCompletionSource<RunReport>(TaskCreationOptions.RunContinuationsAsynchronously);
                    Queue.Add((ScenarioRun.Load(file), done));
                }
            }

            Queue.CompleteAdding();
            for (var i = 0; i < Workers; i++)
            {
                new Thread(Work) { IsBackground = true, Name = $"concurrent-runs-{i}" }.Start();
            }

            return runs.ToDictionary(kv => kv.Key, kv => kv.Value.Select(t => t.Task).ToArray());
        }

        private static void Work()
        {
            foreach (var (scenario, done) in Queue.GetConsumingEnumerable())
            {
                try
                {
                    done.SetResult(ScenarioRunner.Run(scenario, new RunOptions
                    {
                        Seed = scenario.Machine.Run.Seed, Mode = RunMode.Concurrent, TraceKeep = 0,
                    }));
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            }
        }
    }
}

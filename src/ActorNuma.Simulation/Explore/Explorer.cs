using System.Diagnostics;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Explore;

/// <summary>What to explore: which seeds, under which strategy, on how many workers.</summary>
public sealed record ExploreOptions
{
    /// <summary>The seeds to run, in order; each names one schedule of <see cref="Strategy"/>.</summary>
    public required IReadOnlyList<int> Seeds { get; init; }
    public StrategyKind Strategy { get; init; } = StrategyKind.Random;
    /// <summary>PCT's bug depth d.</summary>
    public int Depth { get; init; } = 2;
    /// <summary>Worker threads, each with its own actor system; one per core by default.</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;
    /// <summary>End at the first failing seed: the seeds before it still run, so the answer does not depend on timing.</summary>
    public bool StopOnFirst { get; init; }
}

/// <summary>Progress of a running exploration, for the live display.</summary>
public sealed record ExploreProgress(int Done, int Total, int Outcomes, int Failures, double SchedulesPerSecond);

/// <summary>One distinct outcome: how many schedules reached it, and the smallest seed that did.</summary>
public sealed record OutcomeCount(string Outcome, int Count, int ExampleSeed, bool Failed);

/// <summary>Everything an exploration found, in seed order (independent of the number of workers).</summary>
public sealed record ExploreSummary(
    string Scenario, StrategyKind Strategy, int Depth, long ExpectedSteps, IReadOnlyList<ScheduleResult> Results,
    TimeSpan Elapsed, TimeSpan Cpu)
{
    public IReadOnlyList<OutcomeCount> Outcomes { get; } = Results
        .GroupBy(r => r.Outcome, StringComparer.Ordinal)
        .Select(g => new OutcomeCount(g.Key, g.Count(), g.Min(r => r.Seed), g.Any(r => r.Failed)))
        .OrderByDescending(o => o.Count).ThenBy(o => o.ExampleSeed).ToArray();

    public IReadOnlyList<ScheduleResult> Failing { get; } = Results.Where(r => r.Failed).ToArray();

    /// <summary>The scenario's <c>sometimes</c> properties that held in no schedule: the exploration fails on them.</summary>
    public IReadOnlyList<string> NeverHeld { get; init; } = [];

    public bool Failed => Failing.Count > 0 || NeverHeld.Count > 0;

    /// <summary>The kernel profile the scenario ran under, and how many workers ran it.</summary>
    public string Profile { get; init; } = "";
    public int Workers { get; init; } = 1;

    /// <summary>Bounded strategy only: whether every schedule within the bound was run (null for the others).</summary>
    public bool? Complete { get; init; }

    public double SchedulesPerSecond => Results.Count / Math.Max(Elapsed.TotalSeconds, 1e-9);

    /// <summary>Schedules per second of processor time the process used (all threads, GC and JIT included): on a
    /// machine shared with other work this says what the explorer costs, where <see cref="SchedulesPerSecond"/> also
    /// says how much of the machine it got.</summary>
    public double SchedulesPerCpuSecond => Results.Count / Math.Max(Cpu.TotalSeconds, 1e-9);
}

/// <summary>Runs a scenario under many schedules on parallel workers.</summary>
public static class Explorer
{
    /// <summary>PCT's change points fall within the steps of a schedule: k is measured by running the scenario's own
    /// seed under the random strategy once, before the exploration.</summary>
    public static long MeasureSteps(LoadedScenario scenario)
    {
        using var worker = new ExploreWorker(scenario);
        var seed = scenario.Machine.Run.Seed;
        return Math.Max(1, worker.Run(seed, ScheduleStrategies.Create(StrategyKind.Random, seed, 1, 1)).SchedulerSteps);
    }

    public static ExploreSummary Explore(LoadedScenario scenario, ExploreOptions options, Action<ExploreProgress>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Workers, 1);
        if (options.Strategy == StrategyKind.Bounded)
        {
            return ExploreBounded(scenario, options, progress);
        }

        var k = options.Strategy == StrategyKind.Pct ? MeasureSteps(scenario) : 1;
        var seeds = options.Seeds;
        var results = new ScheduleResult?[seeds.Count];
        var next = -1;
        var firstFailure = int.MaxValue;
        var done = 0;
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();

        void Work()
        {
            try
            {
                using var worker = new ExploreWorker(scenario);
                while (true)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= seeds.Count || i > Volatile.Read(ref firstFailure))
                    {
                        return;
                    }

                    var strategy = ScheduleStrategies.Create(options.Strategy, seeds[i], options.Depth, k);
                    var r = results[i] = worker.Run(seeds[i], strategy);
                    if (r.Failed && options.StopOnFirst)
                    {
                        InterlockedMin(ref firstFailure, i);
                    }

                    Interlocked.Increment(ref done);
                }
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        }

        var threads = Enumerable.Range(0, Math.Min(options.Workers, Math.Max(1, seeds.Count)))
            .Select(n => new Thread(Work) { Name = $"explore-worker-{n}", IsBackground = true }).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        while (!threads.All(t => t.Join(TimeSpan.FromMilliseconds(200))))
        {
            progress?.Invoke(Progress(results, Volatile.Read(ref done), seeds.Count, clock.Elapsed));
        }

        if (!errors.IsEmpty)
        {
            throw new AggregateException("an explore worker failed", errors);
        }

        var kept = results.Take(Math.Min(seeds.Count, firstFailure == int.MaxValue ? seeds.Count : firstFailure + 1))
            .Select(r => r!).ToArray();
        progress?.Invoke(Progress(kept, kept.Length, seeds.Count, clock.Elapsed));
        return Summarize(scenario, options, k, kept, clock.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    /// <summary>The bounded search is sequential (each schedule's prefix comes from the one before), on one worker;
    /// its schedules are numbered 1, 2, ... in search order, and <see cref="ExploreOptions.Seeds"/> gives only the budget.</summary>
    private static ExploreSummary ExploreBounded(LoadedScenario scenario, ExploreOptions options, Action<ExploreProgress>? progress)
    {
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var seen = new List<ScheduleResult>();
        var shown = TimeSpan.Zero;
        var search = BoundedSearch.Run(scenario, options.Depth, options.Seeds.Count, r =>
        {
            seen.Add(r);
            if (clock.Elapsed - shown > TimeSpan.FromMilliseconds(200))
            {
                shown = clock.Elapsed;
                progress?.Invoke(Progress(seen, seen.Count, options.Seeds.Count, clock.Elapsed));
            }
            return options.StopOnFirst && r.Failed;
        });
        progress?.Invoke(Progress(seen, seen.Count, options.Seeds.Count, clock.Elapsed));
        return Summarize(scenario, options, 1, search.Schedules, clock.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu)
            with { Complete = search.Complete };
    }

    private static ExploreSummary Summarize(LoadedScenario scenario, ExploreOptions options, long k,
        IReadOnlyList<ScheduleResult> kept, TimeSpan elapsed, TimeSpan cpu)
    {
        var sometimes = scenario.Scenario.Properties.Sometimes;
        return new ExploreSummary(scenario.Scenario.Name, options.Strategy, options.Depth, k, kept, elapsed, cpu)
        {
            NeverHeld = sometimes.Where((_, i) => !kept.Any(r => r.SometimesHeld[i])).Select(p => p.Text).ToArray(),
            Profile = scenario.Machine.Profile.Name,
            Workers = options.Strategy == StrategyKind.Bounded ? 1 : Math.Min(options.Workers, Math.Max(1, options.Seeds.Count)),
        };
    }

    private static ExploreProgress Progress(IEnumerable<ScheduleResult?> results, int done, int total, TimeSpan elapsed)
    {
        var finished = results.Where(r => r is not null).Select(r => r!).ToArray();
        return new ExploreProgress(done, total, finished.Select(r => r.Outcome).Distinct().Count(),
            finished.Count(r => r.Failed), done / Math.Max(elapsed.TotalSeconds, 1e-9));
    }

    private static void InterlockedMin(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value < seen)
        {
            var was = Interlocked.CompareExchange(ref target, value, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }
}

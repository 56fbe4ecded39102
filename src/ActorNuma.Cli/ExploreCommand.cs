using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Scenarios;
using Spectre.Console;

namespace ActorNuma.Cli;

/// <summary><c>actornuma explore &lt;scenario&gt; [--count N | --seeds A..B] [--strategy random|pct] [--depth d]
/// [--workers n] [--stop-on-first] [--json out]</c>: runs a scenario under many schedules, checkers after every step,
/// and prints the distribution of outcomes, the failing seeds and the command that replays each.</summary>
/// <remarks>Exit codes: 0 no schedule failed; 1 a schedule failed (an expectation, a checker, a kernel BUG, an
/// <c>always</c> property or the allowed <c>outcomes</c>) or a <c>sometimes</c> property held in none; 2 bad input.</remarks>
public static class ExploreCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string>("scenario") { Description = "Scenario file (HOCON)" };
        var count = new Option<int?>("--count") { Description = "Run seeds 1..N (default 1000)" };
        var seeds = new Option<string?>("--seeds") { Description = "Run seeds A..B (inclusive)" };
        var workers = new Option<int>("--workers")
        {
            Description = "Worker threads, each with one reused actor system (default: one per core)",
            DefaultValueFactory = _ => Environment.ProcessorCount,
        };
        var stop = new Option<bool>("--stop-on-first") { Description = "Stop at the first failing seed (the seeds before it still run)" };
        var json = new Option<string?>("--json") { Description = "Write outcomes, failing seeds and every schedule's result to this file" };
        var shrink = new Option<bool>("--shrink")
        {
            Description = "For the first failing seed, search for a failing schedule with the fewest deviations from the " +
                          "default schedule (bounded searches with 0, 1, 2, ... deviations, --count schedules each)",
        };
        var strategy = new StrategyOptions();
        var command = new Command("explore", "Run a scenario under many schedules and tabulate the outcomes")
        {
            scenario, count, seeds, workers, stop, json, shrink,
        };
        strategy.AddTo(command);
        command.SetAction(p =>
        {
            var (kind, depth) = strategy.Read(p);
            var file = p.GetValue(scenario)!;
            if (SeedList(p.GetValue(count), p.GetValue(seeds)) is not { } list || p.GetValue(workers) < 1)
            {
                Console.Error.WriteLine("actornuma: explore takes --count N (N >= 1) or --seeds A..B (A <= B), not both, and --workers >= 1");
                return ExitCodes.BadInput;
            }
            if (StrategyOptions.Load(file, kind, depth) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }

            var options = new ExploreOptions
            {
                Seeds = list, Strategy = kind, Depth = depth, Workers = p.GetValue(workers), StopOnFirst = p.GetValue(stop),
            };
            Console.WriteLine($"explore: scenario={loaded.Scenario.Name} source={loaded.Source} strategy={ScheduleStrategies.Name(kind)}" +
                              $"{(kind == StrategyKind.Random ? "" : $" depth={depth}")} seeds={list[0]}..{list[^1]} workers={options.Workers}" +
                              $" profile={loaded.Machine.Profile.Name}");
            var summary = Run(loaded, options);
            Print(summary, file);
            if (p.GetValue(json) is { } path)
            {
                File.WriteAllText(path, Json(summary, file));
            }

            if (p.GetValue(shrink) && summary.Failing.Count > 0)
            {
                PrintShrunk(loaded, summary, file, list.Count);
            }

            return summary.Failed ? ExitCodes.ExpectationFailed : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Seeds 1..N for --count, A..B for --seeds; null when the flags are missing, both given or malformed.</summary>
    internal static IReadOnlyList<int>? SeedList(int? count, string? range)
    {
        if (count is not null && range is not null)
        {
            return null;
        }

        if (range is null)
        {
            return (count ?? 1000) is var n and >= 1 ? Enumerable.Range(1, n).ToArray() : null;
        }

        var parts = range.Split("..");
        if (parts.Length != 2
            || !int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var a)
            || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var b)
            || a > b || (long)b - a >= 100_000_000)
        {
            return null;
        }

        return Enumerable.Range(a, b - a + 1).ToArray();
    }

    /// <summary>A live progress bar on a terminal; on a pipe or file, a plain line every few seconds.</summary>
    private static ExploreSummary Run(LoadedScenario loaded, ExploreOptions options)
    {
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            ExploreSummary? summary = null;
            var stats = new StatsColumn();
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), stats, new ElapsedTimeColumn(),
                    new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("schedules", maxValue: options.Seeds.Count);
                    summary = Explorer.Explore(loaded, options, p =>
                    {
                        stats.Latest = p;
                        task.Value = p.Done;
                    });
                });
            return summary!;
        }
        var last = System.Diagnostics.Stopwatch.StartNew();
        return Explorer.Explore(loaded, options, p =>
        {
            if (last.Elapsed < TimeSpan.FromSeconds(2))
            {
                return;
            }

            last.Restart();
            Console.WriteLine(ProgressLine(p));
        });
    }

    /// <summary>The live figures beside the bar: schedules done, schedules/s, distinct outcomes, failing schedules.</summary>
    private sealed class StatsColumn : ProgressColumn
    {
        public volatile ExploreProgress? Latest;

        public override Spectre.Console.Rendering.IRenderable Render(Spectre.Console.Rendering.RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
            Latest is not { } p ? new Text("") : new Markup(string.Create(CultureInfo.InvariantCulture,
                $"{p.Done}/{p.Total} [blue]{p.SchedulesPerSecond:F0}/s[/] {p.Outcomes} outcomes {(p.Failures > 0 ? "[red]" : "[green]")}{p.Failures} failing[/]"));
    }

    internal static string ProgressLine(ExploreProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"explore: {p.Done}/{p.Total} schedules, {p.SchedulesPerSecond:F0}/s, {p.Outcomes} outcomes, {p.Failures} failures");

    private static void Print(ExploreSummary s, string file)
    {
        Console.WriteLine();
        Console.WriteLine($"outcomes ({s.Outcomes.Count} distinct over {s.Results.Count} schedules):");
        Console.WriteLine($"{"count",8} {"seed",8}  outcome");
        foreach (var o in s.Outcomes)
        {
            Console.WriteLine($"{o.Count,8} {o.ExampleSeed,8}  {(o.Failed ? "FAIL " : "")}{o.Outcome}");
        }

        Console.WriteLine();
        Console.WriteLine($"failing seeds ({s.Failing.Count}):");
        foreach (var f in s.Failing)
        {
            Console.WriteLine($"  seed {f.Seed}: {f.Failures[0]}{(f.Failures.Count > 1 ? $" (+{f.Failures.Count - 1} more)" : "")}");
            Console.WriteLine($"    {ReplayLine(s, file, f.Seed)}");
        }
        foreach (var p in s.NeverHeld)
        {
            Console.WriteLine($"property sometimes \"{p}\" held in no schedule");
        }

        if (s.Complete is { } complete)
        {
            Console.WriteLine(complete
                ? $"bounded: complete: every schedule with at most {s.Depth} deviations was run, {s.Results.Count} schedules"
                : $"bounded: incomplete: stopped after {s.Results.Count} schedules, before every schedule with at most {s.Depth} deviations was run");
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"explore: {s.Results.Count} schedules in {s.Elapsed.TotalSeconds:F2} s ({s.SchedulesPerSecond:F0}/s; " +
            $"{s.Cpu.TotalSeconds:F2} s of cpu, {s.SchedulesPerCpuSecond:F0} per cpu-second), {s.Outcomes.Count} outcomes, {s.Failing.Count} failing"));
    }

    private static void PrintShrunk(LoadedScenario loaded, ExploreSummary s, string file, int budget)
    {
        var original = s.Failing[0];
        Console.WriteLine();
        if (Shrinker.Shrink(loaded, original, budget) is not { } shrunk)
        {
            Console.WriteLine($"shrink: no failing schedule with at most {original.Deviations} deviations within {budget} schedules per bound");
            return;
        }
        Console.WriteLine($"shrink: seed {original.Seed} ({original.Deviations} deviations) -> bounded schedule {shrunk.Number} with " +
                          $"{shrunk.Schedule.Deviations} deviations{(shrunk.Minimal ? " (the fewest of any failing schedule)" : "")}: {shrunk.Schedule.Failures[0]}");
        Console.WriteLine($"    actornuma replay {file} --seed {shrunk.Number}{StrategyOptions.Flags(StrategyKind.Bounded, shrunk.Bound)}");
    }

    internal static string ReplayLine(ExploreSummary s, string file, int seed) =>
        $"actornuma replay {file} --seed {seed}{StrategyOptions.Flags(s.Strategy, s.Depth)}";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    internal static string Json(ExploreSummary s, string file) => JsonSerializer.Serialize(new
    {
        scenario = s.Scenario,
        source = file,
        strategy = ScheduleStrategies.Name(s.Strategy),
        depth = s.Strategy == StrategyKind.Pct ? s.Depth : (int?)null,
        profile = s.Profile,
        workers = s.Workers,
        seeds = s.Results.Count == 0 ? null : new { first = s.Results.Min(r => r.Seed), last = s.Results.Max(r => r.Seed) },
        expected_steps = s.Strategy == StrategyKind.Pct ? s.ExpectedSteps : (long?)null,
        schedules = s.Results.Count,
        failed = s.Failed,
        complete = s.Complete,
        elapsed_s = s.Elapsed.TotalSeconds,
        cpu_s = s.Cpu.TotalSeconds,
        schedules_per_second = s.SchedulesPerSecond,
        schedules_per_cpu_second = s.SchedulesPerCpuSecond,
        outcomes = s.Outcomes.Select(o => new { outcome = o.Outcome, count = o.Count, example_seed = o.ExampleSeed, failed = o.Failed }),
        sometimes_never_held = s.NeverHeld,
        failing = s.Failing.Select(f => new { seed = f.Seed, failures = f.Failures, replay = ReplayLine(s, file, f.Seed) }),
        results = s.Results.Select(r => new
        {
            seed = r.Seed, outcome = r.Outcome, trace_sha256 = r.TraceSha256, failed = r.Failed, steps = r.SchedulerSteps,
            deviations = r.Deviations, failures = r.Failures, sometimes_held = r.SometimesHeld,
        }),
    }, Indented);
}

using System.CommandLine;
using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Cli;

/// <summary><c>actornuma replay &lt;scenario&gt; --seed N [--strategy random|pct] [--depth d] [--report out.json]
/// [--trace out.log] [--timeline out.json] [--quiet] [--columns]</c>: re-runs one schedule of an exploration in a fresh actor
/// system and prints it as <c>run</c> does; the same seed and strategy give the same trace hash, report and traces, byte
/// for byte. <c>--trace out.log</c> writes the kernel-style events in ftrace's text layout to <c>out.log</c> and every
/// delivered message to <c>out.log.messages</c>; <c>--timeline</c> writes Chrome trace-event JSON (Perfetto opens it).</summary>
public static class ReplayCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string>("scenario") { Description = "Scenario file (HOCON)" };
        var seed = new Option<int>("--seed") { Description = "The schedule's seed, as explore printed it", Required = true };
        var report = new Option<string?>("--report") { Description = "Write the JSON report to this file" };
        var trace = new Option<string?>("--trace")
        {
            Description = "Write two traces: the kernel-style events in ftrace's text layout (task-pid [cpu] timestamp: event: fields) " +
                          "to this file, and every delivered message (step, virtual time, sender -> receiver, message, pfn/pte) to " +
                          "this file + \".messages\"",
        };
        var timeline = new Option<string?>("--timeline")
        {
            Description = "Write the schedule as Chrome trace-event JSON (Perfetto, chrome://tracing): a track per actor and per " +
                          "CPU, a slice per handled message, arrows from send to receive; 1 us = 1 scheduler step",
        };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the summary line" };
        var columns = new Option<bool>("--columns")
        {
            Description = "Draw the race as kernel commit messages do: one column per actor, time going down, only the " +
                          "kernel trace events that touch the pages the failure names (every page-naming event if it names none)",
        };
        var strategy = new StrategyOptions();
        var command = new Command("replay", "Re-run one schedule of explore exactly, with the full report")
        {
            scenario, seed, report, trace, timeline, quiet, columns,
        };
        strategy.AddTo(command);
        command.SetAction(p =>
        {
            var (kind, depth) = strategy.Read(p);
            if (StrategyOptions.Load(p.GetValue(scenario)!, kind, depth) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }

            if (kind == StrategyKind.Bounded && p.GetValue(seed) < 1)
            {
                Console.Error.WriteLine("actornuma: a bounded schedule's --seed is its number in the search, from 1");
                return ExitCodes.BadInput;
            }
            var (reportPath, tracePath, timelinePath) = (p.GetValue(report), p.GetValue(trace), p.GetValue(timeline));
            var k = Steps(loaded, kind);
            var placement = "";
            var drawColumns = p.GetValue(columns);
            var deliveries = tracePath is not null || timelinePath is not null ? new DeliveryLog() : null;
            var options = Options(loaded, p.GetValue(seed), kind, depth, k, keepTrace: deliveries is not null || drawColumns) with
            {
                AtEnd = machine => placement = ScheduleOutcome.Placement(machine),
                Deliveries = deliveries,
            };
            var derived = ScenarioRunner.DerivedParameters(loaded, options);
            Console.WriteLine(derived[0]);
            Console.WriteLine($"strategy={ScheduleStrategies.Name(kind)}{(kind == StrategyKind.Pct ? $" depth={depth} k={k}" : "")}");
            var r = ScenarioRunner.Run(loaded, options);
            if (reportPath is not null)
            {
                File.WriteAllText(reportPath, ReportJson.Write(r));
            }

            if (tracePath is not null)
            {
                File.WriteAllLines(tracePath, KernelStyleTrace.Write(r.Trace, deliveries!.Deliveries));
                File.WriteAllLines(tracePath + ".messages", deliveries.Deliveries.Select(d => d.ToString()));
            }
            if (timelinePath is not null)
            {
                using var file = File.Create(timelinePath);
                Timeline.Write(file, deliveries!.Deliveries, r.Trace, $"{loaded.Scenario.Name} seed {r.Seed}");
            }
            RunOutput.Print(r, derived.Skip(1), p.GetValue(quiet), unwritten: null);
            if (drawColumns)
            {
                foreach (var line in RaceColumns.Draw(r.Trace, r.Warnings, r.Violations))
                {
                    Console.WriteLine(line);
                }
            }

            return Judge(loaded, r, placement) ? ExitCodes.ExpectationFailed : r.ExitCode;
        });
        return command;
    }

    /// <summary>Prints the outcome line explore tabulates and every scenario property that fails; true when one
    /// does (the run's own exit code covers expectations and checkers).</summary>
    private static bool Judge(LoadedScenario loaded, RunReport r, string placement)
    {
        var facts = new ScheduleFacts(r.Steps, r.Violations, r.Warnings.Count, ScheduleOutcome.Describe(r.Steps, placement, r.Violations));
        Console.WriteLine($"outcome: {facts.Outcome}");
        var properties = loaded.Scenario.Properties;
        var failures = PropertyCheck.Failures(properties, facts).ToArray();
        foreach (var f in failures)
        {
            Console.WriteLine($"PROPERTY: {f}");
        }

        foreach (var (p, held) in properties.Sometimes.Zip(PropertyCheck.Sometimes(properties, facts)))
        {
            Console.WriteLine($"property sometimes \"{p.Text}\" {(held ? "holds" : "does not hold")} in this schedule");
        }

        return failures.Length > 0 && r.ExitCode == 0;
    }

    /// <summary>The run options that replay schedule <paramref name="seed"/> of an exploration with this strategy.</summary>
    /// <param name="k">PCT's expected schedule length, as explore measured it (<see cref="Explorer.MeasureSteps"/>).</param>
    /// <remarks>A bounded schedule is named by its number in the search: the search runs again up to it.</remarks>
    public static RunOptions Options(LoadedScenario loaded, int seed, StrategyKind kind, int depth, long k, bool keepTrace) => new()
    {
        Seed = seed,
        Mode = RunMode.Deterministic,
        TraceKeep = keepTrace ? int.MaxValue : 0,
        Strategy = kind == StrategyKind.Bounded
            ? new BoundedStrategy(BoundedSearch.PrefixOf(loaded, depth, seed))
            : ScheduleStrategies.Create(kind, seed, depth, k),
    };

    private static long Steps(LoadedScenario loaded, StrategyKind kind) =>
        kind == StrategyKind.Pct ? Explorer.MeasureSteps(loaded) : 1;
}

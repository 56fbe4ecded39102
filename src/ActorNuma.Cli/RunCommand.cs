using System.CommandLine;
using System.Globalization;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Cli;

/// <summary><c>actornuma run [scenario.conf] [--seed N] [--mode deterministic|concurrent] [--report out.json]
/// [--trace out.log]</c>.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string?>("scenario")
        {
            Description = "Scenario file (HOCON). Without one, the embedded default scenario runs.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var seed = new Option<int?>("--seed") { Description = "Seed of the deterministic scheduler (overrides actornuma.run.seed)" };
        var mode = new Option<string?>("--mode") { Description = "deterministic or concurrent (overrides actornuma.run.mode)" };
        mode.AcceptOnlyFromAmong("deterministic", "concurrent");
        var report = new Option<string?>("--report") { Description = "Write the JSON report to this file" };
        var trace = new Option<string?>("--trace") { Description = "Write the kernel trace to this file" };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the summary line" };
        var command = new Command("run", "Run a scenario and print the seed, a summary, numa_maps and /proc/vmstat")
        {
            scenario, seed, mode, report, trace, quiet,
        };
        command.SetAction(p => Execute(p.GetValue(scenario), p.GetValue(seed), p.GetValue(mode), p.GetValue(report),
            p.GetValue(trace), p.GetValue(quiet)));
        return command;
    }

    private static int Execute(string? file, int? seed, string? mode, string? reportPath, string? tracePath, bool quiet)
    {
        LoadedScenario loaded;
        try
        {
            loaded = file is null ? ScenarioLoader.LoadDefault() : ScenarioLoader.LoadFile(file);
            CheckWritable(reportPath, "--report");
            CheckWritable(tracePath, "--trace");
        }
        catch (ScenarioException e)
        {
            Console.Error.WriteLine($"actornuma: {e.Message}");
            return ExitCodes.BadInput;
        }
        var options = new RunOptions
        {
            Seed = seed,
            Mode = mode is null ? null : mode == "concurrent" ? RunMode.Concurrent : RunMode.Deterministic,
            TraceKeep = tracePath is null ? 0 : int.MaxValue,
        };
        foreach (var line in ScenarioRunner.DerivedParameters(loaded, options)) Console.WriteLine(line);
        var r = ScenarioRunner.Run(loaded, options);
        if (reportPath is not null) File.WriteAllText(reportPath, ReportJson.Write(r));
        if (tracePath is not null) File.WriteAllLines(tracePath, r.Trace.Select(e => e.ToString()));
        Print(r, quiet);
        return r.ExitCode;
    }

    /// <summary>A bad output path is bad input, found before the run rather than after it.</summary>
    private static void CheckWritable(string? path, string option)
    {
        if (path is null) return;
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is null || !Directory.Exists(dir)) throw new ScenarioException($"{option} {path}: no such directory {dir}");
    }

    internal static void Print(RunReport r, bool quiet)
    {
        var failed = r.Steps.Where(s => !s.Ok).ToList();
        var summary = $"{r.Scenario}: {r.Steps.Count} steps, {r.Steps.Count - failed.Count} held, {failed.Count} failed; " +
                      $"{r.Checks} checks, {r.Violations.Count} violations; {r.Warnings.Count} kernel warnings; " +
                      $"trace {r.TraceEvents} events sha256 {r.TraceSha256[..16]}; {r.SchedulerSteps} scheduler steps, " +
                      $"virtual time {r.VirtualTime.TotalMilliseconds.ToString("F3", CultureInfo.InvariantCulture)} ms";
        if (quiet) { Console.WriteLine(summary); return; }
        Console.WriteLine();
        // One line a step, never wrapped: kernel people grep these.
        foreach (var st in r.Steps)
        {
            var errno = st.Errno is { } e && e != Mm.Errno.None ? e.ToString() : "";
            var ret = st.Ret?.ToString(CultureInfo.InvariantCulture) ?? "";
            Console.WriteLine($"{st.Index,4} {st.Task ?? "",-8} {st.Op,-16} {ret,12} {errno,-7} {(st.Ok ? "ok" : "FAILED"),-6} {Note(st)}".TrimEnd());
        }
        Console.WriteLine();
        Console.WriteLine(summary);
        foreach (var w in r.Warnings) Console.WriteLine($"WARNING: {w.Site}: {w.Message} (pfn {w.Pfn})");
        foreach (var v in r.Violations) Console.WriteLine($"CHECKER: {v}");
        Console.WriteLine();
        foreach (var (task, lines) in r.NumaMaps)
        {
            Console.WriteLine($"numa_maps of {task}:");
            foreach (var l in lines) Console.WriteLine($"  {l}");
        }
        Console.WriteLine();
        Console.WriteLine("/proc/vmstat:");
        foreach (var (k, v) in r.Vmstat) Console.WriteLine($"{k} {v}");
        Console.WriteLine();
        foreach (var (node, counters) in r.Numastat)
            Console.WriteLine($"{node}: {string.Join(" ", counters.Select(kv => $"{kv.Key}={kv.Value}"))}");
    }

    private static string Note(StepResult s)
    {
        if (!s.Ok) return s.Message ?? "";
        if (s.Value is null) return "";
        return string.Join(" ", s.Value.Select(kv => $"{kv.Key}={Format(kv.Value)}"));
    }

    private static string Format(object? v) => v switch
    {
        null => "null",
        IReadOnlyDictionary<string, object?> d => "{" + string.Join(" ", d.Select(kv => $"{kv.Key}={Format(kv.Value)}")) + "}",
        System.Collections.IEnumerable e and not string => "[" + string.Join(",", e.Cast<object?>().Select(Format)) + "]",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };
}

using System.CommandLine;
using ActorNuma.Simulation.Bench;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Cli;

/// <summary><c>actornuma bench</c>: the figures the performance issue sets targets for (see <see cref="Benchmarks"/>),
/// each measured until it converges, with its target and whether it holds.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Small sizes and at most 5 runs a figure: under a minute (CI runs it)" };
        var json = new Option<string?>("--json") { Description = "Also write every figure, its runs, target and configuration to this JSON file" };
        var pages = new Option<int?>("--pages") { Description = "Pages of the faults and migration runs (default 262144 = 1 GiB; --quick 16384)" };
        var runs = new Option<int>("--runs") { Description = "Convergence window: the last N runs must agree within 10% (the median is reported)", DefaultValueFactory = _ => 3 };
        var maxRuns = new Option<int?>("--max-runs") { Description = "Bound on runs per figure while converging (default 25; --quick 5)" };
        var only = new Option<string[]>("--figure")
        {
            Description = $"Measure only these figures ({string.Join(", ", Benchmarks.FigureNames)}); default all",
            AllowMultipleArgumentsPerToken = true,
        };
        only.AcceptOnlyFromAmong([.. Benchmarks.FigureNames]);
        var mode = new Option<string[]>("--mode")
        {
            Description = "Run modes for the faults, migration, allocation and soak figures (concurrent, deterministic); default both",
            AllowMultipleArgumentsPerToken = true,
        };
        mode.AcceptOnlyFromAmong("concurrent", "deterministic");
        var schedules = new Option<int?>("--schedules") { Description = "Schedules per race-catalogue scenario for the explore figure (default 10000; --quick 300)" };
        var each = new Option<bool>("--each") { Description = "Also print every measured run, in the order run (with its allocation and GC pauses)" };
        var command = new Command("bench", "Measure the emulator against its performance targets: raw Akka rates, faults/s, " +
                                           "migrated pages/s, bytes allocated per operation, bytes per page, scaling, schedules/s, soak events/s")
        {
            quick, json, pages, runs, maxRuns, only, mode, each, schedules,
        };
        command.SetAction(p =>
        {
            var o = p.GetValue(quick) ? BenchOptions.QuickDefaults() : new BenchOptions();
            var n = p.GetValue(pages) ?? o.Pages;
            var window = p.GetValue(runs);
            var bound = p.GetValue(maxRuns) ?? o.Convergence.MaxRuns;
            var perScenario = p.GetValue(schedules) ?? o.Schedules;
            if (n < 1024 || window < 1 || bound < window || perScenario < 1)
            {
                Console.Error.WriteLine("actornuma: bench --pages must be at least 1024, --runs and --schedules at least 1 and --max-runs at least --runs");
                return ExitCodes.BadInput;
            }
            var jsonPath = p.GetValue(json);
            if (jsonPath is not null && !CanWrite(jsonPath, out var why))
            {
                Console.Error.WriteLine($"actornuma: bench --json {jsonPath}: {why}");
                return ExitCodes.BadInput;
            }
            if (MeasureInConfiguredProcess() is { } code)
            {
                return code;
            }

            o = o with
            {
                Pages = n,
                Schedules = perScenario,
                Convergence = o.Convergence with { Window = window, MaxRuns = bound },
                Only = p.GetValue(only) ?? [],
                Modes = (p.GetValue(mode) ?? []).Select(m => Enum.Parse<RunMode>(m, ignoreCase: true)).ToArray(),
                EachRun = p.GetValue(each),
            };
            Console.WriteLine(GcDescription());
            Console.WriteLine("jit: " + Benchmarks.JitDescription());
            var report = Benchmarks.RunAll(o, Console.WriteLine);
            var missed = report.Figures.Count(f => f.Holds == false);
            Console.WriteLine($"{report.Figures.Count} figures in {report.ElapsedSeconds:F0} s; targets: " +
                              $"{report.Figures.Count(f => f.Holds == true)} hold, {missed} missed");
            if (jsonPath is not null)
            {
                File.WriteAllText(jsonPath, report.ToJson());
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static bool CanWrite(string path, out string why)
    {
        try
        {
            using (File.Open(path, FileMode.Append, FileAccess.Write)) { }
            why = "";
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            why = e.Message;
            return false;
        }
    }

    /// <summary>The gen0 budget bench measures with (64 MB). The runtime reads it from the environment only (there is no
    /// runtimeconfig name for it), so the actornuma executable measures in a child process of its own that has it, as
    /// BenchmarkDotNet runs each benchmark in a process it configures. Measured: concurrent migration runs went from
    /// about 55 gen0 collections to 4, and their median from about 480k to 690k pages/s. A budget the user set is kept.</summary>
    public const string Gen0BudgetVariable = "DOTNET_GCgen0size";
    public const string Gen0Budget = "0x4000000";

    /// <summary>The GC the figures were measured under, the bench's first line.</summary>
    public static string GcDescription() => $"gc: {Benchmarks.GcDescription()}; {Environment.ProcessorCount} cpus";

    /// <summary>Runs this same bench command line in a child process with <see cref="Gen0Budget"/> and returns its exit
    /// code; null when this process should measure itself: the budget is set already, or the entry point is not the
    /// actornuma executable (a test host calling <see cref="CliApp.Run"/>).</summary>
    private static int? MeasureInConfiguredProcess()
    {
        if (Environment.GetEnvironmentVariable(Gen0BudgetVariable) is not null
            || Environment.GetEnvironmentVariable("COMPlus_GCgen0size") is not null)
        {
            return null;
        }

        if (System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name != "actornuma")
        {
            return null;
        }

        var host = Environment.ProcessPath;
        var argv = Environment.GetCommandLineArgs();
        if (host is null || argv.Length == 0)
        {
            return null;
        }

        var start = new System.Diagnostics.ProcessStartInfo(host) { UseShellExecute = false };
        // Under the dotnet muxer the first argument is the program's dll; an apphost is the program itself.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(argv[0]);
        }

        foreach (var arg in argv.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[Gen0BudgetVariable] = Gen0Budget;
        using var child = System.Diagnostics.Process.Start(start);
        if (child is null)
        {
            return null;
        }

        child.WaitForExit();
        return child.ExitCode;
    }
}

using System.CommandLine;
using ActorNuma.Simulation.Bench;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Cli;

/// <summary><c>actornuma bench</c>: new-page faults per second (both modes), bytes per emulated page, pages migrated
/// per second through the swap path, and schedules explored per second on the race catalogue.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var pages = new Option<int>("--pages") { Description = "Pages per run (default 262144 = 1 GiB)", DefaultValueFactory = _ => 262_144 };
        var runs = new Option<int>("--runs") { Description = "Measured runs per figure (the median is reported)", DefaultValueFactory = _ => 3 };
        var only = new Option<string[]>("--figure")
        {
            Description = $"Measure only these figures ({string.Join(", ", Benchmarks.FigureNames)}); default all",
            AllowMultipleArgumentsPerToken = true,
        };
        only.AcceptOnlyFromAmong([.. Benchmarks.FigureNames]);
        var mode = new Option<string[]>("--mode")
        {
            Description = "Run modes for the faults and migration figures (concurrent, deterministic); default both",
            AllowMultipleArgumentsPerToken = true,
        };
        mode.AcceptOnlyFromAmong("concurrent", "deterministic");
        var schedules = new Option<int>("--schedules")
        {
            Description = "Schedules per race catalogue scenario for the explore figure (default 10000)", DefaultValueFactory = _ => 10_000,
        };
        var catalogue = new Option<string>("--races")
        {
            Description = $"Directory of the race catalogue the explore figure explores (default {ExploreBenchmark.DefaultCatalogue})",
            DefaultValueFactory = _ => ExploreBenchmark.DefaultCatalogue,
        };
        var each = new Option<bool>("--each") { Description = "Also print every measured run, in the order run (with its allocation and GC pauses)" };
        var command = new Command("bench", "Measure faults/s, bytes per page, migration pages/s and schedules explored/s")
        {
            pages, runs, only, mode, each, schedules, catalogue,
        };
        command.SetAction(p =>
        {
            var n = p.GetValue(pages);
            var r = p.GetValue(runs);
            if (n < 1024 || r < 1 || p.GetValue(schedules) < 1)
            {
                Console.Error.WriteLine("actornuma: bench --pages must be at least 1024, --runs and --schedules at least 1");
                return ExitCodes.BadInput;
            }
            var figures = p.GetValue(only);
            var races = p.GetValue(catalogue)!;
            if ((figures is not { Length: > 0 } || figures.Contains("explore")) && !Directory.Exists(races))
            {
                Console.Error.WriteLine($"actornuma: bench --races {races}: no such directory (run from the repository root or name the catalogue)");
                return ExitCodes.BadInput;
            }
            if (MeasureInConfiguredProcess() is { } code) return code;
            Console.WriteLine(GcDescription());
            var modes = (p.GetValue(mode) ?? []).Select(m => Enum.Parse<RunMode>(m, ignoreCase: true)).ToArray();
            foreach (var line in Benchmarks.RunAll(n, r, Console.WriteLine, figures, modes, p.GetValue(each), p.GetValue(schedules), races))
                Console.WriteLine(line);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The gen0 budget bench measures with (64 MB). The runtime reads it from the environment only (there is no
    /// runtimeconfig name for it), so the actornuma executable measures in a child process of its own that has it, as
    /// BenchmarkDotNet runs each benchmark in a process it configures. Measured: concurrent migration runs went from
    /// about 55 gen0 collections to 4, and their median from about 480k to 690k pages/s. A budget the user set is kept.</summary>
    public const string Gen0BudgetVariable = "DOTNET_GCgen0size";
    public const string Gen0Budget = "0x4000000";

    /// <summary>The GC the figures were measured under, the bench's first line.</summary>
    public static string GcDescription() =>
        $"gc: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, " +
        $"{(System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.Batch ? "non-concurrent" : "concurrent")}, " +
        $"gen0 budget {Environment.GetEnvironmentVariable(Gen0BudgetVariable) ?? Environment.GetEnvironmentVariable("COMPlus_GCgen0size") ?? "runtime default"}; " +
        $"{Environment.ProcessorCount} cpus";

    /// <summary>Runs this same bench command line in a child process with <see cref="Gen0Budget"/> and returns its exit
    /// code; null when this process should measure itself: the budget is set already, or the entry point is not the
    /// actornuma executable (a test host calling <see cref="CliApp.Run"/>).</summary>
    private static int? MeasureInConfiguredProcess()
    {
        if (Environment.GetEnvironmentVariable(Gen0BudgetVariable) is not null
            || Environment.GetEnvironmentVariable("COMPlus_GCgen0size") is not null) return null;
        if (System.Reflection.Assembly.GetEntryAssembly()?.GetName().Name != "actornuma") return null;
        var host = Environment.ProcessPath;
        var argv = Environment.GetCommandLineArgs();
        if (host is null || argv.Length == 0) return null;
        var start = new System.Diagnostics.ProcessStartInfo(host) { UseShellExecute = false };
        // Under the dotnet muxer the first argument is the program's dll; an apphost is the program itself.
        if (Path.GetFileNameWithoutExtension(host) == "dotnet") start.ArgumentList.Add(argv[0]);
        foreach (var arg in argv.Skip(1)) start.ArgumentList.Add(arg);
        start.Environment[Gen0BudgetVariable] = Gen0Budget;
        using var child = System.Diagnostics.Process.Start(start);
        if (child is null) return null;
        child.WaitForExit();
        return child.ExitCode;
    }
}

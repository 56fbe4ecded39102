using System.CommandLine;
using ActorNuma.Simulation.Bench;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Cli;

/// <summary><c>actornuma bench</c>: new-page faults per second (both modes), bytes per emulated page, and pages migrated
/// per second through the swap path.</summary>
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
        var each = new Option<bool>("--each") { Description = "Also print every measured run, in the order run (with its allocation and GC pauses)" };
        var command = new Command("bench", "Measure faults/s, bytes per page and migration pages/s") { pages, runs, only, mode, each };
        command.SetAction(p =>
        {
            var n = p.GetValue(pages);
            var r = p.GetValue(runs);
            if (n < 1024 || r < 1)
            {
                Console.Error.WriteLine("actornuma: bench --pages must be at least 1024 and --runs at least 1");
                return ExitCodes.BadInput;
            }
            var modes = (p.GetValue(mode) ?? []).Select(m => Enum.Parse<RunMode>(m, ignoreCase: true)).ToArray();
            foreach (var line in Benchmarks.RunAll(n, r, Console.WriteLine, p.GetValue(only), modes, p.GetValue(each))) Console.WriteLine(line);
            return ExitCodes.Ok;
        });
        return command;
    }
}

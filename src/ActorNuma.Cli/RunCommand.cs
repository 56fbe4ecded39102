using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Cli;

/// <summary><c>actornuma run [scenario.conf] [--seed N] [--mode deterministic|concurrent] [--report out.json]
/// [--trace out.log] [--max-memory SIZE] [--quiet]</c>.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string?>("scenario")
        {
            Description = "Scenario file (HOCON). Without one, the embedded default scenario runs.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var seed = new Option<int?>("--seed")
        {
            Description = "Seed of the deterministic scheduler (overrides actornuma.run.seed)",
            CustomParser = ParseSeed,
        };
        var mode = new Option<string?>("--mode") { Description = "deterministic or concurrent (overrides actornuma.run.mode)" };
        mode.AcceptOnlyFromAmong("deterministic", "concurrent");
        var report = new Option<string?>("--report") { Description = "Write the JSON report to this file" };
        var trace = new Option<string?>("--trace") { Description = "Write the kernel trace to this file" };
        var maxMemory = new Option<long?>("--max-memory")
        {
            Description = "Refuse a machine estimated to need more than this (bytes, or with k, m, g, t); " +
                          "default half of physical memory",
            CustomParser = ParseMaxMemory,
        };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the summary line and the verdict" };
        var command = new Command("run", "Run a scenario and print the seed, the steps, a verdict, numa_maps and /proc/vmstat")
        {
            scenario, seed, mode, report, trace, maxMemory, quiet,
        };
        command.SetAction(p => Execute(p.GetValue(scenario), p.GetValue(seed), p.GetValue(mode),
            new Outputs(p.GetValue(report), p.GetValue(trace)), p.GetValue(maxMemory), p.GetValue(quiet)));
        return command;
    }

    internal static int? ParseSeed(ArgumentResult r)
    {
        var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
        {
            return n;
        }

        r.AddError($"--seed: expected a whole number from {int.MinValue} to {int.MaxValue}, got \"{text}\"");
        return null;
    }

    internal static long? ParseMaxMemory(ArgumentResult r)
    {
        var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
        if (MemoryEstimate.ParseSize(text) is { } bytes)
        {
            return bytes;
        }

        r.AddError($"--max-memory: expected a size such as 8g, 512m or 1073741824, got \"{text}\"");
        return null;
    }

    private static int Execute(string? file, int? seed, string? mode, Outputs outputs, long? maxMemory, bool quiet)
    {
        LoadedScenario loaded;
        var options = new RunOptions
        {
            Seed = seed,
            Mode = mode is null ? null : mode == "concurrent" ? RunMode.Concurrent : RunMode.Deterministic,
            TraceKeep = outputs.Trace is null ? 0 : int.MaxValue,
            MaxMemory = maxMemory,
        };
        try
        {
            loaded = file is null ? ScenarioLoader.LoadDefault() : ScenarioLoader.LoadFile(file);
            MemoryEstimate.CheckFits(loaded, maxMemory ?? MemoryEstimate.DefaultLimit);
            outputs.CheckWritable();
        }
        catch (ScenarioException e)
        {
            Console.Error.WriteLine($"actornuma: {e.Message}");
            return ExitCodes.BadInput;
        }
        var derived = ScenarioRunner.DerivedParameters(loaded, options);
        Console.WriteLine(derived[0]);
        var r = ScenarioRunner.Run(loaded, options);
        var unwritten = outputs.Write(r);
        RunOutput.Print(r, derived.Skip(1), quiet, unwritten);
        if (unwritten is null)
        {
            return r.ExitCode;
        }

        Console.Error.WriteLine($"actornuma: {unwritten}");
        return RunOutput.ExitCodeWhenUnwritten(r);
    }

    /// <summary>The files a run writes. Their paths are checked before the run (a bad one is bad input found at once);
    /// a write that still fails at the end (a full device) is one line, after the console report.</summary>
    private sealed record Outputs(string? Report, string? Trace)
    {
        public void CheckWritable()
        {
            CheckWritable(Report, "--report");
            CheckWritable(Trace, "--trace");
        }

        /// <summary>Writes the files; the one-line reason of the first that failed, or null.</summary>
        public string? Write(RunReport r) =>
            TryWrite(Report, "--report", path => File.WriteAllText(path, ReportJson.Write(r)))
            ?? TryWrite(Trace, "--trace", path => File.WriteAllLines(path, r.Trace.Select(e => e.ToString())));

        /// <summary>The path names a file this process can create or open for writing. A file the check creates is
        /// removed again; an existing one is opened without truncating it.</summary>
        private static void CheckWritable(string? path, string option)
        {
            if (path is null)
            {
                return;
            }

            if (path.Length == 0)
            {
                throw new ScenarioException($"{option} \"\": expected a file name, got an empty name");
            }

            if (Directory.Exists(path))
            {
                throw new ScenarioException($"{option} {path}: expected a file to write, got a directory");
            }

            try
            {
                var existed = File.Exists(path);
                using (new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write)) { }
                if (!existed)
                {
                    File.Delete(path);
                }
            }
            catch (Exception e) when (FileErrors.IsAboutThePath(e))
            {
                throw new ScenarioException($"{option} {path}: expected a file that can be written, got {FileErrors.Describe(e)}");
            }
        }

        private static string? TryWrite(string? path, string option, Action<string> write)
        {
            if (path is null)
            {
                return null;
            }

            try
            {
                write(path);
                return null;
            }
            catch (Exception e) when (FileErrors.IsAboutThePath(e))
            {
                return $"{option} {path}: the run finished but this file could not be written: {FileErrors.Describe(e)}";
            }
        }
    }
}

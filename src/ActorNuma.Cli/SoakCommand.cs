using System.CommandLine;
using System.CommandLine.Parsing;
using System.Runtime.InteropServices;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Soak;

namespace ActorNuma.Cli;

/// <summary><c>actornuma soak [workload.conf] [--duration 1m | --virtual-duration 10s] [--mode deterministic|concurrent]
/// [--seed N] [--out dir] [--max-memory 2g]</c>: a long mixed workload with the checkers on, metrics streamed to --out,
/// a live panel on a terminal (plain lines otherwise), plots and a report at the end. SIGINT (Ctrl-C) and SIGTERM stop
/// it at the next checkpoint with every output written.</summary>
public static class SoakCommand
{
    private static readonly TimeSpan DefaultDuration = TimeSpan.FromMinutes(1);

    public static Command Create()
    {
        var workload = new Argument<string?>("workload")
        {
            Description = "Soak workload file (HOCON, actornuma.soak over reference.conf). Without one, the embedded default runs.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var duration = new Option<TimeSpan?>("--duration")
        {
            Description = "Stop after this much wall time, such as 10s, 1m or 2h (default 1m)",
            CustomParser = r => ParseDuration(r, "--duration"),
        };
        var virtualDuration = new Option<TimeSpan?>("--virtual-duration")
        {
            Description = "Deterministic mode: stop after this much virtual time (the same seed stops at the same round)",
            CustomParser = r => ParseDuration(r, "--virtual-duration"),
        };
        var mode = new Option<string?>("--mode") { Description = "deterministic or concurrent (overrides actornuma.run.mode)" };
        mode.AcceptOnlyFromAmong("deterministic", "concurrent");
        var play = new Option<string?>("--play")
        {
            Description = "rounds (every task one syscall, then the checkers) or free-running (each task's next syscall as soon as its last " +
                          "is answered; checkers each interval); overrides actornuma.soak.play. Deterministic free-running puts a " +
                          "concurrent soak's interleavings under the seed",
        };
        play.AcceptOnlyFromAmong("rounds", "free-running");
        var seed = new Option<int?>("--seed") { Description = "The seed of every random choice (overrides actornuma.run.seed)", CustomParser = RunCommand.ParseSeed };
        var output = new Option<string>("--out") { Description = "Directory for the metrics, report, plots and index.html", DefaultValueFactory = _ => "soak-out" };
        var maxMemory = new Option<long?>("--max-memory")
        {
            Description = "Stop (writing every output) once the process uses this much memory (bytes, or with k, m, g, t)",
            CustomParser = RunCommand.ParseMaxMemory,
        };
        var command = new Command("soak", "Run a mixed workload for a long time with the checkers on; write metrics and a report")
        {
            workload, duration, virtualDuration, mode, play, seed, output, maxMemory,
        };
        // Reads which options were given, not their values: a value that failed its own parser throws when read.
        command.Validators.Add(r =>
        {
            var virtualGiven = r.GetResult(virtualDuration) is not null;
            if (r.GetResult(duration) is not null && virtualGiven)
            {
                r.AddError("--duration and --virtual-duration: expected one of them, got both");
            }
            else if (virtualGiven && r.GetResult(mode)?.Tokens is [{ Value: "concurrent" }])
            {
                r.AddError("--virtual-duration: expected --mode deterministic (concurrent mode runs on the wall clock), got --mode concurrent");
            }
        });
        command.SetAction(p => Execute(p.GetValue(workload), p.GetValue(duration), p.GetValue(virtualDuration),
            p.GetValue(mode), p.GetValue(play), p.GetValue(seed), p.GetValue(output)!, p.GetValue(maxMemory)));
        return command;
    }

    private static TimeSpan? ParseDuration(ArgumentResult r, string option)
    {
        var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
        if (HoconDuration.Parse(text) is { } d && d > TimeSpan.Zero)
        {
            return d;
        }

        r.AddError($"{option}: expected a duration above 0 such as 10s, 1m or 2h, got \"{text}\"");
        return null;
    }

    private static int Execute(string? file, TimeSpan? duration, TimeSpan? virtualDuration, string? mode, string? play, int? seed,
        string output, long? maxMemory)
    {
        var soakPlay = play is null ? (SoakPlay?)null : play == "rounds" ? SoakPlay.Rounds : SoakPlay.FreeRunning;
        LoadedSoak soak;
        var runMode = mode is null ? (RunMode?)null : mode == "concurrent" ? RunMode.Concurrent : RunMode.Deterministic;
        try
        {
            soak = file is null ? SoakLoader.LoadDefault() : SoakLoader.LoadFile(file);
            if (virtualDuration is not null && (runMode ?? soak.Machine.Run.Mode) == RunMode.Concurrent)
            {
                throw new ScenarioException($"--virtual-duration: expected a deterministic soak, got actornuma.run.mode = concurrent in {soak.Source}");
            }

            SoakRunner.PlayOf(soak, new SoakOptions { OutDir = output, Mode = runMode, Play = soakPlay });
            MemoryEstimate.CheckFits(soak.AsScenario(), MemoryEstimate.DefaultLimit);
            SoakOutputs.Prepare(output);
        }
        catch (ScenarioException e)
        {
            Console.Error.WriteLine($"actornuma: {e.Message}");
            return ExitCodes.BadInput;
        }
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl-C stops at the next checkpoint and still writes every output; a second one kills.
            if (cancel.IsCancellationRequested)
            {
                return;
            }

            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        // SIGTERM (kill, a service manager, a CI timeout) stops the soak as Ctrl-C does, outputs written.
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
        {
            c.Cancel = true;
            cancel.Cancel();
        });
        try
        {
            var options = new SoakOptions
            {
                Seed = seed,
                Mode = runMode,
                Play = soakPlay,
                Duration = virtualDuration is null ? duration ?? DefaultDuration : null,
                VirtualDuration = virtualDuration,
                OutDir = output,
                Cancel = cancel.Token,
                MaxMemoryBytes = maxMemory,
            };
            foreach (var line in SoakRunner.DerivedParameters(soak, options))
            {
                Console.WriteLine(line);
            }

            var result = SoakPanel.Run(soak, options);
            SoakOutputs.Write(output, result);
            SoakPlots.Write(output, ScenarioRunner.Settings(soak.Machine).WatermarksOf(0), virtualTime: result.Mode == "deterministic");
            if (result.StopMessage is not null)
            {
                Console.WriteLine($"actornuma: {result.StopMessage}");
            }

            if (result.ViolationDump is not null)
            {
                Console.Write(result.ViolationDump);
            }

            Console.WriteLine($"soak {result.StopReason}: rounds={result.Rounds} syscalls={result.Syscalls} events={result.Events} " +
                              $"events_per_s={result.EventsPerSecond:0} messages_per_s={result.MessagesPerSecond:0} checks={result.Checks} " +
                              $"wall={result.Wall.TotalSeconds:0.0}s virtual={result.VirtualTime.TotalSeconds:0.###}s out={output}");
            if (result.Violation is null)
            {
                Console.WriteLine("PASS (exit 0)");
                return ExitCodes.Ok;
            }
            Console.WriteLine($"CHECKER: {result.Violation} (exit 3)");
            return ExitCodes.CheckerFired;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}

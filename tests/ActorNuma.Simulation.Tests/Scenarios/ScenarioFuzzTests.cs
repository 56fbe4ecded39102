using System.Text.RegularExpressions;
using ActorNuma.Cli;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Tests.Kernel;
using CsCheck;

namespace ActorNuma.Simulation.Tests.Scenarios;

/// <summary>Random mutations of the shipped scenarios (bytes deleted, tokens inserted, numbers and words swapped for
/// hostile ones, lines repeated) never crash the loader or a run: each is one line of bad input (exit 2) or a run
/// that ends 0, 1 or 3. Every choice comes from one fixed seed, printed with the mutated text on failure.</summary>
[Trait("kind", "unit")]
public sealed partial class ScenarioFuzzTests
{
    private const ulong Seed = 20251205;
    private const int Mutants = 500;
    /// <summary>Mutants that load are run too, up to this many: runs cost tens of milliseconds, loads microseconds.</summary>
    private const int Runs = 40;

    private static readonly string[] Tokens =
    [
        "{", "}", "[", "]", "\"", ",", "=", ":", "\n", "#", "${x}", "${scenario}", "include \"missing.conf\"\n", "null",
        "akka { }\n", "x = ${x}\n", "-1", "0", "1e9", "0x", "\"\"\"", "[[[[", "}}}}", "${actornuma.topology}",
    ];

    private static readonly string[] Numbers =
    [
        "0", "-1", "1", "2", "3", "15", "16", "64", "65", "1000000000", "2147483647", "2147483648", "-2147483648",
        "9223372036854775807", "99999999999999999999", "2251799813685248", "\"0xFFFFFFFFFFFFFFFF\"", "0x7ffffffff000",
        "1.5", "-0", "1e3", "\"\"",
    ];

    private static readonly string[] Words =
    [
        "mmap", "munmap", "touch", "mbind", "set_mempolicy", "get_mempolicy", "swapout", "fork", "exit", "wait", "advance",
        "expect-pages", "expect-vmstat", "migrate_pages", "sched_setaffinity", "pages", "len", "addr", "nodes", "flags",
        "mode", "bind", "interleave", "preferred", "default", "move", "move_all", "strict", "task", "child", "pid",
        "concurrent", "deterministic", "v1", "v2", "2.6.14", "2.6.16", "on", "off", "async", "pswpout", "bogus",
        "slots", "pages-per-node", "cpus-per-node", "nodes", "swap", "topology", "kernel", "scenario", "actornuma",
    ];

    private sealed record Mutation(int Kind, int Where, int What);

    private static readonly Gen<(int File, Mutation[] Mutations)> MutantGen =
        Gen.Select(Gen.Int[0, int.MaxValue],
            Gen.Select(Gen.Int[0, 4], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], (k, w, x) => new Mutation(k, w, x)).Array[1, 4]);

    [Fact(Timeout = 120_000)]
    public async Task Mutated_shipped_scenarios_load_or_fail_on_one_line_and_run_to_exit_0_to_3()
    {
        var files = Directory.GetFiles(Path.Combine(ScenarioRun.RepoRoot, "hocon", "scenarios"), "*.conf").Order(StringComparer.Ordinal).ToArray();
        var texts = files.Select(File.ReadAllText).ToArray();
        var pcg = new PCG(1, Seed);
        var runs = 0;
        var exits = new int[4];
        await Task.Run(() =>
        {
            for (var i = 0; i < Mutants; i++)
            {
                var (file, mutations) = MutantGen.Generate(pcg, null, out _);
                var name = Path.GetFileName(files[file % files.Length]);
                var text = mutations.Aggregate(texts[file % files.Length], Apply);
                var code = Outcome(text, name, i, ref runs);
                if (code is < 0 or > 3)
                {
                    Fail(i, name, text, $"exit {code}");
                }

                exits[code]++;
            }
        });
        // The seed is fixed, so these hold on every run; they show the mutants reach both the loader's refusals and runs.
        Assert.Equal(Runs, runs);
        Assert.True(exits[ExitCodes.BadInput] > 0 && exits[ExitCodes.Ok] > 0, $"exits by code: {string.Join(", ", exits)}");
    }

    /// <summary>The exit code the CLI would give: 2 for bad input (one line naming the file), else the run's.</summary>
    private static int Outcome(string text, string name, int iteration, ref int runs)
    {
        try
        {
            var loaded = ScenarioLoader.Parse(text, name);
            MemoryEstimate.CheckFits(loaded, Limit);
            if (runs >= Runs)
            {
                return ExitCodes.Ok;
            }

            runs++;
            var report = ScenarioRunner.Run(loaded, new RunOptions
            {
                Mode = RunMode.Deterministic, MaxSteps = 200_000, MaxMemory = Limit, TraceKeep = 0,
            });
            var verdict = RunOutput.Verdict(report);
            if (!verdict.EndsWith($"(exit {report.ExitCode})", StringComparison.Ordinal))
            {
                Fail(iteration, name, text, verdict);
            }

            return report.ExitCode;
        }
        catch (ScenarioException e)
        {
            if (e.Message.Contains('\n') || !e.Message.StartsWith(name, StringComparison.Ordinal))
            {
                Fail(iteration, name, text, $"bad-input message not one line naming the file: {e.Message}");
            }

            return ExitCodes.BadInput;
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            Fail(iteration, name, text, e.ToString());
            return -1;
        }
    }

    private const long Limit = 256L << 20;

    private static string Apply(string text, Mutation m)
    {
        switch (m.Kind)
        {
            case 0:
                var at = m.Where % Math.Max(1, text.Length);
                return text.Remove(at, Math.Min(text.Length - at, m.What % 16 + 1));
            case 1:
                return text.Insert(m.Where % (text.Length + 1), Tokens[m.What % Tokens.Length]);
            case 2:
                return ReplaceMatch(text, Number(), m, Numbers);
            case 3:
                var lines = text.Split('\n').ToList();
                var l = m.Where % lines.Count;
                lines.Insert(l, lines[l]);
                return string.Join('\n', lines);
            default:
                return ReplaceMatch(text, Word(), m, Words);
        }
    }

    private static string ReplaceMatch(string text, Regex pattern, Mutation m, string[] choices)
    {
        var matches = pattern.Matches(text);
        if (matches.Count == 0)
        {
            return text;
        }

        var hit = matches[m.Where % matches.Count];
        return string.Concat(text.AsSpan(0, hit.Index), choices[m.What % choices.Length], text.AsSpan(hit.Index + hit.Length));
    }

    private static void Fail(int iteration, string file, string text, string what) =>
        throw new Xunit.Sdk.XunitException(
            $"seed {Seed}, mutant {iteration} of {file}: {what}\n--- mutated text ---\n{text}");

    [GeneratedRegex(@"(?<![\w.])-?\d+(\.\d+)?(?![\w.])")]
    private static partial Regex Number();

    [GeneratedRegex(@"[a-z][a-z0-9_.-]*")]
    private static partial Regex Word();
}

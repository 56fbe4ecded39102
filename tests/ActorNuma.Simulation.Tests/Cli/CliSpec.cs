using System.Text.Json;
using ActorNuma.Cli;

namespace ActorNuma.Simulation.Tests.Cli;

[CollectionDefinition("Console", DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>The actornuma command: exit codes, one-line errors for bad input, the report file.</summary>
[Collection("Console")]
[Trait("kind", "unit")]
public sealed class CliSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actornuma-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static (int Code, string Out, string Err) Run(params string[] args) => CliRunner.Run(args);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private const string Machine = """
        actornuma {
          topology { nodes = 2, cpus-per-node = 1, pages-per-node = 256 }
          swap { slots = 64, write-latency = 10us, read-latency = 10us }
          run { seed = 3 }
        }

        """;

    [Fact(Timeout = 60_000)]
    public async Task The_default_scenario_prints_the_seed_first_and_exits_0()
    {
        var (code, output, _) = await Task.Run(() => Run("run"));
        Assert.Equal(ExitCodes.Ok, code);
        Assert.StartsWith("seed=1 mode=deterministic", output);
        Assert.Contains("/proc/vmstat:", output);
        Assert.Contains("pswpout 64", output);
        Assert.Contains("10000000 bind=1", output);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_missing_scenario_file_is_bad_input_on_one_line()
    {
        var missing = Path.Combine(_dir, "missing.conf");
        var (code, output, error) = await Task.Run(() => Run("run", missing));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains("missing.conf", line);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("run", "--mode", "sometimes")]
    [InlineData("run", "--seed", "abc")]
    [InlineData("run", "--frobnicate", "1")]
    [InlineData("bench", "--figure", "latency")]
    [InlineData("bench", "--mode", "sometimes")]
    [InlineData("bench", "--pages", "12")]
    public async Task A_bad_argument_is_bad_input_on_one_line(string command, string option, string value)
    {
        var (code, output, error) = await Task.Run(() => Run(command, option, value));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("actornuma: ", error);
    }

    [Fact(Timeout = 120_000)]
    public async Task Bench_measures_only_the_figures_and_modes_asked_for()
    {
        var (code, output, _) = await Task.Run(() => Run("bench", "--figure", "migration", "--mode", "deterministic",
            "--pages", "2048", "--runs", "2", "--max-runs", "2", "--each"));
        Assert.Equal(ExitCodes.Ok, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("gc: ", lines[0]);
        Assert.StartsWith("jit: TieredCompilation=", lines[1]);
        Assert.StartsWith("1 figures in ", lines[^1]);
        // The raw one-way Tell rate is measured too (the ratio's denominator) but not reported unless asked for.
        var figure = Assert.Single(lines.Skip(2).SkipLast(1), l => !l.StartsWith(' '));
        Assert.StartsWith("migrated pages/s (deterministic)", figure);
        Assert.Contains("2048 pages evicted and faulted back", figure);
        Assert.Contains("target >= 1,500,000", figure);
        Assert.Contains("x tell", figure);
        Assert.Contains("GC paused", figure);
        Assert.Matches("(converged after 2 runs|did NOT converge in 2 runs)", figure);
        Assert.Equal(2, lines.Count(l => l.StartsWith("    migrated pages/s (deterministic)")));
    }

    [Theory]
    [InlineData("--runs", "0")]
    [InlineData("--max-runs", "1")]
    [InlineData("--schedules", "0")]
    public async Task A_convergence_window_larger_than_its_bound_is_bad_input(string option, string value)
    {
        var (code, output, error) = await Task.Run(() => Run("bench", "--figure", "memory", option, value));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Equal("actornuma: bench --pages must be at least 1024, --runs and --schedules at least 1 and --max-runs at least --runs\n", error);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_unwritable_json_path_is_bad_input_before_anything_is_measured()
    {
        var (code, output, error) = await Task.Run(() => Run("bench", "--quick", "--json", "/proc/actornuma-bench.json"));
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.StartsWith("actornuma: bench --json /proc/actornuma-bench.json: ", error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
    }

    /// <summary>The actornuma executable measures in a child process that has the gen0 budget (the runtime reads it
    /// from the environment only); the child's first line says so.</summary>
    [Fact(Timeout = 120_000)]
    public async Task The_bench_executable_measures_in_a_process_with_the_gen0_budget()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "actornuma.dll");
        Assert.True(File.Exists(dll), dll);
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { dll, "bench", "--quick", "--figure", "memory", "--runs", "1" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment.Remove(BenchCommand.Gen0BudgetVariable);
        using var bench = System.Diagnostics.Process.Start(start)!;
        var output = await bench.StandardOutput.ReadToEndAsync();
        await bench.WaitForExitAsync();

        Assert.Equal(ExitCodes.Ok, bench.ExitCode);
        Assert.StartsWith($"gc: workstation, non-concurrent, gen0 budget {BenchCommand.Gen0Budget}, a full collection before each run;", output);
        Assert.Contains("model bytes per emulated page", output);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_bad_value_in_a_scenario_names_the_file_and_the_key()
    {
        var path = Write("bad.conf", Machine + """
            scenario {
              name = bad
              tasks = [ { name = a, cpu = 0 } ]
              steps = [ { task = a, op = mbind, addr = "0x10000000", pages = 1, mode = bnd, nodes = [1] } ]
            }
            """);
        var (code, _, error) = await Task.Run(() => Run("run", path));
        Assert.Equal(ExitCodes.BadInput, code);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("actornuma: ", line);
        Assert.EndsWith("bad.conf: scenario.steps[0].mode: expected default, preferred, bind, interleave or a number, got \"bnd\"", line);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_expectation_exits_1_and_the_report_says_which()
    {
        var path = Write("expect.conf", Machine + """
            scenario {
              name = expect
              tasks = [ { name = a, cpu = 0 } ]
              steps = [
                { task = a, op = mmap, addr = "0x10000000", pages = 4 }
                { task = a, op = mbind, addr = "0x10000000", pages = 4, mode = -1, expect { ret = 0 } }
              ]
            }
            """);
        var report = Path.Combine(_dir, "r.json");
        var (code, _, _) = await Task.Run(() => Run("run", path, "--report", report, "--quiet"));
        Assert.Equal(ExitCodes.ExpectationFailed, code);
        using var json = JsonDocument.Parse(File.ReadAllText(report));
        var step = json.RootElement.GetProperty("steps")[1];
        Assert.False(step.GetProperty("ok").GetBoolean());
        Assert.Equal("EINVAL", step.GetProperty("errno").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("seed").GetInt32());
        Assert.Equal("v2", json.RootElement.GetProperty("profile").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task A_checker_that_fires_exits_3_and_names_the_seed()
    {
        // V2 keeps the isolation reference of pages put back: with 4 swap slots for 16 pages, 12 come back leaked.
        var path = Write("leak.conf", Machine.Replace("slots = 64", "slots = 4") + """
            scenario {
              name = leak
              tasks = [ { name = a, cpu = 0 } ]
              steps = [
                { task = a, op = mmap, addr = "0x10000000", pages = 16 }
                { task = a, op = touch, addr = "0x10000000", pages = 16, write = on }
                { task = a, op = mbind, addr = "0x10000000", pages = 16, mode = bind, nodes = [1], flags = [move] }
              ]
            }
            """);
        var (code, output, _) = await Task.Run(() => Run("run", path));
        Assert.Equal(ExitCodes.CheckerFired, code);
        Assert.Contains("CHECKER: page-refcount:", output);
        Assert.Contains("leaked reference", output);
        Assert.Contains("seed 3", output);
    }

    [Fact(Timeout = 60_000)]
    public async Task The_same_seed_writes_the_same_report_and_trace()
    {
        var (a, b) = (Path.Combine(_dir, "a.json"), Path.Combine(_dir, "b.json"));
        var (ta, tb) = (Path.Combine(_dir, "a.log"), Path.Combine(_dir, "b.log"));
        await Task.Run(() => Run("run", "--seed", "5", "--report", a, "--trace", ta, "--quiet"));
        await Task.Run(() => Run("run", "--seed", "5", "--report", b, "--trace", tb, "--quiet"));
        Assert.Equal(File.ReadAllText(a), File.ReadAllText(b));
        Assert.Equal(File.ReadAllText(ta), File.ReadAllText(tb));
        Assert.NotEmpty(File.ReadAllLines(ta));
    }
}

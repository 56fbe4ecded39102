using ActorNuma.Cli;

namespace ActorNuma.Simulation.Tests.Cli;

/// <summary>What the run command says to a newcomer and to bad input: a header over the steps, addresses in hex, one
/// verdict line naming the exit code; bad paths, sizes and flags refused before the run on one line.</summary>
[Trait("kind", "unit")]
[Collection("Console")]
public sealed class CliRobustnessSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actornuma-cli-robust").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Scenario(string machine, string steps = "{ task = a, op = mmap, addr = \"0x10000000\", pages = 4 }") => $$"""
        actornuma {
          {{machine}}
          run { seed = 3 }
        }
        scenario {
          name = robust
          tasks = [ { name = a, cpu = 0 } ]
          steps = [ {{steps}} ]
        }
        """;

    private const string Small = "topology { nodes = 2, cpus-per-node = 1, pages-per-node = 256 }\n swap { slots = 64 }";

    private static void AssertOneLineOfBadInput(int code, string output, string error, string expected)
    {
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Equal($"actornuma: {expected}", Assert.Single(error.TrimEnd('\n').Split('\n')));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_run_prints_a_header_hex_addresses_the_parameters_after_the_table_and_a_verdict_last()
    {
        var (code, output, _) = await Task.Run(() => CliRunner.Run("run"));

        Assert.Equal(ExitCodes.Ok, code);
        var lines = output.TrimEnd('\n').Split('\n');
        Assert.StartsWith("seed=1 mode=deterministic", lines[0]);
        Assert.Equal("", lines[1]);
        Assert.Matches(@"^step task\s+op\s+ret errno\s+result note$", lines[2]);
        Assert.Matches(@"^\s+0 app\s+mmap\s+0x10000000\s+ok", lines[3]);
        var profile = Array.FindIndex(lines, l => l.StartsWith("profile=", StringComparison.Ordinal));
        Assert.True(profile > 3, "the derived parameters come after the step table");
        Assert.Contains(" valid_mbind_flags=strict,move ", lines[profile]);
        Assert.Contains(" isolate_drain=remote-and-local ", lines[profile]);
        Assert.Equal("PASS (exit 0)", lines[^1]);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_failed_step_is_named_in_the_verdict_with_exit_1()
    {
        var path = Write("fail.conf", Scenario(Small,
            "{ task = a, op = mmap, addr = \"0x10000000\", pages = 4 }\n{ task = a, op = mbind, addr = \"0x10000000\", pages = 4, mode = -1, expect { ret = 0 } }"));

        var (code, output, _) = await Task.Run(() => CliRunner.Run("run", path, "--quiet"));

        Assert.Equal(ExitCodes.ExpectationFailed, code);
        Assert.Equal("FAILED: step 1 mbind: ret -1, expected 0; errno EINVAL, expected success (exit 1)", output.TrimEnd('\n').Split('\n')[^1]);
    }

    [Theory(Timeout = 60_000)]
    [InlineData("abc", "--seed: expected a whole number from -2147483648 to 2147483647, got \"abc\" (try --help)")]
    [InlineData("99999999999", "--seed: expected a whole number from -2147483648 to 2147483647, got \"99999999999\" (try --help)")]
    public async Task A_seed_that_is_not_a_number_is_named_in_plain_words(string seed, string expected)
    {
        var (code, output, error) = await Task.Run(() => CliRunner.Run("run", "--seed", seed));

        AssertOneLineOfBadInput(code, output, error, expected);
    }

    [Fact(Timeout = 60_000)]
    public async Task An_empty_scenario_name_is_bad_input_in_plain_words()
    {
        var (code, output, error) = await Task.Run(() => CliRunner.Run("run", ""));

        AssertOneLineOfBadInput(code, output, error, "\"\": expected the path of a scenario file, got an empty name");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("--report", "/proc/x.json")]
    [InlineData("--trace", "/proc/x.log")]
    [InlineData("--report", "")]
    [InlineData("--report", "DIR")]
    public async Task An_output_path_that_cannot_be_written_is_refused_before_the_run(string option, string path)
    {
        if (path == "DIR")
        {
            path = _dir;
        }

        var (code, output, error) = await Task.Run(() => CliRunner.Run("run", option, path));

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith($"actornuma: {option} {(path.Length == 0 ? "\"\"" : path)}: expected a file", line);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_report_that_fails_to_write_at_the_end_keeps_the_console_report_and_exits_2()
    {

        var (code, output, error) = await Task.Run(() => CliRunner.Run("run", "--report", "/dev/full"));

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("/proc/vmstat:", output);
        Assert.StartsWith("PASS; NOT WRITTEN: --report /dev/full: the run finished but this file could not be written: ",
            output.TrimEnd('\n').Split('\n')[^1]);
        Assert.EndsWith("(exit 2)", output.TrimEnd('\n'));
        Assert.StartsWith("actornuma: --report /dev/full: the run finished", Assert.Single(error.TrimEnd('\n').Split('\n')));
    }

    [Theory(Timeout = 60_000)]
    [InlineData("topology { pages-per-node = 1000000000 }", "actornuma.topology.pages-per-node = 1000000000", "179 GiB")]
    [InlineData("topology { cpus-per-node = 100000000 }", "actornuma.topology.cpus-per-node = 100000000", "191 GiB")]
    [InlineData("topology { nodes = 64, pages-per-node = 33554431 }", "actornuma.topology.pages-per-node = 33554431", "192 GiB")]
    [InlineData("swap { slots = 1000000000 }", "actornuma.swap.slots = 1000000000", "22 GiB")]
    public async Task A_machine_too_big_for_max_memory_is_refused_naming_the_key_and_the_estimate(
        string machine, string key, string estimate)
    {
        var path = Write("big.conf", Scenario(machine));

        var (code, output, error) = await Task.Run(() => CliRunner.Run("run", path, "--max-memory", "8g"));

        AssertOneLineOfBadInput(code, output, error,
            $"{path}: {key}: expected a machine that fits in --max-memory 8.0 GiB, got one that needs about {estimate}");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("lots")]
    [InlineData("-1g")]
    [InlineData("0")]
    public async Task A_max_memory_that_is_not_a_size_is_bad_input(string size)
    {
        var (code, output, error) = await Task.Run(() => CliRunner.Run("run", "--max-memory", size));

        AssertOneLineOfBadInput(code, output, error,
            $"--max-memory: expected a size such as 8g, 512m or 1073741824, got \"{size}\" (try --help)");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("", "{ op = expect-vmstat, pswpbogus = 3 }", "scenario.steps[0].pswpbogus: expected a /proc/vmstat counter")]
    [InlineData("akka { loglevel = DEBUG }\n", "{ op = wait }", "akka: expected no akka block")]
    public async Task Scenario_mistakes_that_were_found_late_or_never_are_bad_input_at_load(string head, string steps, string expected)
    {
        var path = Write("late.conf", head + Scenario(Small, steps));

        var (code, output, error) = await Task.Run(() => CliRunner.Run("run", path));

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.StartsWith($"actornuma: {path}: {expected}", Assert.Single(error.TrimEnd('\n').Split('\n')));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_include_is_bad_input_naming_the_included_file()
    {
        var path = Write("include.conf", "include \"missing.conf\"\n" + Scenario(Small));

        var (code, output, error) = await Task.Run(() => CliRunner.Run("run", path));

        AssertOneLineOfBadInput(code, output, error,
            $"{path}: include \"missing.conf\": expected a scenario in one file (reference.conf supplies every default), got an include");
    }
}

using System.Text.Json;
using ActorNuma.Simulation.Tests.Explore;
using ActorNuma.Simulation.Tests.Kernel;

namespace ActorNuma.Simulation.Tests.Cli;

/// <summary>actornuma explore and replay: the outcome table, failing seeds with the command that replays each, the
/// JSON for scripts, and a replay that reproduces report and trace byte for byte.</summary>
[Collection("Console")]
[Trait("kind", "race")]
public sealed class ExploreCliSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actornuma-explore").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Scenario => TestRaces.Write(_dir, TestRaces.MoveVsChildWrites);

    [Fact]
    public void Explore_prints_the_outcomes_the_failing_seeds_and_a_replay_command_for_each_and_exits_1()
    {
        var json = Path.Combine(_dir, "explore.json");
        var (code, stdout, _) = CliSpec.Run("explore", Scenario, "--count", "200", "--workers", "2", "--json", json);

        Assert.Equal(1, code);
        Assert.Contains("outcomes (", stdout);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var failing = doc.RootElement.GetProperty("failing").EnumerateArray().ToArray();
        Assert.NotEmpty(failing);
        foreach (var f in failing)
        {
            var replay = f.GetProperty("replay").GetString()!;
            Assert.Equal($"actornuma replay {Scenario} --seed {f.GetProperty("seed").GetInt32()}", replay);
            Assert.Contains(replay, stdout);
        }
        Assert.Equal(200, doc.RootElement.GetProperty("results").GetArrayLength());
        // Everything for scripts: the run's parameters and speed, and each schedule's failures.
        Assert.Equal(2, doc.RootElement.GetProperty("workers").GetInt32());
        Assert.Equal("v2", doc.RootElement.GetProperty("profile").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("seeds").GetProperty("first").GetInt32());
        Assert.Equal(200, doc.RootElement.GetProperty("seeds").GetProperty("last").GetInt32());
        Assert.True(doc.RootElement.GetProperty("failed").GetBoolean());
        Assert.True(doc.RootElement.GetProperty("schedules_per_second").GetDouble() > 0);
        var firstFailing = failing[0].GetProperty("seed").GetInt32();
        var result = doc.RootElement.GetProperty("results").EnumerateArray().First(r => r.GetProperty("seed").GetInt32() == firstFailing);
        Assert.Equal(failing[0].GetProperty("failures").GetArrayLength(), result.GetProperty("failures").GetArrayLength());
        Assert.Equal(200, doc.RootElement.GetProperty("outcomes").EnumerateArray().Sum(o => o.GetProperty("count").GetInt32()));
    }

    [Theory]
    [InlineData("--count", "0")]
    [InlineData("--seeds", "9..3")]
    [InlineData("--seeds", "x..3")]
    [InlineData("--workers", "0")]
    [InlineData("--strategy", "dfs")]
    public void Explore_rejects_a_bad_flag_with_one_line_and_exit_code_2(string flag, string value)
    {
        var (code, _, stderr) = CliSpec.Run("explore", Scenario, flag, value);

        Assert.Equal(2, code);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    /// <remarks>V1's missing local drain at seed 1: the six pages left in CPU 0's pagevec fail isolation, and each
    /// warning is drawn in task a's column.</remarks>
    [Fact]
    public void Replay_with_columns_draws_the_warnings_in_the_column_of_the_task_whose_walk_fired_them()
    {
        var file = Path.Combine(ScenarioRun.RepoRoot, "hocon", "scenarios", "races", "v1-missing-local-drain.conf");
        var (code, stdout, _) = CliSpec.Run("replay", file, "--seed", "1", "--quiet", "--columns");

        Assert.Equal(1, code);
        var lines = stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var header = lines.IndexOf("pages: pfn 15, pfn 16, pfn 17, pfn 18, pfn 19, pfn 20");
        Assert.True(header >= 0, stdout);
        Assert.Equal("task a (CPU 0)", lines[header + 1]);
        Assert.All(lines.Skip(header + 2).Take(6), l => Assert.StartsWith("WARN WARN_ON(rc == 0): isolate_lru_page failed", l, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("random")]
    [InlineData("pct")]
    public void Replay_of_an_explored_seed_has_its_trace_hash_and_twice_gives_the_same_report_and_trace_bytes(string strategy)
    {
        var json = Path.Combine(_dir, "explore.json");
        CliSpec.Run("explore", Scenario, "--seeds", "5..8", "--strategy", strategy, "--json", json);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var explored = doc.RootElement.GetProperty("results").EnumerateArray().First(r => r.GetProperty("seed").GetInt32() == 7);

        string[] Replay(string tag)
        {
            var (report, trace) = (Path.Combine(_dir, $"{tag}.json"), Path.Combine(_dir, $"{tag}.log"));
            CliSpec.Run("replay", Scenario, "--seed", "7", "--strategy", strategy, "--report", report, "--trace", trace, "--quiet");
            return [File.ReadAllText(report), File.ReadAllText(trace)];
        }

        var first = Replay("first");
        var second = Replay("second");

        Assert.Equal(first, second);
        using var report = JsonDocument.Parse(first[0]);
        Assert.Equal(explored.GetProperty("trace_sha256").GetString(), report.RootElement.GetProperty("trace").GetProperty("sha256").GetString());
    }

    [Fact]
    public void Replay_trace_writes_the_ftrace_layout_and_the_message_trace_and_timeline_writes_json_perfetto_reads()
    {
        var (trace, timeline) = (Path.Combine(_dir, "t.log"), Path.Combine(_dir, "t.json"));

        var (code, _, _) = CliSpec.Run("replay", Scenario, "--seed", "7", "--trace", trace, "--timeline", timeline, "--quiet");

        Assert.Equal(0, code);
        var ftrace = File.ReadAllLines(trace);
        Assert.Equal("# tracer: nop", ftrace[0]);
        Assert.Contains(ftrace, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^ +a-1 \[000\] +\d+\.\d{6}: mm_vmscan_lru_isolate: "));
        Assert.Contains(File.ReadAllLines(trace + ".messages"), l => l.Contains("task1 -> node0: NumaNode.AllocPages", StringComparison.Ordinal));
        using var doc = JsonDocument.Parse(File.ReadAllText(timeline));
        Assert.Contains(doc.RootElement.GetProperty("traceEvents").EnumerateArray(), e => e.GetProperty("ph").GetString() == "X");
    }

    /// <remarks>Pins the 60 schedules of the test race within one deviation (see BoundedSearchTests).</remarks>
    [Fact]
    public void Bounded_explore_says_it_was_complete_and_replay_of_a_schedule_number_has_its_trace_hash()
    {
        var json = Path.Combine(_dir, "bounded.json");
        var (code, stdout, _) = CliSpec.Run("explore", Scenario, "--strategy", "bounded", "--depth", "1", "--count", "100", "--json", json);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var explored = doc.RootElement.GetProperty("results")[36];
        var report = Path.Combine(_dir, "bounded-37.json");
        CliSpec.Run("replay", Scenario, "--seed", "37", "--strategy", "bounded", "--depth", "1", "--report", report, "--quiet");
        using var replayed = JsonDocument.Parse(File.ReadAllText(report));

        Assert.Equal(0, code);
        Assert.Contains("bounded: complete: every schedule with at most 1 deviations was run, 60 schedules", stdout);
        Assert.True(doc.RootElement.GetProperty("complete").GetBoolean());
        Assert.Equal(37, explored.GetProperty("seed").GetInt32());
        Assert.Equal(explored.GetProperty("trace_sha256").GetString(), replayed.RootElement.GetProperty("trace").GetProperty("sha256").GetString());
    }

    [Fact]
    public void Shrink_prints_a_failing_schedule_with_the_fewest_deviations_and_its_replay_command()
    {
        var scenario = TestRaces.Write(_dir, TestRaces.TwoMoversNoWarning, "two-movers.conf");

        var (code, stdout, _) = CliSpec.Run("explore", scenario, "--count", "5", "--stop-on-first", "--shrink");

        Assert.Equal(1, code);
        Assert.Contains("-> bounded schedule 1 with 0 deviations (the fewest of any failing schedule): property always \"no-kernel-warning\" does not hold", stdout);
        Assert.Contains($"actornuma replay {scenario} --seed 1 --strategy bounded --depth 0", stdout);
    }
}

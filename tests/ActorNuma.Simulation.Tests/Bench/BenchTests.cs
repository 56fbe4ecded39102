using System.Text.Json;
using ActorNuma.Cli;
using ActorNuma.Simulation.Bench;

namespace ActorNuma.Simulation.Tests.Bench;

[Trait("kind", "unit")]
public sealed class ConvergencePolicyTests
{
    [Fact]
    public void A_figure_is_measured_until_its_last_window_agrees_and_the_window_median_is_reported()
    {
        var values = new Queue<double>([100, 300, 200, 210, 205, 999]);
        var f = new ConvergencePolicy(Window: 3, Tolerance: 0.10, MaxRuns: 25).Measure(() => new Figure("x", values.Dequeue(), "u", ""), null, false);

        Assert.Equal(205, f.Value);
        Assert.True(f.Runs!.Converged);
        Assert.Equal([100, 300, 200, 210, 205], f.Runs.Values);
        Assert.Single(values);
    }

    [Fact]
    public void A_figure_that_never_settles_stops_at_the_bound_and_says_so()
    {
        var next = 1.0;
        var f = new ConvergencePolicy(Window: 3, Tolerance: 0.10, MaxRuns: 6).Measure(() => new Figure("x", next *= 2, "u", ""), null, false);

        Assert.False(f.Runs!.Converged);
        Assert.Equal(6, f.Runs.Values.Count);
        Assert.Equal(32, f.Value); // median of 16, 32, 64
        Assert.StartsWith("did NOT converge in 6 runs", f.Runs.ToString());
        Assert.Null(f.Runs.Alternation);   // doubling is not taking turns
    }

    [Fact]
    public void A_figure_whose_runs_take_turns_between_two_rates_says_which_two()
    {
        var values = new Queue<double>([0.6, 1.0, 2.0, 1.3, 2.1, 1.25, 2.05, 1.3, 1.95, 1.35]);
        var f = new ConvergencePolicy(Window: 3, Tolerance: 0.10, MaxRuns: 10).Measure(() => new Figure("x", values.Dequeue(), "u", ""), null, false);

        Assert.False(f.Runs!.Converged);
        Assert.Equal((1.3, 2.05), f.Runs.Alternation);   // the last run's parity first
        Assert.EndsWith("its runs alternate between 1.30 (the last run's) and 2.05", f.Runs.ToString());
        // Too few runs, or one parity that does not agree within itself: no alternation is claimed.
        Assert.Null((f.Runs with { Values = [2.0, 1.3, 2.1, 1.25, 2.05] }).Alternation);
        Assert.Null((f.Runs with { Values = [2.0, 1.3, 2.1, 1.9, 2.05, 1.3] }).Alternation);
    }

    [Theory]
    [InlineData(true, 10, 10, true)]
    [InlineData(true, 10, 9.9, false)]
    [InlineData(false, 64, 64, true)]
    [InlineData(false, 64, 64.5, false)]
    public void A_target_holds_at_its_bound(bool atLeast, double target, double value, bool holds) =>
        Assert.Equal(holds, new Figure("x", value, "u", "") { Target = new Target(atLeast, target) }.Holds);
}

/// <summary>CI runs <c>actornuma bench --quick</c>: it fails on a crash or a wrong result (a run whose steps fail, a soak
/// that finds a violation), never on a time.</summary>
[Trait("kind", "scenario")]
[Collection("Console")]
public sealed class BenchQuickTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actornuma-bench-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact(Timeout = 600_000)]
    public async Task The_quick_bench_measures_every_figure_and_writes_them_as_json()
    {
        var json = Path.Combine(_dir, "bench.json");
        var (code, output, error) = await Task.Run(() => Cli.CliRunner.Run("bench", "--quick", "--json", json));

        Assert.True(code == ExitCodes.Ok, error);
        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        var root = doc.RootElement;
        Assert.True(root.GetProperty("quick").GetBoolean());
        Assert.StartsWith("TieredCompilation=", root.GetProperty("jit").GetString());
        var figures = root.GetProperty("figures").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!);
        string[] expected =
        [
            "akka one-way tell/s", "akka ping-pong round trips/s",
            "faults/s (concurrent)", "faults/s (deterministic)", "migrated pages/s (concurrent)", "migrated pages/s (deterministic)",
            "bytes allocated per fault (concurrent)", "bytes allocated per migrated page (deterministic)",
            "model bytes per emulated page", "machine bytes per emulated page (64k)", "machine bytes per emulated page (256k)",
            "migration time 16x pages / 1x", "migration time 32 nodes / 2 nodes",
            "soak events/s (concurrent)", "soak events/s (deterministic)",
        ];
        foreach (var name in expected)
        {
            Assert.Contains(name, figures.Keys);
        }

        Assert.Contains(figures.Keys, n => n.StartsWith("schedules/s (", StringComparison.Ordinal));
        foreach (var (name, f) in figures)
        {
            var value = f.GetProperty("value").GetDouble();
            Assert.True(double.IsFinite(value) && value > 0, $"{name}: {value}");
        }
        // Rates of work that crosses actors carry their ratio to the raw Tell rate; every figure with a target says
        // whether it holds.
        Assert.True(figures["migrated pages/s (concurrent)"].GetProperty("tell_ratio").GetDouble() > 0);
        Assert.True(figures["faults/s (deterministic)"].TryGetProperty("holds", out _));
        Assert.Equal(64, figures["bytes allocated per fault (concurrent)"].GetProperty("target").GetProperty("value").GetDouble());
        Assert.InRange(figures["faults/s (concurrent)"].GetProperty("runs").GetProperty("values").GetArrayLength(), 3, 5);
        Assert.Contains($"{figures.Count} figures in ", output);
    }
}

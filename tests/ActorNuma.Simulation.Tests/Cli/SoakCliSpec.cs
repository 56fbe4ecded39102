using ActorNuma.Cli;
using ActorNuma.Simulation.Soak;

namespace ActorNuma.Simulation.Tests.Cli;

/// <summary>The soak command: a short deterministic soak from the command line writes its outputs and passes; bad
/// flags and an unwritable --out are one line and exit 2, before anything runs.</summary>
[Collection("Console")]
[Trait("kind", "soak")]
public sealed class SoakCliSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actornuma-soak-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_short_soak_prints_the_seed_first_writes_its_outputs_and_passes()
    {
        var outDir = Path.Combine(_dir, "out");

        var (code, output, error) = CliRunner.Run("soak", "--virtual-duration", "500ms", "--seed", "3", "--out", outDir);

        Assert.Equal("", error);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.StartsWith("seed=3 mode=deterministic ", output);
        Assert.EndsWith("PASS (exit 0)\n", output);
        Assert.All(new[] { "metrics.csv", "metrics.jsonl", "report.json", "summary.md", "index.html" },
            f => Assert.True(new FileInfo(Path.Combine(outDir, f)).Length > 0, f));
    }

    [Fact]
    public void A_short_soak_draws_its_plots_as_png_images_and_index_html_shows_them()
    {
        var outDir = Path.Combine(_dir, "plots");

        var (code, _, _) = CliRunner.Run("soak", "--virtual-duration", "2s", "--out", outDir);

        Assert.Equal(ExitCodes.Ok, code);
        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        foreach (var image in SoakPlots.Files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
        {
            var bytes = File.ReadAllBytes(Path.Combine(outDir, image));
            Assert.True(bytes.Length > 10_000, $"{image} has {bytes.Length} bytes");
            Assert.Equal(png, bytes[..8]);
            Assert.Contains($"<img src=\"{image}\"", File.ReadAllText(Path.Combine(outDir, "index.html")));
        }
    }

    /// <summary>What CI checks of a soak: a concurrent soak of a few seconds of wall time writes every output, the
    /// plots are PNG images with content, the metrics have their columns, and the checkers ran at rest and stayed clean.</summary>
    [Fact]
    public void A_few_seconds_of_concurrent_soak_write_every_output_with_clean_checkers()
    {
        var outDir = Path.Combine(_dir, "concurrent");

        var (code, output, error) = CliRunner.Run("soak", "--duration", "3s", "--mode", "concurrent", "--seed", "2", "--out", outDir);

        // The kernel's own warnings may reach the log (a concurrent run's timing decides whether the OOM killer fires:
        // "VM: killing process"); nothing else does, no error and no exception.
        Assert.All(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.Matches(@"^\[\d\d:\d\d:\d\d\.\d{3} WRN\] ", line));
        Assert.Equal(ExitCodes.Ok, code);
        Assert.StartsWith("seed=2 mode=concurrent ", output);
        Assert.Contains(" violations=0\n", output);
        Assert.EndsWith("PASS (exit 0)\n", output);
        foreach (var file in SoakOutputs.Files.Concat(SoakPlots.Files))
        {
            Assert.True(new FileInfo(Path.Combine(outDir, file)).Length > 0, file);
        }

        byte[] png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        foreach (var image in SoakPlots.Files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
        {
            Assert.Equal(png, File.ReadAllBytes(Path.Combine(outDir, image))[..8]);
        }

        var metrics = File.ReadAllLines(Path.Combine(outDir, "metrics.csv"));
        Assert.Equal(
            "interval,time_s,rounds,syscalls,messages,pgfault,pgmajfault,pswpin,pswpout,pgscan_kswapd,pgscan_direct,pgsteal," +
            "pageoutrun,allocstall,migrated,oom_kill,free_node0,free_node1,swap_used",
            metrics[0]);
        // How far three seconds of wall time get depends on the machine's load (on a busy 2-core box the first round
        // can take all of it): at least the checkpoint the soak stops at, checked and written.
        Assert.True(metrics.Length >= 2, $"{metrics.Length - 1} metrics rows");
        Assert.Equal(string.Join(",", SoakMetrics.ProcessColumns), File.ReadLines(Path.Combine(outDir, "process.csv")).First());
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var root = report.RootElement;
        Assert.Equal("duration", root.GetProperty("stop_reason").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, root.GetProperty("violation").ValueKind);
        Assert.True(root.GetProperty("checks").GetInt64() >= 1);
        Assert.True(root.GetProperty("rounds").GetInt64() >= 1);
        Assert.Equal("swap_slots=8192 write_latency=10us read_latency=10us queue_depth=32", root.GetProperty("device").GetString());
        Assert.False(File.Exists(Path.Combine(outDir, SoakOutputs.ViolationFile)));
    }

    [Fact]
    public void Max_memory_stops_the_soak_with_a_clear_line_and_still_writes_every_output()
    {
        var outDir = Path.Combine(_dir, "max-memory");

        var (code, output, _) = CliRunner.Run("soak", "--duration", "1m", "--max-memory", "1m", "--out", outDir);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Matches(@"\nactornuma: --max-memory 1 MiB: the process reached \d+ MiB of memory after [0-9.]+ s; stopped with every output written\n", output);
        Assert.Contains("soak max-memory: ", output);
        Assert.All(SoakOutputs.Files.Concat(SoakPlots.Files), f => Assert.True(File.Exists(Path.Combine(outDir, f)), f));
        Assert.Contains("\"stop_reason\": \"max-memory\"", File.ReadAllText(Path.Combine(outDir, "report.json")));
    }

    [Theory]
    [InlineData("--duration 0s", "--duration: expected a duration above 0 such as 10s, 1m or 2h, got \"0s\"")]
    [InlineData("--duration soon", "--duration: expected a duration above 0 such as 10s, 1m or 2h, got \"soon\"")]
    [InlineData("--duration 1s --virtual-duration 1s", "--duration and --virtual-duration: expected one of them, got both")]
    [InlineData("--mode concurrent --virtual-duration 1s",
        "--virtual-duration: expected --mode deterministic (concurrent mode runs on the wall clock), got --mode concurrent")]
    [InlineData("--seed x", "--seed: expected a whole number from -2147483648 to 2147483647, got \"x\"")]
    [InlineData("--max-memory lots", "--max-memory: expected a size such as 8g, 512m or 1073741824, got \"lots\"")]
    public void A_bad_flag_is_one_line_and_exit_2(string flags, string expected)
    {
        var (code, output, error) = CliRunner.Run(["soak", .. flags.Split(' '), "--out", Path.Combine(_dir, "never")]);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Equal($"actornuma: {expected} (try --help)", error.TrimEnd('\n'));
        Assert.False(Directory.Exists(Path.Combine(_dir, "never")));
    }

    [Fact]
    public void An_out_that_is_a_file_is_one_line_and_exit_2_before_the_soak()
    {
        var file = Path.Combine(_dir, "a-file");
        File.WriteAllText(file, "");

        var (code, output, error) = CliRunner.Run("soak", "--duration", "1s", "--out", file);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Equal($"actornuma: --out {file}: expected a directory, got a file", error.TrimEnd('\n'));
    }

    [Fact]
    public void A_workload_file_that_does_not_exist_is_one_line_and_exit_2()
    {
        var missing = Path.Combine(_dir, "missing.conf");

        var (code, _, error) = CliRunner.Run("soak", missing, "--out", Path.Combine(_dir, "o"));

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal($"actornuma: {missing}: expected a readable scenario file, got no such file", error.TrimEnd('\n'));
    }
}

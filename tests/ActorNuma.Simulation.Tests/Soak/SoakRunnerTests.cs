using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Soak;

namespace ActorNuma.Simulation.Tests.Soak;

/// <summary>A soak of about a second of virtual time with the default workload: every output written, the checkers
/// after every round and clean, the kernel's reclaim and migration paths exercised, and the same seed giving the same
/// metrics byte for byte.</summary>
[Trait("kind", "soak")]
public sealed class SoakRunnerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actornuma-soak").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private SoakResult Soak(int seed, string name, string? workload = null, CancellationToken cancel = default)
    {
        var outDir = Path.Combine(_dir, name);
        SoakOutputs.Prepare(outDir);
        var soak = workload is null ? SoakLoader.LoadDefault() : SoakLoader.Parse(workload, "test.conf");
        var result = SoakRunner.Run(soak, new SoakOptions
        {
            Seed = seed,
            Mode = RunMode.Deterministic,
            VirtualDuration = TimeSpan.FromSeconds(1),
            OutDir = outDir,
            Cancel = cancel,
        });
        SoakOutputs.Write(outDir, result);
        return result;
    }

    private string Metrics(string name) => File.ReadAllText(Path.Combine(_dir, name, "metrics.csv"));

    [Fact]
    public void A_deterministic_soak_writes_every_output_and_its_checkers_run_after_every_round_and_stay_clean()
    {
        var r = Soak(seed: 5, "a");

        Assert.Null(r.Violation);
        Assert.Equal("virtual-duration", r.StopReason);
        Assert.Equal(r.Rounds, r.Checks);
        foreach (var file in SoakOutputs.Files)
        {
            Assert.True(new FileInfo(Path.Combine(_dir, "a", file)).Length > 0, file);
        }

        var rows = Metrics("a").TrimEnd('\n').Split('\n');
        Assert.Equal(
            "interval,time_s,rounds,syscalls,messages,pgfault,pgmajfault,pswpin,pswpout,pgscan_kswapd,pgscan_direct,pgsteal," +
            "pageoutrun,allocstall,migrated,oom_kill,free_node0,free_node1,swap_used",
            rows[0]);
        Assert.Equal(r.MetricsRows + 1, rows.Length);
        Assert.Equal(r.MetricsRows, File.ReadAllLines(Path.Combine(_dir, "a", "metrics.jsonl")).Length);
        Assert.Contains("\"stop_reason\": \"virtual-duration\"", File.ReadAllText(Path.Combine(_dir, "a", "report.json")));
    }

    [Fact]
    public void The_default_workload_keeps_kswapd_swap_in_and_migration_busy()
    {
        var r = Soak(seed: 5, "busy");

        Assert.All(["pgfault", "pgmajfault", "pswpin", "pswpout", "pgscan_kswapd", "emu_migrate_evicted"],
            name => Assert.True(r.Vmstat[name] > 0, $"{name} = {r.Vmstat[name]}"));
        Assert.Equal(0, r.Vmstat["emu_oom_kill"]);
    }

    [Fact]
    public void The_same_seed_gives_identical_metrics_and_another_seed_other_metrics()
    {
        Soak(seed: 7, "first");
        Soak(seed: 7, "again");
        Soak(seed: 8, "other");

        Assert.Equal(Metrics("first"), Metrics("again"));
        Assert.NotEqual(Metrics("first"), Metrics("other"));
    }

    [Fact]
    public void Reaped_tasks_are_let_go_and_vmstat_still_counts_what_they_did()
    {
        var r = Soak(seed: 5, "reaped");

        Assert.True(r.TasksForgotten > 0, "no reaped task was let go");
        // Live tasks and zombies only: each boot task and at most one child of it.
        Assert.InRange(r.TaskRecords, 1, 2 * SoakLoader.LoadDefault().Workload.Tasks);
        // Counters are deltas per row: a forgotten task's counts dropped from vmstat would make one negative.
        var rows = Metrics("reaped").TrimEnd('\n').Split('\n');
        var header = rows[0].Split(',');
        foreach (var column in SoakMetrics.Counters.Select(c => c.Column))
        {
            var i = Array.IndexOf(header, column);
            Assert.All(rows.Skip(1), row => Assert.True(long.Parse(row.Split(',')[i]) >= 0, $"{column} in {row}"));
        }
    }

    [Fact]
    public void Every_workload_op_is_played_and_mbind_and_migrate_pages_latencies_are_recorded()
    {
        var r = Soak(seed: 5, "ops");

        Assert.True(r.MbindMove.Count > 0 && r.MigratePages.Count > 0, $"{r.MbindMove.Count} mbind, {r.MigratePages.Count} migrate_pages");
        Assert.True(r.MigratePages.MaxMicros > 0);
        var csv = File.ReadAllText(Path.Combine(_dir, "ops", "latency.csv"));
        Assert.StartsWith("call,bucket_from_us,bucket_to_us,calls\nmbind MOVE,", csv);
        Assert.Contains("\nmigrate_pages,", csv);
        Assert.All(["mmap", "touch", "mbind", "migrate_pages", "set_mempolicy", "fork", "sched_setaffinity", "exit", "waitpid"],
            call => Assert.True(r.Calls.GetValueOrDefault(call) > 0, $"{call}: {string.Join(", ", r.Calls)}"));
        Assert.DoesNotContain(r.Errnos.Keys, k => k.StartsWith("sched_setaffinity", StringComparison.Ordinal));
    }

    /// <summary>What SIGINT and SIGTERM do in the command (they cancel this token): the soak stops at its next
    /// checkpoint, checked and sampled, with its report written.</summary>
    [Fact]
    public void A_cancelled_soak_stops_at_a_checkpoint_as_interrupted_and_still_writes_its_outputs()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        var r = Soak(seed: 5, "cancelled", cancel: cancel.Token);

        Assert.Equal("interrupted", r.StopReason);
        Assert.Null(r.Violation);
        Assert.Equal(1, r.Checks);
        foreach (var file in SoakOutputs.Files)
        {
            Assert.True(File.Exists(Path.Combine(_dir, "cancelled", file)), file);
        }

        Assert.Contains("\"stop_reason\": \"interrupted\"", File.ReadAllText(Path.Combine(_dir, "cancelled", "report.json")));
    }

    [Fact]
    public void Every_workload_file_in_hocon_soak_loads()
    {
        var files = Directory.GetFiles(Path.Combine(Tests.Kernel.ScenarioRun.RepoRoot, "hocon", "soak"), "*.conf");

        Assert.Contains(files, f => Path.GetFileName(f) == "default.conf");
        Assert.All(files, f => Assert.Equal(f, SoakLoader.LoadFile(f).Source));
    }

    // The 2.6.16 profile, as the default workload: the reference profile (V2) leaks a reference at putback, which the
    // page-refcount checker rightly finds once a run gets that far.
    private const string FreeRunning =
        "actornuma { run.step-cost = 2us, kernel.profile = \"2.6.16\", soak { interval = 20ms, play = free-running } }";

    /// <summary>Free-running in deterministic mode: each task issues its next syscall as soon as its last one is
    /// answered (concurrent mode's interleavings), the checkers run at each interval with the machine at rest, and the
    /// seed replays it byte for byte.</summary>
    [Fact]
    public void A_free_running_deterministic_soak_checks_at_every_interval_and_replays_from_its_seed()
    {
        var r = Soak(seed: 9, "free", FreeRunning);
        Soak(seed: 9, "free-again", FreeRunning);

        Assert.Null(r.Violation);
        Assert.Equal("virtual-duration", r.StopReason);
        // Not a check per round: one per interval of virtual time (and once at the start).
        Assert.InRange(r.Checks, 2, r.Rounds - 1);
        Assert.Equal(r.Checks, r.MetricsRows);
        Assert.Contains(r.DerivedParameters, line => line.EndsWith(" play=free-running", StringComparison.Ordinal));
        Assert.All(["pgfault", "pswpin", "pswpout", "emu_migrate_evicted"], name => Assert.True(r.Vmstat[name] > 0, name));
        Assert.Equal(Metrics("free"), Metrics("free-again"));
    }

    /// <summary>A busy machine may need far longer than the run's wall duration to pass one interval of virtual time:
    /// the slice still ends with the duration, at a checkpoint, with every output written (before, a deterministic
    /// free-running soak of 64 tasks ran 850 s of a 30 s duration and ignored SIGTERM until its step budget ran out).</summary>
    [Fact]
    public void A_free_running_deterministic_soak_ends_with_its_wall_duration_inside_a_long_interval()
    {
        var outDir = Path.Combine(_dir, "long-interval");
        SoakOutputs.Prepare(outDir);
        // The default workload's kernel (2.6.16, swap form): how far three seconds get depends on the machine's load, and
        // V2's putback leak (the reference profile) would be found in a longer run.
        var soak = SoakLoader.Parse("""actornuma { kernel { profile = "2.6.16", direct-via-swap-cache = off }, soak { interval = 1h, play = free-running } }""", "test.conf");

        var r = SoakRunner.Run(soak, new SoakOptions { Seed = 3, Mode = RunMode.Deterministic, Duration = TimeSpan.FromSeconds(3), OutDir = outDir });
        SoakOutputs.Write(outDir, r);

        Assert.Equal("duration", r.StopReason);
        Assert.Null(r.Violation);
        Assert.InRange(r.Checks, 1, 2);
        Assert.True(r.VirtualTime < TimeSpan.FromHours(1), r.VirtualTime.ToString());
        Assert.All(SoakOutputs.Files, file => Assert.True(File.Exists(Path.Combine(outDir, file)), file));
    }

    /// <summary>With no step cost, virtual time moves only when nothing is runnable: a task whose syscalls never wait on
    /// a timer (2.6.16's direct migration needs no I/O) runs at one instant until the step budget is spent. The livelock
    /// says so, and names the way out, rather than leave a kernel engineer hunting a kernel loop that is not there.</summary>
    [Fact]
    public void A_step_budget_spent_at_one_instant_says_that_virtual_time_stood_still_and_names_the_step_cost()
    {
        const string workload = """
            actornuma {
              kernel.profile = "2.6.16"
              soak {
                tasks = 1, play = free-running, max-steps-per-round = 1000
                weights { touch = 0, mbind-move = 1, migrate-pages = 0, set-mempolicy = 0, fork = 0, sched-setaffinity = 0 }
              }
            }
            """;

        var r = Soak(seed: 1, "frozen", workload);

        Assert.Equal("stalled", r.StopReason);
        Assert.Contains("RunUntil spent 1000 steps", r.Violation);
        Assert.Contains("virtual time stood still", r.Violation);
        Assert.Contains("actornuma.run.step-cost", r.Violation);
    }

    [Fact]
    public void Rounds_in_concurrent_mode_are_refused_on_one_line()
    {
        var soak = SoakLoader.Parse("actornuma { run.mode = concurrent, soak.play = rounds }", "w.conf");

        var e = Assert.Throws<ScenarioException>(() => SoakRunner.PlayOf(soak, new SoakOptions { OutDir = _dir }));

        Assert.Equal("actornuma.soak.play: expected free-running or auto in concurrent mode (a concurrent soak checks at rest " +
                     "between intervals, not rounds), got rounds in w.conf", e.Message);
        Assert.Equal(SoakPlay.Rounds, SoakRunner.PlayOf(soak, new SoakOptions { OutDir = _dir, Mode = RunMode.Deterministic }));
        Assert.Equal(SoakPlay.FreeRunning, SoakRunner.PlayOf(SoakLoader.LoadDefault(), new SoakOptions { OutDir = _dir, Mode = RunMode.Concurrent }));
    }

    [Fact]
    public void A_workload_with_every_weight_zero_is_refused_naming_the_key()
    {
        var e = Assert.Throws<ScenarioException>(() => SoakLoader.Parse(
            "actornuma.soak.weights { touch = 0, mbind-move = 0, migrate-pages = 0, set-mempolicy = 0, fork = 0, sched-setaffinity = 0 }", "w.conf"));

        Assert.Equal("w.conf: actornuma.soak.weights: expected at least one weight above 0, got all 0", e.Message);
    }

    [Fact]
    public void A_workload_key_the_soak_does_not_know_is_refused_naming_its_path()
    {
        var e = Assert.Throws<ScenarioException>(() => SoakLoader.Parse("actornuma.soak { taks = 3 }", "w.conf"));

        Assert.StartsWith("w.conf: actornuma.soak.taks: expected one of tasks, ", e.Message);
    }
}

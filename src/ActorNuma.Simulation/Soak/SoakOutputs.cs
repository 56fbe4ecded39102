using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Soak;

/// <summary>The files a soak leaves in its <c>--out</c> directory: metrics.csv, metrics.jsonl and process.csv (streamed by
/// <see cref="SoakMetrics"/>), latency.csv, report.json and summary.md (written at the end, interrupted or not), and
/// violation.txt when a checker fired.</summary>
public static class SoakOutputs
{
    public static readonly string[] Files = ["metrics.csv", "metrics.jsonl", "process.csv", "latency.csv", "report.json", "summary.md"];
    public const string ViolationFile = "violation.txt";

    /// <summary>The least free space --out must have at the start: an hour's metrics take a few MB, and a disk that
    /// fills under the soak would cost its outputs.</summary>
    public const long MinFreeBytes = 64L << 20;

    /// <summary>Creates the directory and proves it writable before the soak starts: an unwritable --out is bad input
    /// found at once, not a failure at the end of hours.</summary>
    /// <exception cref="ScenarioException">One line naming the directory and why.</exception>
    public static void Prepare(string directory)
    {
        if (string.IsNullOrWhiteSpace(directory))
        {
            throw new ScenarioException("--out \"\": expected a directory name, got an empty name");
        }

        if (File.Exists(directory))
        {
            throw new ScenarioException($"--out {directory}: expected a directory, got a file");
        }

        try
        {
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".actornuma-write-test-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
        }
        catch (Exception e) when (FileErrors.IsAboutThePath(e))
        {
            throw new ScenarioException($"--out {directory}: expected a writable directory, got {FileErrors.Describe(e)}");
        }
        if (FreeBytes(directory) is { } free && free < MinFreeBytes)
        {
            throw new ScenarioException($"--out {directory}: expected at least {MinFreeBytes >> 20} MiB free on its disk, got {free >> 20} MiB");
        }
    }

    /// <summary>Free bytes for this user on the directory's file system, or null where it cannot be told.</summary>
    internal static long? FreeBytes(string directory)
    {
        try { return new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return null; }
    }

    public static void Write(string directory, SoakResult r)
    {
        File.WriteAllText(Path.Combine(directory, "report.json"), Json(r));
        File.WriteAllText(Path.Combine(directory, "summary.md"), Summary(r));
        File.WriteAllText(Path.Combine(directory, "latency.csv"), LatencyCsv(r));
    }

    /// <summary>The latency distributions: one row per call and non-empty bucket (its lower bound in microseconds).</summary>
    public static string LatencyCsv(SoakResult r)
    {
        var s = new StringBuilder("call,bucket_from_us,bucket_to_us,calls\n");
        foreach (var l in new[] { r.MbindMove, r.MigratePages })
        {
            var counts = l.Counts();
            for (var i = 0; i < counts.Length; i++)
            {
                if (counts[i] > 0)
                {
                    s.Append(CultureInfo.InvariantCulture,
                        $"{l.Call},{SoakLatency.LowerMicros(i):0.###},{SoakLatency.LowerMicros(i + 1):0.###},{counts[i]}\n");
                }
            }
        }
        return s.ToString();
    }

    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Json(SoakResult r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            w.WriteStartObject();
            w.WriteString("source", r.Source);
            w.WriteNumber("seed", r.Seed);
            w.WriteString("mode", r.Mode);
            w.WriteString("profile", r.Profile);
            w.WriteString("stop_reason", r.StopReason);
            w.WriteString("violation", r.Violation); // JSON null when there is none

            w.WriteNumber("rounds", r.Rounds);
            w.WriteNumber("syscalls", r.Syscalls);
            w.WriteNumber("messages", r.Messages);
            w.WriteNumber("checks", r.Checks);
            w.WriteNumber("wall_s", Math.Round(r.Wall.TotalSeconds, 3));
            w.WriteNumber("virtual_s", Math.Round(r.VirtualTime.TotalSeconds, 6));
            w.WriteNumber("events", r.Events);
            w.WriteNumber("events_per_s", Math.Round(r.EventsPerSecond, 1));
            w.WriteNumber("messages_per_s", Math.Round(r.MessagesPerSecond, 1));
            w.WriteNumber("metrics_rows", r.MetricsRows);
            w.WriteNumber("peak_working_set_bytes", r.PeakWorkingSetBytes);
            if (r.WorkingSetAtOneMinuteBytes is { } oneMinute)
            {
                w.WriteNumber("working_set_at_1min_bytes", oneMinute);
            }
            else
            {
                w.WriteNull("working_set_at_1min_bytes");
            }

            w.WriteNumber("working_set_at_end_bytes", r.WorkingSetAtEndBytes);
            w.WriteNumber("gc_pause_ms", Math.Round(r.GcPause.TotalMilliseconds, 3));
            w.WritePropertyName("gc_collections");
            w.WriteStartArray();
            foreach (var c in r.GcCollections)
            {
                w.WriteNumberValue(c);
            }

            w.WriteEndArray();
            w.WriteNumber("task_records_at_end", r.TaskRecords);
            w.WriteNumber("tasks_forgotten", r.TasksForgotten);
            w.WriteString("device", r.Device);
            w.WriteString("stop_message", r.StopMessage); // JSON null when there is none

            w.WritePropertyName("latency_us");
            w.WriteStartObject();
            foreach (var l in new[] { r.MbindMove, r.MigratePages })
            {
                w.WritePropertyName(l.Call);
                w.WriteStartObject();
                w.WriteNumber("calls", l.Count);
                w.WriteNumber("mean", Math.Round(l.MeanMicros, 1));
                w.WriteNumber("p50", Math.Round(l.QuantileMicros(0.5), 1));
                w.WriteNumber("p99", Math.Round(l.QuantileMicros(0.99), 1));
                w.WriteNumber("max", Math.Round(l.MaxMicros, 1));
                w.WriteEndObject();
            }
            w.WriteEndObject();
            Counters(w, "vmstat", r.Vmstat);
            w.WritePropertyName("node_vmstat");
            w.WriteStartObject();
            foreach (var (node, counters) in r.NodeVmstat)
            {
                Counters(w, node, counters);
            }

            w.WriteEndObject();
            Counters(w, "calls", r.Calls);
            Counters(w, "errnos", r.Errnos);
            w.WritePropertyName("derived_parameters");
            w.WriteStartArray();
            foreach (var line in r.DerivedParameters)
            {
                w.WriteStringValue(line);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Counters(Utf8JsonWriter w, string name, IEnumerable<KeyValuePair<string, long>> counters)
    {
        w.WritePropertyName(name);
        w.WriteStartObject();
        foreach (var (k, v) in counters)
        {
            w.WriteNumber(k, v);
        }

        w.WriteEndObject();
    }

    public static string Summary(SoakResult r)
    {
        string N(double x) => x.ToString("#,0.#", CultureInfo.InvariantCulture);
        var s = new StringBuilder();
        s.AppendLine($"# Soak: {(r.Violation is null ? "clean" : "VIOLATION")}").AppendLine();
        s.AppendLine($"`{r.DerivedParameters[0]}`").AppendLine();
        if (r.Violation is not null)
        {
            s.AppendLine($"**First violation:** {r.Violation} (the state of what it names: {ViolationFile})").AppendLine();
        }

        if (r.StopMessage is not null)
        {
            s.AppendLine($"**Stopped early:** {r.StopMessage}").AppendLine();
        }

        s.AppendLine("| what | value |").AppendLine("|---|---|");
        s.AppendLine($"| stopped by | {r.StopReason} |");
        s.AppendLine($"| wall time | {r.Wall.TotalSeconds:0.0} s |");
        s.AppendLine($"| virtual time | {r.VirtualTime.TotalSeconds:0.###} s |");
        s.AppendLine($"| rounds / syscalls | {N(r.Rounds)} / {N(r.Syscalls)} |");
        s.AppendLine($"| checker passes | {N(r.Checks)} |");
        s.AppendLine($"| faults + migrated pages | {N(r.Events)} ({N(r.EventsPerSecond)} /s of wall time) |");
        s.AppendLine($"| kernel messages | {N(r.Messages)} ({N(r.MessagesPerSecond)} /s) |");
        foreach (var name in new[] { "pgfault", "pgmajfault", "pswpin", "pswpout", "pgscan_kswapd", "pgscan_direct", "pgsteal", "emu_migrate_evicted", "emu_oom_kill" })
        {
            s.AppendLine($"| {name} | {N(r.Vmstat.GetValueOrDefault(name))} |");
        }

        s.AppendLine($"| swap device | {r.Device} |");
        s.AppendLine($"| peak working set of the process | {r.PeakWorkingSetBytes / (1 << 20)} MiB |");
        if (r.WorkingSetAtOneMinuteBytes is { } oneMinute)
        {
            s.AppendLine($"| working set at 1 min / at the end | {oneMinute / (1 << 20)} MiB / {r.WorkingSetAtEndBytes / (1 << 20)} MiB |");
        }

        s.AppendLine($"| GC pauses (total) / collections gen0, gen1, gen2 | {r.GcPause.TotalMilliseconds:0} ms / {string.Join(", ", r.GcCollections)} |");
        s.AppendLine($"| task records at the end / reaped tasks let go | {r.TaskRecords} / {N(r.TasksForgotten)} |");
        foreach (var l in new[] { r.MbindMove, r.MigratePages })
        {
            s.AppendLine($"| {l.Call} latency ({(r.Mode == "deterministic" ? "virtual" : "wall")} time) | {N(l.Count)} calls, " +
                         $"mean {N(l.MeanMicros)} µs, p50 {N(l.QuantileMicros(0.5))} µs, p99 {N(l.QuantileMicros(0.99))} µs, max {N(l.MaxMicros)} µs |");
        }

        s.AppendLine().AppendLine("Syscalls: " + string.Join(", ", r.Calls.Select(kv => $"{kv.Key} x{kv.Value}")));
        if (r.Errnos.Count > 0)
        {
            s.AppendLine().AppendLine("Syscalls that failed: " + string.Join(", ", r.Errnos.Select(kv => $"{kv.Key} x{kv.Value}")));
        }

        s.AppendLine().AppendLine("Derived parameters:").AppendLine();
        foreach (var line in r.DerivedParameters.Skip(1))
        {
            s.AppendLine($"    {line}");
        }

        return s.ToString();
    }
}

using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Soak;

/// <summary>The files a soak leaves in its <c>--out</c> directory: metrics.csv and metrics.jsonl (streamed by
/// <see cref="SoakMetrics"/>), report.json and summary.md (written at the end, interrupted or not).</summary>
public static class SoakOutputs
{
    public static readonly string[] Files = ["metrics.csv", "metrics.jsonl", "report.json", "summary.md"];

    /// <summary>Creates the directory and proves it writable before the soak starts: an unwritable --out is bad input
    /// found at once, not a failure at the end of hours.</summary>
    /// <exception cref="ScenarioException">One line naming the directory and why.</exception>
    public static void Prepare(string directory)
    {
        if (string.IsNullOrWhiteSpace(directory)) throw new ScenarioException("--out \"\": expected a directory name, got an empty name");
        if (File.Exists(directory)) throw new ScenarioException($"--out {directory}: expected a directory, got a file");
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
    }

    public static void Write(string directory, SoakResult r)
    {
        File.WriteAllText(Path.Combine(directory, "report.json"), Json(r));
        File.WriteAllText(Path.Combine(directory, "summary.md"), Summary(r));
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
            if (r.Violation is null) w.WriteNull("violation"); else w.WriteString("violation", r.Violation);
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
            Counters(w, "vmstat", r.Vmstat);
            w.WritePropertyName("node_vmstat");
            w.WriteStartObject();
            foreach (var (node, counters) in r.NodeVmstat) Counters(w, node, counters);
            w.WriteEndObject();
            Counters(w, "errnos", r.Errnos);
            w.WritePropertyName("derived_parameters");
            w.WriteStartArray();
            foreach (var line in r.DerivedParameters) w.WriteStringValue(line);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Counters(Utf8JsonWriter w, string name, IEnumerable<KeyValuePair<string, long>> counters)
    {
        w.WritePropertyName(name);
        w.WriteStartObject();
        foreach (var (k, v) in counters) w.WriteNumber(k, v);
        w.WriteEndObject();
    }

    public static string Summary(SoakResult r)
    {
        string N(double x) => x.ToString("#,0.#", CultureInfo.InvariantCulture);
        var s = new StringBuilder();
        s.AppendLine($"# Soak: {(r.Violation is null ? "clean" : "VIOLATION")}").AppendLine();
        s.AppendLine($"`{r.DerivedParameters[0]}`").AppendLine();
        if (r.Violation is not null) s.AppendLine($"**First violation:** {r.Violation}").AppendLine();
        s.AppendLine("| what | value |").AppendLine("|---|---|");
        s.AppendLine($"| stopped by | {r.StopReason} |");
        s.AppendLine($"| wall time | {r.Wall.TotalSeconds:0.0} s |");
        s.AppendLine($"| virtual time | {r.VirtualTime.TotalSeconds:0.###} s |");
        s.AppendLine($"| rounds / syscalls | {N(r.Rounds)} / {N(r.Syscalls)} |");
        s.AppendLine($"| checker passes | {N(r.Checks)} |");
        s.AppendLine($"| faults + migrated pages | {N(r.Events)} ({N(r.EventsPerSecond)} /s of wall time) |");
        s.AppendLine($"| kernel messages | {N(r.Messages)} ({N(r.MessagesPerSecond)} /s) |");
        foreach (var name in new[] { "pgfault", "pgmajfault", "pswpin", "pswpout", "pgscan_kswapd", "pgscan_direct", "pgsteal", "emu_migrate_evicted", "emu_oom_kill" })
            s.AppendLine($"| {name} | {N(r.Vmstat.GetValueOrDefault(name))} |");
        s.AppendLine($"| peak working set of the process | {r.PeakWorkingSetBytes / (1 << 20)} MiB |");
        if (r.Errnos.Count > 0)
            s.AppendLine().AppendLine("Syscalls that failed: " + string.Join(", ", r.Errnos.Select(kv => $"{kv.Key} x{kv.Value}")));
        s.AppendLine().AppendLine("Derived parameters:").AppendLine();
        foreach (var line in r.DerivedParameters.Skip(1)) s.AppendLine($"    {line}");
        return s.ToString();
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Run;

/// <summary>The report file: <c>{ scenario, seed, mode, profile, steps, vmstat, numastat, numa_maps, invariants,
/// trace, warnings }</c>. Tools outside this repository read it, so its shape only grows.</summary>
public static class ReportJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(RunReport r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            w.WriteStartObject();
            w.WriteString("scenario", r.Scenario);
            w.WriteNumber("seed", r.Seed);
            w.WriteString("mode", r.Mode);
            w.WriteString("profile", r.Profile);
            w.WritePropertyName("steps");
            w.WriteStartArray();
            foreach (var s in r.Steps) WriteStep(w, s);
            w.WriteEndArray();
            w.WritePropertyName("vmstat");
            WriteObject(w, r.Vmstat.Select(kv => (kv.Key, (object?)kv.Value)));
            WriteNodeCounters(w, "numastat", r.Numastat);
            WriteNodeCounters(w, "node_vmstat", r.NodeVmstat);
            w.WritePropertyName("numa_maps");
            w.WriteStartObject();
            foreach (var (task, lines) in r.NumaMaps)
            {
                w.WritePropertyName(task);
                WriteValue(w, lines);
            }
            w.WriteEndObject();
            w.WritePropertyName("invariants");
            w.WriteStartObject();
            w.WriteNumber("checks", r.Checks);
            w.WritePropertyName("violations");
            WriteValue(w, r.Violations);
            w.WriteEndObject();
            w.WritePropertyName("trace");
            w.WriteStartObject();
            w.WriteNumber("events", r.TraceEvents);
            w.WriteString("sha256", r.TraceSha256);
            w.WriteEndObject();
            w.WritePropertyName("warnings");
            w.WriteStartArray();
            foreach (var warn in r.Warnings)
            {
                w.WriteStartObject();
                w.WriteString("site", warn.Site);
                w.WriteString("message", warn.Message);
                w.WriteNumber("pfn", warn.Pfn);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("scheduler_steps", r.SchedulerSteps);
            w.WriteNumber("virtual_time_us", (long)r.VirtualTime.TotalMicroseconds);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteNodeCounters(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, SortedDictionary<string, long>> nodes)
    {
        w.WritePropertyName(name);
        w.WriteStartObject();
        foreach (var (node, counters) in nodes)
        {
            w.WritePropertyName(node);
            WriteObject(w, counters.Select(kv => (kv.Key, (object?)kv.Value)));
        }
        w.WriteEndObject();
    }

    private static void WriteStep(Utf8JsonWriter w, StepResult s)
    {
        w.WriteStartObject();
        w.WriteNumber("index", s.Index);
        if (s.Task is null) w.WriteNull("task"); else w.WriteString("task", s.Task);
        w.WriteString("op", s.Op);
        if (s.Ret is { } ret) w.WriteNumber("ret", ret); else w.WriteNull("ret");
        if (s.Errno is { } e && e != Errno.None) w.WriteString("errno", e.ToString()); else w.WriteNull("errno");
        w.WritePropertyName("value");
        WriteValue(w, s.Value);
        w.WritePropertyName("expected");
        WriteValue(w, s.Expected);
        w.WriteBoolean("ok", s.Ok);
        if (s.Message is not null) w.WriteString("message", s.Message);
        w.WriteEndObject();
    }

    private static void WriteObject(Utf8JsonWriter w, IEnumerable<(string Key, object? Value)> items)
    {
        w.WriteStartObject();
        foreach (var (k, v) in items)
        {
            w.WritePropertyName(k);
            WriteValue(w, v);
        }
        w.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter w, object? v)
    {
        switch (v)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case double d: w.WriteNumberValue(d); break;
            case IReadOnlyDictionary<string, object?> d: WriteObject(w, d.Select(kv => (kv.Key, kv.Value))); break;
            case IDictionary<string, object?> d: WriteObject(w, d.Select(kv => (kv.Key, kv.Value))); break;
            case System.Collections.IEnumerable e:
                w.WriteStartArray();
                foreach (var x in e) WriteValue(w, x);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(v.ToString()); break;
        }
    }
}

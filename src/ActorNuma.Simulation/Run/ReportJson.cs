using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Run;

/// <summary>The report file: <c>{ scenario, seed, mode, profile, steps, vmstat, numastat, node_vmstat, numa_maps,
/// invariants, trace, warnings, scheduler_steps, virtual_time_us, retired_frames, offline_nodes }</c> (the last two only
/// when a frame was retired or a node is offline), written by the source-generated
/// <see cref="ReportJsonContext"/>. Tools outside this repository read it, so its shape only grows.</summary>
public static class ReportJson
{
    /// <summary>Indented by two spaces, with only what JSON requires escaped (a scenario's name may hold any text).</summary>
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Write(RunReport r)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            JsonSerializer.Serialize(w, ReportDocument.Of(r), ReportJsonContext.Default.ReportDocument);
        }

        return System.Text.Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }
}

/// <summary>The report's top level, member by member in the order of the file.</summary>
public sealed record ReportDocument(
    string Scenario, int Seed, string Mode, string Profile, IReadOnlyList<StepResult> Steps,
    IReadOnlyDictionary<string, long> Vmstat,
    IReadOnlyDictionary<string, SortedDictionary<string, long>> Numastat,
    IReadOnlyDictionary<string, SortedDictionary<string, long>> NodeVmstat,
    IReadOnlyDictionary<string, IReadOnlyList<string>> NumaMaps,
    ReportInvariants Invariants, ReportTrace Trace, IReadOnlyList<KernelWarning> Warnings,
    long SchedulerSteps, long VirtualTimeUs,
    IReadOnlyList<RetiredFrame>? RetiredFrames = null, IReadOnlyList<int>? OfflineNodes = null)
{
    public static ReportDocument Of(RunReport r) => new(
        r.Scenario, r.Seed, r.Mode, r.Profile, r.Steps, r.Vmstat, r.Numastat, r.NodeVmstat, r.NumaMaps,
        new ReportInvariants(r.Checks, r.Violations), new ReportTrace(r.TraceEvents, r.TraceSha256), r.Warnings,
        r.SchedulerSteps, (long)r.VirtualTime.TotalMicroseconds, r.RetiredFrames, r.OfflineNodes);
}

/// <summary><c>retired_frames</c>: a frame retired after a memory error (PG_hwpoison), by node and machine pfn.</summary>
public sealed record RetiredFrame(int Node, int Pfn);

/// <summary><c>invariants</c>: how many checker passes ran and what they found.</summary>
public sealed record ReportInvariants(long Checks, IReadOnlyList<string> Violations);

/// <summary><c>trace</c>: the number of events and the SHA-256 of the whole trace.</summary>
public sealed record ReportTrace(long Events, string Sha256);

/// <summary>Names in snake_case, dictionary keys as they are; a member that is null is left out (a step's value says
/// only what was measured), except where it says otherwise (a step's task, ret, errno, value and expected).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ReportDocument))]
[JsonSerializable(typeof(StepValue))]
[JsonSerializable(typeof(SyscallValue))]
[JsonSerializable(typeof(SyscallExpectation))]
[JsonSerializable(typeof(PageCounts))]
public sealed partial class ReportJsonContext : JsonSerializerContext;

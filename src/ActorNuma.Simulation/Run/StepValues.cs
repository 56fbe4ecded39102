using System.Text.Json;
using System.Text.Json.Serialization;
using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Run;

/// <summary>What a step reports (<c>value</c>) or expects (<c>expected</c>) in the report's <c>steps</c>: one record per
/// kind of step. A member left null is not written, as it was not measured or not expected. The JSON names are the
/// members' names in snake_case (<see cref="ReportJsonContext"/>).</summary>
[JsonConverter(typeof(StepValueConverter))]
public abstract record StepValue;

/// <summary>What a syscall returned beyond ret and errno: get_mempolicy's outputs, fork's child, waitpid's status
/// (<c>WIFEXITED</c> → exit_status, else the signal), move_pages' per-page statuses, the faults a touch took and what a
/// migration did.</summary>
public sealed record SyscallValue : StepValue
{
    public string? Mode { get; init; }
    public int[]? Nodes { get; init; }
    public int? Node { get; init; }
    public int? ChildPid { get; init; }
    /// <summary>waitpid's wait status, or move_pages' status array: the report's <c>status</c> either way.</summary>
    [JsonConverter(typeof(SyscallStatusConverter))]
    public SyscallStatus? Status { get; init; }
    public int? ExitStatus { get; init; }
    public int? Signal { get; init; }
    public long? Faults { get; init; }
    public long? MajorFaults { get; init; }
    [JsonConverter(typeof(MigrationStatsConverter))]
    public NumaTask.MigrationStats? Migration { get; init; }

    /// <summary>The value of <paramref name="r"/>, null when the call reports nothing beyond ret and errno.</summary>
    public static SyscallValue? Of(NumaTask.SyscallResult r)
    {
        var v = new SyscallValue
        {
            Mode = r.Mode is { } mode ? Mm.MemPolicy.ModeName(mode) : null,
            Nodes = r.Nodes?.Nodes().ToArray(),
            Node = r.Node,
            ChildPid = r.ChildPid,
            Status = r.Status is { } pages ? new SyscallStatus(null, [.. pages]) : r.WaitStatus is { } wait ? new SyscallStatus(wait, null) : null,
            // WIFEXITED / WEXITSTATUS / WTERMSIG of the wait status.
            ExitStatus = r.WaitStatus is { } s && (s & 0x7f) == 0 ? (s >> 8) & 0xff : null,
            Signal = r.WaitStatus is { } t && (t & 0x7f) != 0 ? t & 0x7f : null,
            Faults = r.Faults > 0 ? r.Faults : null,
            MajorFaults = r.MajorFaults > 0 ? r.MajorFaults : null,
            Migration = r.Migration,
        };
        return v == Empty ? null : v;
    }

    /// <summary>No member set (record equality: a set array or migration makes a value differ from it).</summary>
    private static readonly SyscallValue Empty = new();
}

/// <summary>What a syscall step expects: <c>expect { ret, errno, mode, nodes, node, status }</c>; errno by name, "0" for
/// none.</summary>
public sealed record SyscallExpectation : StepValue
{
    public long? Ret { get; init; }
    public string? Errno { get; init; }
    public string? Mode { get; init; }
    public int[]? Nodes { get; init; }
    public int? Node { get; init; }
    /// <summary>move_pages' expected statuses: a node, or minus an errno.</summary>
    [JsonConverter(typeof(PageStatusConverter))]
    public int[]? Status { get; init; }
}

/// <summary>A syscall's <c>status</c>: waitpid's wait status, or move_pages' per-page statuses.</summary>
public sealed record SyscallStatus(int? Wait, int[]? Pages);

/// <summary>Writes a wait status as a number and move_pages' statuses as <see cref="PageStatusConverter"/> does.</summary>
public sealed class SyscallStatusConverter : JsonConverter<SyscallStatus>
{
    public override SyscallStatus Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the report is written, not read");

    public override void Write(Utf8JsonWriter writer, SyscallStatus value, JsonSerializerOptions options)
    {
        if (value.Pages is { } pages)
        {
            PageStatusConverter.WriteStatuses(writer, pages);
        }
        else
        {
            writer.WriteNumberValue(value.Wait ?? 0);
        }
    }
}

/// <summary>Writes move_pages statuses as the scenario states them: a node as its number, an error (minus an errno) by
/// the errno's name.</summary>
public sealed class PageStatusConverter : JsonConverter<int[]>
{
    public override int[] Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the report is written, not read");

    public override void Write(Utf8JsonWriter writer, int[] value, JsonSerializerOptions options) => WriteStatuses(writer, value);

    internal static void WriteStatuses(Utf8JsonWriter writer, int[] statuses)
    {
        writer.WriteStartArray();
        foreach (var s in statuses)
        {
            if (s >= 0)
            {
                writer.WriteNumberValue(s);
            }
            else
            {
                writer.WriteStringValue(((Mm.Errno)(-s)).ToString());
            }
        }

        writer.WriteEndArray();
    }
}

/// <summary>An <c>expect-pages</c> step: present pages per node (by node number), swapped-out pages, pages of the
/// range not present at all, and present pages in the swap cache; as seen, or as expected.</summary>
public sealed record PageCounts : StepValue
{
    public IReadOnlyDictionary<string, long>? Nodes { get; init; }
    public long? Swapped { get; init; }
    public long? NotPresent { get; init; }
    public long? Swapcache { get; init; }

    /// <summary>Per-node counts keyed by the node's number, as the report writes them.</summary>
    public static IReadOnlyDictionary<string, long> ByNode(IEnumerable<KeyValuePair<int, long>> perNode) =>
        perNode.ToDictionary(kv => kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), kv => kv.Value);
}

/// <summary>An <c>expect-vmstat</c> step: the named counters, as seen or as expected, in the order the step names
/// them.</summary>
public sealed record Counters(IReadOnlyList<KeyValuePair<string, long>> Values) : StepValue;

/// <summary>Writes a <see cref="StepValue"/> as its own record's members (the JSON has no type tag: the step's op says
/// what it is); <see cref="Counters"/> as an object of its counters.</summary>
public sealed class StepValueConverter : JsonConverter<StepValue>
{
    public override StepValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the report is written, not read");

    public override void Write(Utf8JsonWriter writer, StepValue value, JsonSerializerOptions options)
    {
        var context = ReportJsonContext.Default;
        switch (value)
        {
            case SyscallValue v: JsonSerializer.Serialize(writer, v, context.SyscallValue); break;
            case SyscallExpectation e: JsonSerializer.Serialize(writer, e, context.SyscallExpectation); break;
            case PageCounts p: JsonSerializer.Serialize(writer, p, context.PageCounts); break;
            case Counters c:
                writer.WriteStartObject();
                foreach (var (name, count) in c.Values)
                {
                    writer.WriteNumber(name, count);
                }

                writer.WriteEndObject();
                break;
            default: throw new NotSupportedException($"no report form for {value.GetType().Name}");
        }
    }
}

/// <summary>Writes <see cref="NumaTask.MigrationStats"/> from its one list of fields,
/// <see cref="NumaTask.MigrationStats.Fields"/>, whose names are the report's.</summary>
public sealed class MigrationStatsConverter : JsonConverter<NumaTask.MigrationStats>
{
    public override NumaTask.MigrationStats Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the report is written, not read");

    public override void Write(Utf8JsonWriter writer, NumaTask.MigrationStats value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (name, count) in value.Fields())
        {
            writer.WriteNumber(name, count);
        }

        writer.WriteEndObject();
    }
}

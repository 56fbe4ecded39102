using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Run;

/// <summary>What one step did and whether its expectation held; a row of the report's <c>steps</c>
/// (<see cref="ReportJsonContext"/> writes it: task, ret, errno, value and expected as null when unset, message only
/// when there is one, errno by name and null for none).</summary>
public sealed record StepResult(
    int Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Task,
    string Op,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] long? Ret,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never), JsonConverter(typeof(ErrnoNameConverter))] Errno? Errno,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] StepValue? Value,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] StepValue? Expected,
    bool Ok,
    string? Message)
{
    /// <summary>Wall-clock time the step took. Not part of the report, which must not depend on the machine's speed.</summary>
    [JsonIgnore]
    public TimeSpan Wall => Stopwatch.GetElapsedTime(Started, Ended);

    /// <summary><see cref="Stopwatch"/> timestamps of the step's start and end.</summary>
    [JsonIgnore]
    public long Started { get; init; }
    [JsonIgnore]
    public long Ended { get; init; }
}

/// <summary>An errno by its name (EINVAL), and no errno as null.</summary>
public sealed class ErrnoNameConverter : JsonConverter<Errno>
{
    public override Errno Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException("the report is written, not read");

    public override void Write(Utf8JsonWriter writer, Errno value, JsonSerializerOptions options)
    {
        if (value == Errno.None)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value.ToString());
        }
    }
}

/// <summary>Shared between the driver actor and the thread that runs the scenario: the driver asks for checkpoints
/// (quiescent points where the checkers run) and says when it is done.</summary>
public sealed class RunProgress
{
    private readonly object _gate = new();
    private readonly List<StepResult> _results = new();
    private readonly ManualResetEventSlim _signal = new(false);

    public bool CheckpointRequested { get; private set; }
    public bool Done { get; private set; }
    public string? Fatal { get; private set; }
    public int CurrentStep { get; internal set; } = -1;

    public IReadOnlyList<StepResult> Results { get { lock (_gate) { return _results.OrderBy(r => r.Index).ToArray(); } } }
    public WaitHandle Signal => _signal.WaitHandle;

    internal void Record(StepResult r) { lock (_gate)
        {
            _results.Add(r);
        }
    }

    internal void RequestCheckpoint() { CheckpointRequested = true; _signal.Set(); }
    internal void CheckpointServed() { CheckpointRequested = false; _signal.Reset(); }
    internal void Finish() { Done = true; _signal.Set(); }
    internal void Fail(string message) { Fatal ??= message; Done = true; _signal.Set(); }
}

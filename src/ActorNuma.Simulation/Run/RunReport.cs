using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Run;

/// <summary>Everything a run tells: its results, the machine's counters and maps, the checkers' verdict, the trace
/// hash. <see cref="ReportJson"/> writes it in the report contract.</summary>
public sealed record RunReport
{
    public required string Scenario { get; init; }
    public required string Source { get; init; }
    public required int Seed { get; init; }
    public required string Mode { get; init; }
    public required string Profile { get; init; }
    public required IReadOnlyList<StepResult> Steps { get; init; }
    public required IReadOnlyDictionary<string, long> Vmstat { get; init; }
    public required IReadOnlyDictionary<string, SortedDictionary<string, long>> Numastat { get; init; }
    public required IReadOnlyDictionary<string, SortedDictionary<string, long>> NodeVmstat { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> NumaMaps { get; init; }
    public required long Checks { get; init; }
    public required IReadOnlyList<string> Violations { get; init; }
    public required IReadOnlyList<KernelWarning> Warnings { get; init; }
    public required long TraceEvents { get; init; }
    public required string TraceSha256 { get; init; }
    public required IReadOnlyList<TraceEvent> Trace { get; init; }
    public required long SchedulerSteps { get; init; }
    public required TimeSpan VirtualTime { get; init; }
    public required IReadOnlyList<string> DerivedParameters { get; init; }
    /// <summary>Frames retired after memory errors (inject-ecc), machine-wide; null when there are none.</summary>
    public IReadOnlyList<RetiredFrame>? RetiredFrames { get; init; }
    /// <summary>Nodes whose memory is offline at the end (offline-node); null when every node is online.</summary>
    public IReadOnlyList<int>? OfflineNodes { get; init; }

    public bool ExpectationsHeld => Steps.All(s => s.Ok);

    /// <summary>0 all held and no checker fired; 1 an expectation failed; 3 a checker fired (it wins over 1).</summary>
    public int ExitCode => Violations.Count > 0 ? 3 : ExpectationsHeld ? 0 : 1;
}

using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Soak;

/// <summary>How long and how to soak, over what the workload file says.</summary>
public sealed record SoakOptions
{
    public int? Seed { get; init; }
    public RunMode? Mode { get; init; }
    /// <summary>Rounds or free-running (overrides the workload's <c>play</c>).</summary>
    public SoakPlay? Play { get; init; }
    /// <summary>Stop after this much wall time (either mode).</summary>
    public TimeSpan? Duration { get; init; }
    /// <summary>Stop after this much virtual time (deterministic mode only): the same seed then stops at the same round.</summary>
    public TimeSpan? VirtualDuration { get; init; }
    /// <summary>The directory the outputs go to; it must exist and be writable (<see cref="SoakOutputs.Prepare"/>).</summary>
    public required string OutDir { get; init; }
    /// <summary>Stops the soak at the next checkpoint (Ctrl-C); the outputs are still written.</summary>
    public CancellationToken Cancel { get; init; }
    /// <summary>What the soak is doing: at every metrics row, and between rows at most about once a second of wall time
    /// (the live panel, or a plain line when not on a terminal).</summary>
    public Action<SoakStatus>? Status { get; init; }
    /// <summary>Deterministic mode: scheduler steps one round may take before it counts as a liveness violation
    /// (default: the workload's max-steps-per-round).</summary>
    public long? MaxStepsPerRound { get; init; }
    /// <summary>Concurrent mode: no kernel message for this long with work pending is a stall (default: the workload's
    /// stall-timeout).</summary>
    public TimeSpan? StallTimeout { get; init; }
    /// <summary>Stop (with every output written) once the process's working set reaches this many bytes.</summary>
    public long? MaxMemoryBytes { get; init; }
    /// <summary>Characters of the trace's most recent events kept for a violation's dump.</summary>
    public int TraceTailChars { get; init; } = 4 << 20;
}

/// <summary>How a soak ended and what it did.</summary>
public sealed record SoakResult
{
    public required int Seed { get; init; }
    public required string Mode { get; init; }
    public required string Profile { get; init; }
    public required string Source { get; init; }
    /// <summary>duration, virtual-duration, interrupted, max-memory, violation, stalled or fatal.</summary>
    public required string StopReason { get; init; }
    /// <summary>The first checker violation, kernel BUG, stall or driver error; null for a clean soak.</summary>
    public string? Violation { get; init; }
    public required long Rounds { get; init; }
    public required long Syscalls { get; init; }
    public required long Messages { get; init; }
    public required long Checks { get; init; }
    public required TimeSpan Wall { get; init; }
    public required TimeSpan VirtualTime { get; init; }
    /// <summary>Page faults plus migrated pages over the soak.</summary>
    public required long Events { get; init; }
    public double EventsPerSecond => Wall.TotalSeconds > 0 ? Events / Wall.TotalSeconds : 0;
    public double MessagesPerSecond => Wall.TotalSeconds > 0 ? Messages / Wall.TotalSeconds : 0;
    public required IReadOnlyDictionary<string, long> Vmstat { get; init; }
    public required IReadOnlyDictionary<string, SortedDictionary<string, long>> NodeVmstat { get; init; }
    public required IReadOnlyDictionary<string, long> Errnos { get; init; }
    /// <summary>Syscalls the driver made, by name.</summary>
    public required IReadOnlyDictionary<string, long> Calls { get; init; }
    public required IReadOnlyList<string> DerivedParameters { get; init; }
    public required int MetricsRows { get; init; }
    public required long PeakWorkingSetBytes { get; init; }
    /// <summary>Why the soak stopped early without a kernel finding (--max-memory): one line for the user.</summary>
    public string? StopMessage { get; init; }
    /// <summary>The violation's dump (frames, PTEs, swap slots, last events), also written to violation.txt.</summary>
    public string? ViolationDump { get; init; }
    public required SoakLatency MbindMove { get; init; }
    public required SoakLatency MigratePages { get; init; }
    /// <summary>The swap device's latencies the soak ran with (device time is real in concurrent mode).</summary>
    public required string Device { get; init; }
    /// <summary>Process memory at the first metrics row at or after one minute, and at the end.</summary>
    public long? WorkingSetAtOneMinuteBytes { get; init; }
    public required long WorkingSetAtEndBytes { get; init; }
    public required TimeSpan GcPause { get; init; }
    public required int[] GcCollections { get; init; }
    /// <summary>Task records the machine holds at the end (reaped tasks are let go at checkpoints).</summary>
    public required int TaskRecords { get; init; }
    public required long TasksForgotten { get; init; }
    public int ExitCode => Violation is null ? 0 : 3;
}

/// <summary>A soak's state for the live panel and the plain progress lines, read at a checkpoint.</summary>
public sealed record SoakStatus
{
    public required string Mode { get; init; }
    public required TimeSpan Elapsed { get; init; }
    /// <summary>Wall time left, or virtual time left with --virtual-duration; null when unbounded.</summary>
    public TimeSpan? Remaining { get; init; }
    public required bool VirtualRemaining { get; init; }
    public required TimeSpan MachineTime { get; init; }
    /// <summary>Faults plus migrated pages per second of wall time since the previous status.</summary>
    public required double EventsPerSecond { get; init; }
    public required long Faults { get; init; }
    public required long Migrated { get; init; }
    public required long SwapIn { get; init; }
    public required long SwapOut { get; init; }
    /// <summary>balance_pgdat() runs (pageoutrun): each is a kswapd woken with work to do.</summary>
    public required long KswapdRuns { get; init; }
    public required IReadOnlyList<int> FreePerNode { get; init; }
    public required Mm.Watermarks Watermarks { get; init; }
    public required long SwapUsed { get; init; }
    public required int Violations { get; init; }
    public required long Rounds { get; init; }
    public required long Checks { get; init; }
    public required long WorkingSetBytes { get; init; }
    public required int Tasks { get; init; }

    /// <summary>The plain line printed when not on a terminal.</summary>
    public string Line() =>
        $"soak elapsed={Elapsed.TotalSeconds:0.#}s remaining={(Remaining is { } r ? $"{Math.Max(0, r.TotalSeconds):0.#}s{(VirtualRemaining ? "(virtual)" : "")}" : "-")} " +
        $"time={MachineTime.TotalSeconds:0.###}s events_per_s={EventsPerSecond:0} faults={Faults} migrated={Migrated} pswpin={SwapIn} " +
        $"pswpout={SwapOut} kswapd_runs={KswapdRuns} free={string.Join(",", FreePerNode)} (min/low/high {Watermarks.PagesMin}/" +
        $"{Watermarks.PagesLow}/{Watermarks.PagesHigh}) swap_used={SwapUsed} rounds={Rounds} checks={Checks} tasks={Tasks} " +
        $"rss={WorkingSetBytes >> 20}MiB violations={Violations}";
}

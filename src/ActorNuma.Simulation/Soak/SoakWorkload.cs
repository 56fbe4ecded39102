using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Soak;

/// <summary>What a task may do in one soak round: the first six by the workload's weights; a parent reaps its exited
/// child with waitpid() and a child exits when its rounds are spent.</summary>
/// <summary>How the soak driver plays its tasks: every live task one syscall per round, or each task its next syscall as
/// soon as its last one is answered.</summary>
public enum SoakPlay { Rounds, FreeRunning }

public enum SoakOp { Touch, MbindMove, MigratePages, SetMempolicy, Fork, SchedSetaffinity, Waitpid, Exit }

/// <summary><c>actornuma.soak</c>: the tasks, their working sets and the mix of what they do (hocon/reference.conf
/// documents each key).</summary>
public sealed record SoakWorkload(
    int Tasks, int WorkingSetPages, int TouchPages, int WritePercent, int HotPercent, int MovePages, int ChildRounds,
    TimeSpan Interval, IReadOnlyList<(SoakOp Op, int Weight)> Weights)
{
    internal static readonly string[] Keys =
    [
        "tasks", "working-set-pages", "touch-pages", "write-percent", "hot-percent", "move-pages", "child-rounds", "interval",
        "weights", "stall-timeout", "max-steps-per-round", "play",
    ];

    /// <summary>How the tasks are played: null (<c>auto</c>) is rounds in deterministic mode and free-running in
    /// concurrent mode; <see cref="SoakPlay.FreeRunning"/> in deterministic mode puts the concurrent mode's interleavings
    /// under the seed.</summary>
    public SoakPlay? Play { get; init; }

    /// <summary>Concurrent mode: no kernel message for this long while work is pending is a liveness violation.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Deterministic mode: scheduler steps one round may take before it counts as a liveness violation.</summary>
    public long MaxStepsPerRound { get; init; } = 50_000_000;

    internal static readonly (string Key, SoakOp Op)[] WeightKeys =
    [
        ("touch", SoakOp.Touch), ("mbind-move", SoakOp.MbindMove), ("migrate-pages", SoakOp.MigratePages),
        ("set-mempolicy", SoakOp.SetMempolicy), ("fork", SoakOp.Fork), ("sched-setaffinity", SoakOp.SchedSetaffinity),
    ];

    internal static SoakWorkload Read(ConfigNode node)
    {
        node.ReadBlock("a block", Keys);
        var workingSet = node["working-set-pages"].ReadInt(1, 1 << 24);
        var interval = node["interval"].ReadDuration();
        if (interval < TimeSpan.FromMilliseconds(1))
        {
            throw node["interval"].Error("a duration of at least 1ms");
        }

        var weights = node["weights"].ReadBlock("a block", WeightKeys.Select(w => w.Key).ToArray());
        var read = WeightKeys.Select(w => (w.Op, weights[w.Key].ReadInt(0, 1_000_000))).ToArray();
        if (read.All(w => w.Item2 == 0))
        {
            throw weights.Error("at least one weight above 0", "all 0");
        }

        var stall = node["stall-timeout"].ReadDuration();
        if (stall < TimeSpan.FromMilliseconds(100))
        {
            throw node["stall-timeout"].Error("a duration of at least 100ms");
        }

        var steps = node["max-steps-per-round"].ReadLong(1_000, long.MaxValue);
        var play = node["play"].ReadChoice<SoakPlay?>([("auto", null), ("rounds", SoakPlay.Rounds), ("free-running", SoakPlay.FreeRunning)]);
        return new SoakWorkload(
            node["tasks"].ReadInt(1, 256),
            workingSet,
            node["touch-pages"].ReadInt(1, workingSet),
            node["write-percent"].ReadInt(0, 100),
            node["hot-percent"].ReadInt(0, 100),
            node["move-pages"].ReadInt(1, workingSet),
            node["child-rounds"].ReadInt(1, 1_000_000),
            interval,
            read) { StallTimeout = stall, MaxStepsPerRound = steps, Play = play };
    }
}

/// <summary>A soak's machine and workload, read from one HOCON document over reference.conf.</summary>
public sealed record LoadedSoak(string Source, MachineConfig Machine, SoakWorkload Workload)
{
    /// <summary>The machine as a scenario without tasks or steps, for what sizes and describes a machine
    /// (<see cref="Run.MemoryEstimate"/>, <see cref="Run.ScenarioRunner.DerivedParameters"/>).</summary>
    public LoadedScenario AsScenario() => new(Source, Machine, new ScenarioSpec("soak", [], []));
}

/// <summary>Reads soak workload files: an <c>actornuma</c> block only (the workload is <c>actornuma.soak</c>); every
/// problem is one <see cref="ScenarioException"/> line naming the file and the key.</summary>
public static class SoakLoader
{
    public const string DefaultResource = "ActorNuma.default-soak.conf";

    public static LoadedSoak LoadFile(string path) => Parse(ScenarioLoader.ReadScenarioFile(path), path);

    public static LoadedSoak Parse(string hocon, string sourceName)
    {
        var root = ConfigNode.Document(HoconDocument.Parse(hocon, sourceName).Root, sourceName);
        root.ReadBlock("a soak workload document", ["actornuma"]);
        var actornuma = root.WithFallback(ScenarioLoader.ReferenceRoot)["actornuma"];
        return new LoadedSoak(sourceName, MachineConfig.Read(actornuma), SoakWorkload.Read(actornuma["soak"]));
    }

    /// <summary>hocon/soak/default.conf, embedded in this assembly.</summary>
    public static LoadedSoak LoadDefault() => Parse(HoconDocument.ReadResource(DefaultResource), "soak/default.conf");
}

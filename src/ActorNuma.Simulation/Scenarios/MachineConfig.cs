using Akka.Configuration;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Scenarios;

public enum RunMode { Deterministic, Concurrent }

/// <summary><c>actornuma.swap</c>: the one swap area, its device (per-page latencies, requests in flight), and
/// <c>page_cluster</c> (null: the kernel's boot-time value for the machine's memory size).
/// <see cref="CopyLatency"/> is the page copy of direct migration, kept here beside the device's costs so that a
/// comparison of migration forms configures them in one place.</summary>
public sealed record SwapConfig(int Slots, TimeSpan WriteLatency, TimeSpan ReadLatency, int? PageCluster = null, int QueueDepth = 1,
    TimeSpan CopyLatency = default)
{
    internal static readonly string[] Keys = ["slots", "write-latency", "read-latency", "queue-depth", "page-cluster", "copy-latency"];

    public static SwapConfig Create(Config config, string source) => Read(MachineConfig.Actornuma(config, source)["swap"]);

    internal static SwapConfig Read(ConfigNode node)
    {
        node.ReadBlock("a block", Keys);
        var cluster = node["page-cluster"];
        return new SwapConfig(
            node["slots"].ReadInt(min: 0),
            node["write-latency"].ReadDuration(),
            node["read-latency"].ReadDuration(),
            cluster.IsSet ? cluster.ReadInt(0, 10) : null,
            node["queue-depth"].ReadInt(1, 65_536),
            node["copy-latency"].IsSet ? node["copy-latency"].ReadDuration() : TimeSpan.Zero);
    }
}

/// <summary><c>actornuma.run</c>: how the actors are scheduled, and the one seed of every random choice.</summary>
public sealed record RunConfig(RunMode Mode, int Seed)
{
    internal static readonly string[] Keys = ["mode", "seed", "step-cost"];

    /// <summary>Deterministic mode: the virtual time each handled message costs. Zero (the default) moves time only
    /// when nothing is runnable, so a timer (a device's I/O completion, a congestion_wait nap) never fires while work
    /// is in progress; above zero, due timers fire between messages, as a concurrent machine's I/O completes while
    /// its CPUs are busy.</summary>
    public TimeSpan StepCost { get; init; }
    private static readonly (string, RunMode)[] Modes = [("deterministic", RunMode.Deterministic), ("concurrent", RunMode.Concurrent)];

    public static RunConfig Create(Config config, string source) => Read(MachineConfig.Actornuma(config, source)["run"]);

    internal static RunConfig Read(ConfigNode node)
    {
        node.ReadBlock("a block", Keys);
        return new RunConfig(node["mode"].ReadChoice(Modes), node["seed"].ReadInt()) { StepCost = node["step-cost"].ReadDuration() };
    }
}

/// <summary><c>actornuma.kswapd</c>: the per-node reclaim daemon. <see cref="MinFreeKbytes"/> null means the kernel's
/// own <c>init_per_zone_pages_min()</c> value.</summary>
public sealed record KswapdConfig(bool Enabled, int Swappiness, int? MinFreeKbytes)
{
    internal static readonly string[] Keys = ["enabled", "swappiness", "min-free-kbytes"];

    public static KswapdConfig Create(Config config, string source) => Read(MachineConfig.Actornuma(config, source)["kswapd"]);

    internal static KswapdConfig Read(ConfigNode node)
    {
        node.ReadBlock("a block", Keys);
        var minFree = node["min-free-kbytes"];
        return new KswapdConfig(
            node["enabled"].ReadBool(),
            node["swappiness"].ReadInt(0, 100),
            minFree.IsSet ? minFree.ReadInt(min: 1) : null);
    }
}

/// <summary>Everything under <c>actornuma</c>: the machine a scenario runs on.</summary>
public sealed record MachineConfig(Topology Topology, SwapConfig Swap, KernelProfile Profile, RunConfig Run, KswapdConfig Kswapd, string LogLevel)
{
    internal static readonly string[] Keys = ["topology", "swap", "kernel", "run", "kswapd", "soak", "log"];
    internal static readonly string[] LogKeys = ["level"];
    private static readonly (string, string)[] LogLevels =
        [("INFO", "INFO"), ("DEBUG", "DEBUG"), ("WARNING", "WARNING"), ("ERROR", "ERROR"), ("OFF", "OFF")];

    /// <summary>Reads <c>actornuma</c> of <paramref name="config"/> over the reference defaults.
    /// <paramref name="source"/> names the file in error messages.</summary>
    public static MachineConfig Create(Config config, string source) => Read(Actornuma(config, source));

    internal static MachineConfig Read(ConfigNode actornuma)
    {
        actornuma.ReadBlock("a block", Keys);
        return new MachineConfig(
            TopologyConfig.Read(actornuma["topology"]),
            SwapConfig.Read(actornuma["swap"]),
            KernelProfileConfig.Read(actornuma["kernel"]),
            RunConfig.Read(actornuma["run"]),
            KswapdConfig.Read(actornuma["kswapd"]),
            ReadLogLevel(actornuma["log"]));
    }

    private static string ReadLogLevel(ConfigNode node) =>
        node.ReadBlock("a block", LogKeys)["level"].ReadChoice(LogLevels);

    /// <summary>The <c>actornuma</c> node of <paramref name="config"/> layered over reference.conf.</summary>
    internal static ConfigNode Actornuma(Config config, string source) =>
        ConfigNode.Document(config.Root, source).WithFallback(ScenarioLoader.ReferenceRoot)["actornuma"];
}

/// <summary>Reads <c>actornuma.topology</c> into the model's <see cref="Topology"/>.</summary>
public static class TopologyConfig
{
    internal static readonly string[] Keys = ["nodes", "cpus-per-node", "pages-per-node", "distances"];

    public static Topology Create(Config config, string source) => Read(MachineConfig.Actornuma(config, source)["topology"]);

    internal static Topology Read(ConfigNode node)
    {
        node.ReadBlock("a block", Keys);
        var nodes = node["nodes"].ReadInt(1, NodeMask.MaxNumNodes);
        // Frames and CPUs are numbered machine-wide in an int, so the per-node counts are bounded by the node count.
        var cpus = node["cpus-per-node"].ReadInt(1, int.MaxValue / nodes);
        var pages = node["pages-per-node"].ReadInt(16, int.MaxValue / nodes);
        var distances = node["distances"];
        return new Topology(nodes, cpus, pages, distances.IsSet ? ReadDistances(distances, nodes) : null);
    }

    /// <summary>The SLIT matrix: one row per node, 10 on the diagonal, 10..255 elsewhere; symmetry is not required.</summary>
    private static int[][] ReadDistances(ConfigNode node, int nodes)
    {
        var rows = node.ReadList($"a list of {nodes} rows of {nodes} distances, such as {Example(nodes)}");
        if (rows.Count != nodes)
        {
            throw node.Error($"{nodes} rows, one per node", $"{rows.Count}");
        }

        return rows.Select((row, i) => ReadRow(row, i, nodes)).ToArray();
    }

    private static int[] ReadRow(ConfigNode row, int from, int nodes)
    {
        var entries = row.ReadList($"a list of {nodes} distances");
        if (entries.Count != nodes)
        {
            throw row.Error($"{nodes} distances, one per node", $"{entries.Count}");
        }

        return entries.Select((e, to) => from == to
                ? e.ReadInt(Topology.LocalDistance, Topology.LocalDistance, "10, a node's distance to itself")
                : e.ReadInt(10, 255))
            .ToArray();
    }

    private static string Example(int nodes) =>
        "[" + string.Join(", ", Topology.DefaultDistances(Math.Min(nodes, 2)).Select(r => "[" + string.Join(", ", r) + "]")) + "]";
}

/// <summary>Reads <c>actornuma.kernel</c>: a named <see cref="KernelProfile"/>, then each switch the file sets,
/// applied on top with <c>with</c>. The profile keeps its name.</summary>
public static class KernelProfileConfig
{
    private static readonly (string Key, Func<KernelProfile, bool, KernelProfile> Apply)[] Switches =
    [
        ("drain-all-before-walk", (p, v) => p with { DrainAllBeforeWalk = v }),
        ("putback-drops-reference", (p, v) => p with { PutbackDropsReference = v }),
        ("putback-through-pagevec", (p, v) => p with { PutbackThroughPagevec = v }),
        ("move-shared-pages", (p, v) => p with { MoveSharedPages = v }),
        ("enodev-without-swap", (p, v) => p with { EnodevWithoutSwap = v }),
        ("warn-on-isolate-failure", (p, v) => p with { WarnOnIsolateFailure = v }),
        ("migration-unmap-ignores-young", (p, v) => p with { MigrationUnmapIgnoresYoung = v }),
        ("migrate-pages-syscall", (p, v) => p with { MigratePagesSyscall = v }),
        ("direct-migration", (p, v) => p with { DirectMigration = v }),
        ("direct-via-swap-cache", (p, v) => p with { DirectViaSwapCache = v }),
        ("move-pages-syscall", (p, v) => p with { MovePagesSyscall = v }),
    ];

    private static readonly (string, IsolateListOrder)[] ListOrders = [("head", IsolateListOrder.Head), ("tail", IsolateListOrder.Tail)];

    private static readonly (string, IsolateDrain)[] Drains =
        [("none", IsolateDrain.None), ("remote", IsolateDrain.Remote), ("remote-and-local", IsolateDrain.RemoteAndLocal)];

    internal static readonly string[] Keys =
        ["profile", "isolate-drain", "isolate-list-order", .. Switches.Select(s => s.Key), "valid-mbind-flags"];

    public static KernelProfile Create(Config config, string source) => Read(MachineConfig.Actornuma(config, source)["kernel"]);

    internal static KernelProfile Read(ConfigNode node)
    {
        node.ReadBlock("a block", Keys);
        var profile = node["profile"].ReadChoice(KernelProfile.All.Select(p => (p.Name, p)).ToList());
        var drain = node["isolate-drain"];
        if (drain.IsSet)
        {
            profile = profile with { IsolateDrain = drain.ReadChoice(Drains) };
        }

        var order = node["isolate-list-order"];
        if (order.IsSet)
        {
            profile = profile with { IsolateListOrder = order.ReadChoice(ListOrders) };
        }

        foreach (var (key, apply) in Switches)
        {
            if (node[key].IsSet)
            {
                profile = apply(profile, node[key].ReadBool());
            }
        }

        var flags = node["valid-mbind-flags"];
        if (flags.IsSet)
        {
            profile = profile with { ValidMbindFlags = ReadMbindFlagNames(flags) };
        }

        return profile;
    }

    /// <summary>The name a scenario writes for <paramref name="drain"/>: none, remote or remote-and-local.</summary>
    public static string DrainName(IsolateDrain drain) => Drains.First(d => d.Item2 == drain).Item1;

    /// <summary>Flags as a scenario writes them, comma-separated without spaces (strict,move), so a key=value line
    /// stays one token; "none" for no flag.</summary>
    public static string MbindFlagNames(MpolFlags flags)
    {
        var names = SyscallNames.MbindFlags.Where(f => ((int)flags & f.Value) != 0).Select(f => f.Name).ToList();
        return names.Count == 0 ? "none" : string.Join(",", names);
    }

    private static MpolFlags ReadMbindFlagNames(ConfigNode node) =>
        node.ReadList("a list of strict, move and move_all, such as [strict, move]")
            .Aggregate(MpolFlags.None, (all, item) => all | (MpolFlags)item.ReadChoice(SyscallNames.MbindFlags));
}

using ActorNuma.Mm;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>A task of <c>scenario.tasks</c>: its name, the CPU it starts on, whether it holds CAP_SYS_NICE, and its real
/// and effective uid.</summary>
public sealed record TaskSpec(string Name, int Cpu, bool SysNice, int Uid = 0, int Euid = 0);

public enum StepOp { Mmap, Munmap, Touch, Mbind, SetMempolicy, GetMempolicy, SchedSetaffinity, Swapout, Exit, Waitpid, Wait, Advance, ExpectPages, ExpectVmstat, Fork, MigratePages, MovePages, Suspend, Resume, OfflineNode, OnlineNode, InjectEcc }

/// <summary>What a syscall step expects back; null members are not checked. <see cref="Mode"/>, <see cref="Nodes"/>
/// and <see cref="Node"/> are get_mempolicy's outputs.</summary>
public sealed record ExpectSpec(long? Ret, Errno? Errno, int? Mode, NodeMask? Nodes, int? Node)
{
    /// <summary>move_pages' status array: a node number per page, or a negative errno.</summary>
    public IReadOnlyList<int>? Status { get; init; }
}

/// <summary>One entry of <c>scenario.steps</c>. Syscall arguments are kept raw, invalid ones included, because
/// the scenarios test the kernel's answer to them.</summary>
public sealed record StepSpec
{
    /// <summary>0-based position in steps.</summary>
    public required int Index { get; init; }
    public required StepOp Op { get; init; }
    /// <summary>As written: "get_mempolicy", "expect-pages".</summary>
    public required string OpName { get; init; }
    public string? Task { get; init; }
    public ulong? Addr { get; init; }
    /// <summary>From pages, or len rounded up to whole 4 KiB pages.</summary>
    public long? Pages { get; init; }
    /// <summary>The raw len in bytes when given (mbind passes it raw to the kernel).</summary>
    public ulong? Len { get; init; }
    public bool Write { get; init; }
    /// <summary>Raw mode: an MpolMode value or any number.</summary>
    public int? Mode { get; init; }
    /// <summary>Null is a NULL nodemask pointer; an empty mask is a pointer to no nodes.</summary>
    public NodeMask? Nodes { get; init; }
    public int? MaxNode { get; init; }
    public bool NodemaskFault { get; init; }
    /// <summary>Raw bits: names mapped to MpolFlags (mbind) or MpolGetFlags (get_mempolicy).</summary>
    public int Flags { get; init; }
    public int? Cpu { get; init; }
    public TimeSpan? Time { get; init; }
    public bool Async { get; init; }
    public ExpectSpec? Expect { get; init; }
    public IReadOnlyDictionary<int, long>? ExpectNodes { get; init; }
    public long? ExpectSwapped { get; init; }
    /// <summary>expect-pages: present pages of the range that are in the swap cache (numa_maps' swapcache=).</summary>
    public long? ExpectSwapCache { get; init; }
    /// <summary>exit's status; waitpid's WNOHANG.</summary>
    public int? ExitStatus { get; init; }
    public bool NoHang { get; init; }
    public IReadOnlyDictionary<string, long>? ExpectVmstat { get; init; }
    public string? Child { get; init; }
    /// <summary>migrate_pages' or waitpid's pid given by name.</summary>
    public string? TargetTask { get; init; }
    /// <summary>migrate_pages' pid given by number (0 is the caller), or waitpid's (-1: any child).</summary>
    public int? TargetPid { get; init; }
    public NodeMask? OldNodes { get; init; }
    /// <summary>move_pages' pages array (addrs), nodes array (to; null = NULL), raw nr_pages (count; default the
    /// length of addrs) and the array that faults.</summary>
    public IReadOnlyList<ulong>? MoveAddrs { get; init; }
    public IReadOnlyList<int>? MoveTo { get; init; }
    public ulong? MoveCount { get; init; }
    public MovePagesFault MoveFault { get; init; }
    public NodeMask? NewNodes { get; init; }
    /// <summary>offline-node, online-node, inject-ecc: the node (raw: one that does not exist is the kernel's ENOENT or
    /// ENXIO, not the loader's).</summary>
    public int? Node { get; init; }
    /// <summary>inject-ecc: the machine frame number, as traces show it (raw: out of the node's range is ENXIO).</summary>
    public long? Pfn { get; init; }
    /// <summary>"file: scenario.steps[3]", for messages.</summary>
    public string Location { get; init; } = "";
}

public sealed record ScenarioSpec(string Name, IReadOnlyList<TaskSpec> Tasks, IReadOnlyList<StepSpec> Steps)
{
    /// <summary><c>shows-bug</c>: the checkers this scenario makes fire on purpose, because it demonstrates a kernel bug
    /// (V2's putback reference leak: page-refcount). Empty for a scenario that must run clean.</summary>
    public IReadOnlyList<string> ShowsBug { get; init; } = [];

    /// <summary><c>schedule-dependent</c>: why some of this scenario's expectations hold only in some schedules (a race
    /// file whose last step states what the race breaks). Null for a scenario whose expectations hold in every schedule,
    /// which the tests check at many seeds and in concurrent mode; for this one they check only that no checker fires,
    /// and the steps are explore's to judge.</summary>
    public string? ScheduleDependent { get; init; }

    /// <summary>What explore checks beyond the steps' expectations (<c>properties</c>, <c>outcomes</c>).</summary>
    public ScenarioProperties Properties { get; init; } = ScenarioProperties.None;
}

public sealed record LoadedScenario(string Source, MachineConfig Machine, ScenarioSpec Scenario);

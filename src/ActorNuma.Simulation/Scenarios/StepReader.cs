using ActorNuma.Mm;
using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>Reads one entry of <c>scenario.steps</c>. Keys are checked against the op's own list, then read in the
/// order the file gives them, then the op's required keys that were not given are reported.</summary>
internal sealed class StepReader(Topology topology, TaskRegistry tasks)
{
    /// <summary>PAGE_SIZE: a <c>len</c> is rounded up to whole pages of this size.</summary>
    private const int PageSize = 1 << MmConstants.PageShift;

    /// <summary>The most pages a 64-bit length covers, so that <c>pages</c> reaches every length <c>len</c> can give and
    /// the kernel, not the loader, refuses what the address space cannot hold (mmap: ENOMEM above TASK_SIZE).</summary>
    private const long MaxPages = (long)(ulong.MaxValue >> MmConstants.PageShift);

    private const string AddrExpected = "an address such as \"0x10000000\"";
    private static readonly string OpExpected = ConfigNode.Alternatives(StepOps.All.Select(o => o.Name).ToList());

    public StepSpec Read(ConfigNode node, int index)
    {
        node.ReadBlock("a step block such as { task = a, op = mmap, addr = \"0x10000000\", pages = 16 }");
        var opNode = node["op"];
        var info = opNode.ReadChoice(StepOps.Choices, OpExpected);
        var step = new StepSpec { Index = index, Op = info.Op, OpName = opNode.Text.Trim(), Location = $"{node.Source}: {node.Path}" };
        if (info.Op == StepOp.ExpectVmstat)
        {
            // The driver reads /proc/vmstat when the step comes: with an async step still running, concurrent mode would
            // read counters other actors are updating. A scenario reads them at a checkpoint, after a wait.
            if (_asyncInFlight is { } running)
            {
                throw opNode.Error($"a {{ op = wait }} before expect-vmstat (step {running} is async and may still be running; the counters are read with the machine at rest)",
                    "expect-vmstat");
            }

            return step with { ExpectVmstat = ReadVmstat(node) };
        }

        node.ReadBlock("a step block", info.Keys, keysOf: info.Name);
        foreach (var (key, value) in node.Fields)
        {
            if (key != "op" && value.IsSet)
            {
                step = ReadKey(step, key, value);
            }
        }

        foreach (var key in info.Required)
        {
            if (!node[key].IsSet)
            {
                step = ReadKey(step, key, node[key]);
            }
        }

        if (info.NeedsRange)
        {
            CheckRange(node, info);
        }

        if (step.Op == StepOp.ExpectPages)
        {
            CheckInUserSpace(node, step);
        }

        if (step.Op == StepOp.Wait)
        {
            _asyncInFlight = null;
        }
        else if (step.Async)
        {
            _asyncInFlight ??= index;
        }

        return step;
    }

    /// <summary>The first async step since the last wait, whose work may still be in flight.</summary>
    private int? _asyncInFlight;

    /// <summary>expect-pages looks at a range of the task's page table, which a syscall cannot have filled beyond
    /// TASK_SIZE (mmap refuses it): a range past it is a mistake in the scenario, refused before the run walks it.</summary>
    private static void CheckInUserSpace(ConfigNode node, StepSpec step)
    {
        var (addr, pages) = (step.Addr ?? 0, (ulong)(step.Pages ?? 0));
        if (addr <= MmConstants.TaskSize && pages <= (MmConstants.TaskSize - addr) >> MmConstants.PageShift)
        {
            return;
        }

        throw node.Error($"a range inside the user address space, which ends at TASK_SIZE 0x{MmConstants.TaskSize:x}",
            $"addr = 0x{addr:x} and {pages} pages");
    }

    private StepSpec ReadKey(StepSpec step, string key, ConfigNode value) => key switch
    {
        "task" => step with { Task = tasks.ReadKnownName(value) },
        "addr" => step with { Addr = value.ReadULong(AddrExpected) },
        "pages" => step with { Pages = value.ReadLong(0, MaxPages, $"a page count from 0 to {MaxPages}") },
        "len" => ReadLen(step, value),
        "write" => step with { Write = value.ReadBool() },
        "mode" => step with { Mode = ReadMode(value) },
        "nodes" when step.Op == StepOp.ExpectPages => step with { ExpectNodes = ReadNodeCounts(value) },
        "nodes" => step with { Nodes = ReadNodeMask(value) },
        "flags" => step with { Flags = ReadFlags(value, step.Op is StepOp.Mbind or StepOp.MovePages ? SyscallNames.MbindFlags : SyscallNames.GetMempolicyFlags) },
        "maxnode" => step with { MaxNode = value.ReadInt() },
        "nodemask" => step with { NodemaskFault = value.ReadChoice([("fault", true)], "fault (an unreadable nodemask pointer)") },
        "cpu" => step with { Cpu = value.ReadInt(min: 0) },
        "time" => step with { Time = value.ReadDuration() },
        // The child exists from this step on, whether or not the fork is async.
        "child" => step with { Child = tasks.ReadNewName(value) },
        "pid" => ReadPid(step, value),
        "old-nodes" => step with { OldNodes = ReadNodeMask(value) },
        "addrs" => step with { MoveAddrs = value.ReadList("a list of addresses such as [\"0x10000000\", \"0x10001000\"]").Select(a => a.ReadULong(AddrExpected)).ToList() },
        "to" => step with { MoveTo = value.ReadList("a list of node numbers, one per address, such as [1, 1]").Select(n => n.ReadInt()).ToList() },
        "count" => step with { MoveCount = value.ReadULong("a page count such as 2 or \"0xffffffffffffffff\"") },
        "fault" => step with { MoveFault = value.ReadChoice([("pages", MovePagesFault.Pages), ("nodes", MovePagesFault.Nodes), ("status", MovePagesFault.Status)], "pages, nodes or status (the array whose pointer faults)") },
        "new-nodes" => step with { NewNodes = ReadNodeMask(value) },
        "node" => step with { Node = value.ReadInt(expected: "a node number such as 1") },
        "pfn" => step with { Pfn = value.ReadLong(expected: "a machine frame number such as 1030") },
        "swapped" => step with { ExpectSwapped = value.ReadLong(min: 0) },
        "swapcache" => step with { ExpectSwapCache = value.ReadLong(min: 0) },
        "status" => step with { ExitStatus = value.ReadInt(0, 255, "an exit status from 0 to 255") },
        "nohang" => step with { NoHang = value.ReadBool() },
        "async" => step with { Async = value.ReadBool() },
        "expect" => step with { Expect = ReadExpect(value, step.Op) },
        _ => throw new InvalidOperationException($"StepOps lists the key {key}, which StepReader does not read."),
    };

    private static void CheckRange(ConfigNode node, StepOpInfo info)
    {
        var (pages, len) = (node["pages"], node["len"]);
        if (pages.IsSet && len.IsSet)
        {
            throw node.Error("pages or len, not both", $"pages = {pages.Describe()} and len = {len.Describe()}");
        }

        if (!pages.IsSet && !len.IsSet)
        {
            throw node.Error($"pages or len, the size of the range to {info.Name}", "neither");
        }
    }

    /// <summary>The raw byte count, and the pages it covers: len rounded up, as the kernel's PAGE_ALIGN does.</summary>
    private static StepSpec ReadLen(StepSpec step, ConfigNode value)
    {
        var len = value.ReadULong("a length in bytes such as 65536 or \"0x10000\"");
        return step with { Len = len, Pages = (long)(len / PageSize + (len % PageSize == 0 ? 0UL : 1UL)) };
    }

    /// <summary>A mode by name, or any number, invalid ones included: the kernel is what rejects them.</summary>
    private static int ReadMode(ConfigNode value) =>
        value.TryParseInteger(out var n) && n >= int.MinValue && n <= int.MaxValue
            ? (int)n
            : value.ReadChoice(SyscallNames.Modes, SyscallNames.ModeExpected);

    /// <summary>A list of flag names (numbers may be mixed in and are OR-ed as bits), or one raw number such as -1.
    /// A single name without brackets is read as a list of one.</summary>
    private static int ReadFlags(ConfigNode value, IReadOnlyList<(string Name, int Value)> names)
    {
        var nameList = names.Select(n => n.Name).ToList();
        if (value.Kind != ConfigNodeKind.List)
        {
            return ReadFlag(value, names, $"a list of {ConfigNode.Alternatives(nameList).Replace(" or ", " and ")}, or a number");
        }

        var expected = ConfigNode.Alternatives([.. nameList, "a number"]);
        return value.Items.Aggregate(0, (bits, item) => bits | ReadFlag(item, names, expected));
    }

    private static int ReadFlag(ConfigNode value, IReadOnlyList<(string Name, int Value)> names, string expected)
    {
        if (value.TryParseInteger(out var n) && n >= int.MinValue && n <= int.MaxValue)
        {
            return (int)n;
        }

        return names.Count > 0 && value.Kind == ConfigNodeKind.Scalar ? value.ReadChoice(names, expected) : throw value.Error(expected);
    }

    /// <summary>A nodemask as a list of node numbers. Nodes the topology lacks are allowed (up to MAX_NUMNODES):
    /// scenarios test that the kernel refuses them.</summary>
    private static NodeMask ReadNodeMask(ConfigNode value) =>
        NodeMask.Of(value.ReadList("a list of node numbers such as [0, 1]")
            .Select(n => n.ReadInt(0, NodeMask.MaxNumNodes - 1, $"a node number from 0 to {NodeMask.MaxNumNodes - 1}")));

    /// <summary>expect-pages' <c>nodes { "0" = 16, "1" = 0 }</c>: present pages per node of the topology. The list is
    /// exhaustive: a node it leaves out must hold none of the range's pages.</summary>
    private IReadOnlyDictionary<int, long> ReadNodeCounts(ConfigNode value)
    {
        value.ReadBlock("a block of page counts per node such as { \"0\" = 16, \"1\" = 0 }");
        var counts = new Dictionary<int, long>();
        foreach (var (key, count) in value.Fields)
        {
            if (!int.TryParse(key, out var node) || node.ToString() != key || node >= topology.Nodes)
            {
                throw count.Error($"a node of the topology, from 0 to {topology.Nodes - 1}, as the key", ConfigNode.Quote(key));
            }

            counts[node] = count.ReadLong(min: 0);
        }
        return counts;
    }

    private StepSpec ReadPid(StepSpec step, ConfigNode value)
    {
        if (value.TryParseInteger(out var n))
        {
            return n >= int.MinValue && n <= int.MaxValue ? step with { TargetPid = (int)n } : throw value.Error("a task name or a pid");
        }

        return step with { TargetTask = tasks.ReadKnownName(value) };
    }

    private static ExpectSpec ReadExpect(ConfigNode value, StepOp op)
    {
        value.ReadBlock("a block such as { ret = 0 } or { errno = EINVAL }", StepOps.ExpectKeys(op));
        T? Optional<T>(string key, Func<ConfigNode, T> read) where T : struct => value[key].IsSet ? read(value[key]) : null;
        return new ExpectSpec(
            Optional("ret", n => n.ReadLong()),
            Optional("errno", ReadErrno),
            Optional("mode", ReadMode),
            Optional("nodes", ReadNodeMask),
            Optional("node", n => n.ReadInt()))
        {
            Status = value["status"].IsSet ? value["status"].ReadList("a list of nodes and errno names such as [1, ENOENT]").Select(ReadStatus).ToList() : null,
        };
    }

    /// <summary>A move_pages status: a node number, a negative number, or an errno name standing for its negative.</summary>
    private static int ReadStatus(ConfigNode value) =>
        value.TryParseInteger(out var n) && n >= int.MinValue && n <= int.MaxValue ? (int)n : -(int)ReadErrno(value);

    private static Errno ReadErrno(ConfigNode value) =>
        value.Kind == ConfigNodeKind.Scalar && ErrnoParsing.TryParse(value.Text.Trim(), out var errno)
            ? errno
            : throw value.Error("an errno name such as EIO or EINVAL, or its number");

    /// <summary>expect-vmstat: every key but op is a counter name, as /proc/vmstat spells it.</summary>
    private static IReadOnlyDictionary<string, long> ReadVmstat(ConfigNode node)
    {
        var counters = new Dictionary<string, long>();
        foreach (var (key, value) in node.Fields)
        {
            if (key == "op")
            {
                continue;
            }

            if (!KernelStats.VmstatNames.Contains(key))
            {
                throw value.Error("a /proc/vmstat counter such as pswpout, pgmajfault or numa_hit", ConfigNode.Quote(key));
            }

            counters[key] = value.ReadLong(min: 0);
        }
        return counters.Count > 0 ? counters : throw node.Error("at least one counter such as pswpout = 16", "none");
    }
}

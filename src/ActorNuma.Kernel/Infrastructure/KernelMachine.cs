using System.Collections.Concurrent;

namespace ActorNuma.Kernel;

/// <summary>A booted machine: its settings, where its actors are, its trace, and a read-only window onto each actor's
/// state for the checkers and the report. The window may only be read while no actor runs (a quiescent point of the
/// deterministic pump, or after a concurrent run has drained); actors never read each other's state through it.</summary>
public sealed class KernelMachine
{
    private readonly ConcurrentDictionary<int, NodeState> _nodes = new();
    private readonly ConcurrentDictionary<int, TaskState> _tasks = new();
    private readonly ConcurrentQueue<string> _dataViolations = new();
    private int _nextPid;

    public KernelMachine(KernelSettings settings, KernelTrace trace)
    {
        Settings = settings;
        Trace = trace;
        Zonelists = Mm.Zonelists.BuildAll(settings.Topology);
    }

    public KernelSettings Settings { get; }
    public Topology Topology => Settings.Topology;
    public KernelProfile Profile => Settings.Profile;
    public int[][] Zonelists { get; }
    public KernelDirectory Directory { get; } = new();
    public KernelTrace Trace { get; }
    /// <summary>Messages the kernel actors have started and finished handling (concurrent mode's test for rest).</summary>
    public KernelActivity Activity { get; } = new();

    /// <summary>When set (before boot), every kernel actor's handler adds what it allocated (a benchmark's probe).</summary>
    public HandlerAllocation? Allocation { get; init; }

    /// <summary>Concurrent mode's kernel timers (<see cref="StartTimerLoop"/>); null: kernel timers run on the actor
    /// system's scheduler (virtual time in deterministic mode).</summary>
    public KernelTimerLoop? TimerLoop { get; private set; }

    /// <summary>Runs kernel timers (swap I/O completions, congestion waits) on the trace's clock from a dedicated thread
    /// instead of the actor system's scheduler. Call before boot; the caller disposes the loop when the run ends.</summary>
    public KernelTimerLoop StartTimerLoop() => TimerLoop ??= new KernelTimerLoop(() => Trace.Now);

    /// <summary>Pids are handed out like the kernel's: increasing from 1 (0 means "self" in syscalls).</summary>
    public int AllocPid() => Interlocked.Increment(ref _nextPid);

    // Actors register from their constructors, which run in parallel in concurrent mode: each add and the rebuild of
    // its sorted list happen under one lock, or a registration that rebuilds from an older view of the dictionary
    // could publish its list last and drop a task (the checkers then saw its pages as mapped by no PTE).
    private readonly Lock _registry = new();

    internal void Register(NodeState node)
    {
        lock (_registry)
        {
            _nodes[node.Memory.Node] = node;
            _nodeList = _nodes.Values.OrderBy(n => n.Memory.Node).ToArray();
        }
    }

    internal void Register(TaskState task)
    {
        lock (_registry)
        {
            _tasks[task.Pid] = task;
            _taskList = _tasks.Values.OrderBy(t => t.Pid).ToArray();
        }
    }

    internal void Register(SwapState swap) => Swap = swap;

    /// <summary>Drops the record of a task its parent (or init) has reaped, as release_task() frees the task_struct,
    /// so a machine that forks and reaps for hours keeps only its live tasks and zombies; what the task counted stays
    /// in <see cref="ForgottenTaskStat"/>. Only at a quiescent point (the caller stops the task's actor there, when no
    /// rmap request can still be on its way to it). False while the task is not reaped yet.</summary>
    /// <remarks>Kernel: 2.6.14 kernel/exit.c release_task() → put_task_struct().</remarks>
    public bool Forget(int pid)
    {
        lock (_registry)
        {
            if (!_reaped.Contains(pid) || !_tasks.TryRemove(pid, out var task))
            {
                return false;
            }

            _reaped.Remove(pid);
            foreach (var e in VmEventNames.All)
            {
                if (task.Stat[e] != 0)
                {
                    ForgottenTaskStat.Count(e, task.Stat[e]);
                }
            }

            _taskList = _tasks.Values.OrderBy(t => t.Pid).ToArray();
            return true;
        }
    }

    /// <summary>The task list (the kernel root) tells the machine a pid was released: its record may now be forgotten.</summary>
    internal void Reaped(int pid)
    {
        lock (_registry)
        {
            _reaped.Add(pid);
        }
    }

    private readonly HashSet<int> _reaped = new();

    /// <summary>Whether the task list has released <paramref name="pid"/> (a reaped zombie whose record is still kept).</summary>
    public bool IsReaped(int pid)
    {
        lock (_registry)
        {
            return _reaped.Contains(pid);
        }
    }

    /// <summary>The counters of the tasks <see cref="Forget"/> let go: /proc/vmstat still counts what they did.</summary>
    public VmStat ForgottenTaskStat { get; } = new();

    private NodeState[] _nodeList = [];
    private TaskState[] _taskList = [];

    /// <summary>The nodes in node order (index = node id once the machine has booted).</summary>
    public IReadOnlyList<NodeState> Nodes => _nodeList;
    /// <summary>Every task created (exited ones included) and not <see cref="Forget"/>-ten, in pid order.</summary>
    public IReadOnlyList<TaskState> Tasks => _taskList;
    public SwapState? Swap { get; private set; }

    /// <summary>The counters of every kswapd (pageoutrun, kswapd_steal, ...).</summary>
    public IReadOnlyList<VmStat> KswapdStats => _kswapdStats.OrderBy(kv => kv.Key).Select(kv => kv.Value).ToArray();
    private readonly ConcurrentDictionary<int, VmStat> _kswapdStats = new();
    internal void RegisterKswapd(int node, VmStat stat) => _kswapdStats[node] = stat;

    /// <summary>Whether the whole machine exists: the kernel root has filled the directory, and every node, the swap
    /// device and each kswapd has run its constructor. <c>ActorOf</c> returns before an actor is created; in concurrent
    /// mode the creation runs on pool threads, so a driver that started before this was true could tell the kernel root
    /// through a directory still empty (the message went to no one, and the run stalled before its first step).</summary>
    public bool Booted =>
        !ReferenceEquals(Directory.Kernel, ActorRefs.Nobody) && Swap is not null && _nodeList.Length == Topology.Nodes &&
        Directory.KswapdCount == Topology.Nodes && (!Settings.KswapdEnabled || _kswapdStats.Count == Topology.Nodes);

    /// <summary>A read that did not return what the task last wrote: the data checker's findings.</summary>
    public IReadOnlyCollection<string> DataViolations => _dataViolations.ToArray();
    internal void ReportDataViolation(string message) => _dataViolations.Enqueue(message);

    /// <summary>Kernel BUGs: an actor hit an impossible state (the emulated BUG_ON) and was stopped.</summary>
    public IReadOnlyCollection<string> Bugs => _bugs.ToArray();
    /// <summary>Whether a kernel BUG has been hit, without copying <see cref="Bugs"/>.</summary>
    public bool HasBugs => !_bugs.IsEmpty;
    private readonly ConcurrentQueue<string> _bugs = new();
    internal void ReportBug(string message) => _bugs.Enqueue(message);
}

/// <summary>A node's state as the checkers see it: read-only views. The node changes its frames through the
/// <see cref="NodeMemory"/> it owns; nothing else in the kernel reaches it (the compiler enforces it outside).</summary>
public sealed class NodeState
{
    private readonly NodeMemory _memory;
    private readonly IReadOnlyList<CpuPagevecs> _pagevecs;

    internal NodeState(NodeMemory memory, IReadOnlyList<CpuPagevecs> pagevecs)
    {
        _memory = memory;
        _pagevecs = pagevecs;
    }

    public IReadOnlyNodeMemory Memory => _memory;
    public IReadOnlyList<IReadOnlyCpuPagevecs> Pagevecs => _pagevecs;
    /// <summary>Frames isolated by reclaim and by migration drivers are recorded at the isolating side; the node
    /// records the isolator kind per frame (<see cref="NodeMemory.Owner"/>).</summary>
    public int PendingReleases { get; internal set; }
    /// <summary>numa_foreign counted by this node's allocations against each intended node (the kernel keeps it in the
    /// allocating CPU's per-CPU pageset of the intended zone; the report sums it per intended node).</summary>
    public IReadOnlyList<long> ForeignFor => ForeignCounts;
    internal long[] ForeignCounts { get; } = new long[NodeMask.MaxNumNodes];
    /// <summary>The node's memory block state (memory hotplug): online, going offline or offline.</summary>
    public NumaNode.MemoryState MemoryState { get; internal set; }
    /// <summary>The frames themselves, for the owning node (and test set-ups).</summary>
    internal NodeMemory OwnMemory => _memory;
}

/// <summary>The swap device's state as the checkers see it.</summary>
public sealed class SwapState
{
    private readonly SwapMap _map;

    internal SwapState(SwapMap map) => _map = map;

    public IReadOnlySwapMap Map => _map;
    /// <summary>Pages whose write is in flight, and slots being read, by the device queues.</summary>
    public int WritesInFlight { get; internal set; }
    public int ReadsInFlight { get; internal set; }
    public IReadOnlyVmStat Stat => OwnStat;
    internal VmStat OwnStat { get; } = new();
    /// <summary>The swap map itself, for the swap device (and test set-ups).</summary>
    internal SwapMap OwnMap => _map;
}

/// <summary>A task's mm as the checkers see it: read-only views. The task actor changes its page table, VMAs,
/// isolated pages and counters through the Own* members, which are internal to the kernel; fork builds its child's
/// before it hands them over to the child's actor.</summary>
public sealed class TaskState(int pid, string name)
{
    public int Pid { get; } = pid;
    public string Name { get; } = name;
    public IReadOnlyVmaList Vmas => OwnVmas;
    internal VmaList OwnVmas { get; set; } = new();
    public IReadOnlyPageTable PageTable => OwnPageTable;
    internal PageTable OwnPageTable { get; set; } = new();
    public MemPolicy? Policy { get; internal set; }
    public int Cpu { get; internal set; }
    public bool SysNice { get; internal set; }
    /// <summary>Real, effective and saved user ids (<c>task_struct</c> uid, euid, suid): sys_migrate_pages compares
    /// them. Capabilities are <see cref="SysNice"/> alone: uid 0 does not imply them here.</summary>
    public int Uid { get; internal set; }
    public int Euid { get; internal set; }
    public int Suid { get; internal set; }
    /// <summary>The parent that reaps this task with waitpid; 0 is init, which reaps at once.</summary>
    public int ParentPid { get; internal set; }
    /// <summary>The task has exited (<c>exit_mm</c> done): a zombie until its parent reaps it.</summary>
    public bool Exited { get; internal set; }
    public bool OomKilled { get; internal set; }
    /// <summary>The syscall in progress (for liveness reports), and how many replies it waits for.</summary>
    public string? Busy { get; internal set; }
    public int PendingReplies { get; internal set; }
    /// <summary>Pages this task holds isolated for a migration in progress.</summary>
    public IReadOnlySet<int> Isolated => OwnIsolated;
    internal PfnSet OwnIsolated { get; } = new();
    public IReadOnlyVmStat Stat => OwnStat;
    internal VmStat OwnStat { get; } = new();
}

using System.Collections.Concurrent;

namespace ActorNuma.Kernel;

/// <summary>Where the kernel's actors are: the emulated <c>pid_hash</c> and the per-node <c>pg_data_t</c> array.
/// Only the kernel root writes it; it holds addresses, never state.</summary>
public sealed class KernelDirectory
{
    private readonly ConcurrentDictionary<int, IActorRef> _tasks = new();
    private IActorRef[] _nodes = [];

    public IReadOnlyList<IActorRef> Nodes => _nodes;
    public IActorRef Swap { get; private set; } = ActorRefs.Nobody;
    public IActorRef Kernel { get; private set; } = ActorRefs.Nobody;

    internal void SetMachine(IActorRef kernel, IActorRef[] nodes, IActorRef swap)
    {
        Kernel = kernel;
        _nodes = nodes;
        Swap = swap;
    }

    public IActorRef Node(int node) => _nodes[node];
    /// <summary>The node actor that owns the pagevecs of <paramref name="cpu"/>.</summary>
    public IActorRef NodeOfCpu(int cpu, Topology topology) => _nodes[topology.CpuToNode(cpu)];

    private readonly ConcurrentDictionary<int, IActorRef> _kswapds = new();

    /// <summary>Each node's kswapd (a child of the node, which registers it): for the run's rest test, not for messages.
    /// Read from a snapshot (<c>ConcurrentDictionary.ToArray</c>): in concurrent mode nodes register while a run polls
    /// for rest, and LINQ sizing its array from <c>Count</c> before enumerating the live dictionary overran it.</summary>
    public IReadOnlyCollection<IActorRef> Kswapds => _kswapds.ToArray().OrderBy(kv => kv.Key).Select(kv => kv.Value).ToArray();
    internal void AddKswapd(int node, IActorRef kswapd) => _kswapds[node] = kswapd;
    /// <summary>Nodes that have registered their kswapd (or Nobody without one): all of them once the machine is booted.</summary>
    internal int KswapdCount => _kswapds.Count;

    internal void AddTask(int pid, IActorRef task) => _tasks[pid] = task;
    internal void RemoveTask(int pid) => _tasks.TryRemove(pid, out _);
    /// <summary><c>find_task_by_pid()</c>.</summary>
    public IActorRef? Task(int pid) => _tasks.TryGetValue(pid, out var r) ? r : null;
    public IReadOnlyCollection<int> Pids => _tasks.Keys.OrderBy(p => p).ToArray();
}

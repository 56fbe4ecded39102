using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;

namespace ActorNuma.Simulation.Tests.Checkers;

/// <summary>A hand-built machine for checker specs: nodes of a few frames (node 0 holds the zero page), one CPU's pagevecs
/// per node, tasks with page tables and, when asked, a swap map. Specs put it in the state they describe through the
/// owners' own objects and run one checker on it.</summary>
internal sealed class CheckedMachine
{
    private readonly Dictionary<int, TaskState> _tasks = new();
    private readonly List<NodeState> _nodes = new();

    public CheckedMachine(int nodes = 2, int pagesPerNode = 16, int swapSlots = 0)
    {
        var topology = new Topology(nodes, 1, pagesPerNode);
        Machine = new KernelMachine(new KernelSettings { Topology = topology, Profile = KernelProfile.V2 }, new KernelTrace(() => TimeSpan.Zero));
        for (var n = 0; n < nodes; n++)
        {
            var memory = new NodeMemory(n, topology.FirstPfn(n), pagesPerNode, new Watermarks(0, 0, 0), holdsZeroPage: n == 0);
            var state = new NodeState(memory, [new CpuPagevecs(n)]);
            _nodes.Add(state);
            Machine.Register(state);
        }

        if (swapSlots > 0)
        {
            Swap = new SwapMap(swapSlots);
            Machine.Register(new SwapState(Swap));
        }
    }

    public KernelMachine Machine { get; }
    public SwapMap? Swap { get; }

    public NodeMemory Node(int n) => _nodes[n].OwnMemory;
    public NodeState NodeState(int n) => _nodes[n];
    public CpuPagevecs Cpu(int n) => (CpuPagevecs)_nodes[n].Pagevecs[0];

    public TaskState Task(int pid)
    {
        if (_tasks.TryGetValue(pid, out var t))
        {
            return t;
        }

        Machine.Register(_tasks[pid] = t = new TaskState(pid, $"t{pid}"));
        return t;
    }

    /// <summary>A frame of node <paramref name="n"/> on an LRU list with one reference: a page in use, as the kernel
    /// leaves it between faults. Returns its index.</summary>
    public int LruPage(int n, bool active = true)
    {
        var i = Node(n).AllocFrame();
        Node(n).AddToLru(i, active);
        return i;
    }

    /// <summary>Maps frame <paramref name="i"/> of node <paramref name="n"/> at <paramref name="vpn"/> in task
    /// <paramref name="pid"/>: the PTE, the rmap and the reference it holds.</summary>
    public void Map(int n, int i, int pid, uint vpn)
    {
        Node(n).AddRmap(i, pid, vpn);
        Node(n).GetPage(i);
        Task(pid).OwnPageTable.Set(vpn, Pte.Present(Node(n).PfnOf(i), write: true));
    }

    /// <summary>The violations <paramref name="checker"/> finds, in its order.</summary>
    public List<string> Check(IInvariantChecker checker)
    {
        var violations = new List<string>();
        checker.Check(Machine, violations);
        return violations;
    }
}

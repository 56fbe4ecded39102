using ActorNuma.Mm;
using ActorNuma.Simulation.Scheduling;
using Akka.Actor;
using Akka.TestKit;

namespace ActorNuma.Kernel.Tests.Support;

/// <summary>
/// A <see cref="KernelMachine"/> for one spec. At first every actor in its directory is a <see cref="TestProbe"/>: the
/// kernel root, each node and the swap device. <see cref="SpawnNode"/>, <see cref="SpawnSwapDevice"/> and
/// <see cref="SpawnTask"/> replace one of them by the real actor, and <see cref="StandInTask"/> registers a probe as a
/// task, so a spec can put one actor among probes that play its peers, or several real actors together.
/// </summary>
/// <remarks>
/// Kernel actors process messages only when pumped. <see cref="Send"/> tells and then pumps until nothing is runnable,
/// without moving virtual time; <see cref="Advance"/> moves time, firing due timers in order and pumping after each.
/// Tell kernel actors only from the test thread (which is the pump's thread), never from another thread.
/// </remarks>
public sealed class KernelRig
{
    private static int _rigs;

    private readonly TestKitBase _kit;
    private readonly int _id = Interlocked.Increment(ref _rigs);
    private readonly IActorRef[] _nodes;
    private readonly IActorRef _nursery;
    private readonly Dictionary<int, TestProbe> _taskProbes = new();
    private IActorRef _kernel;
    private IActorRef _swap;
    private long _token = 1000;

    public KernelRig(TestKitBase kit, KernelSettings settings)
    {
        _kit = kit;
        Pump = DeterministicPump.For(kit.Sys);
        Machine = new KernelMachine(settings, new KernelTrace(() => Pump.Scheduler.Elapsed));
        KernelProbe = kit.CreateTestProbe($"kernel-probe-{_id}");
        SwapProbe = kit.CreateTestProbe($"swap-probe-{_id}");
        NodeProbes = Enumerable.Range(0, settings.Topology.Nodes)
            .Select(n => kit.CreateTestProbe($"node{n}-probe-{_id}")).ToArray();
        _kernel = KernelProbe.Ref;
        _swap = SwapProbe.Ref;
        _nodes = NodeProbes.Select(p => p.Ref).ToArray();
        Rewire();
        _nursery = kit.Sys.ActorOf(Nursery.Props(Machine), $"nursery-{_id}");
        DeterministicPump.AwaitStarted(_nursery);
        Settle();
    }

    public KernelMachine Machine { get; }

    public DeterministicPump Pump { get; }

    public Topology Topology => Machine.Topology;

    /// <summary>Stands in for the kernel root (fork's CreateTask goes there) until <see cref="BootRoot"/>.</summary>
    public TestProbe KernelProbe { get; }

    /// <summary>Stands in for the swap device until <see cref="SpawnSwapDevice"/>.</summary>
    public TestProbe SwapProbe { get; }

    /// <summary>Stand in for each node until <see cref="SpawnNode"/>.</summary>
    public IReadOnlyList<TestProbe> NodeProbes { get; }

    /// <summary>Virtual time since the machine's clock started.</summary>
    public TimeSpan Now => Pump.Scheduler.Elapsed;

    /// <summary>A fresh request token, distinct from the small tokens the kernel actors number their own requests with.</summary>
    public long NextToken() => ++_token;

    // ---- building the machine -----------------------------------------------------------------------------------

    /// <summary>Creates the real <see cref="NumaNodeActor"/> of <paramref name="node"/>; the other nodes stay probes.</summary>
    public IActorRef SpawnNode(int node)
    {
        var actor = Spawn(NumaNodeActor.Props(Machine, node), $"node{node}");
        _nodes[node] = actor;
        Rewire();
        return actor;
    }

    public IActorRef SpawnSwapDevice()
    {
        _swap = Spawn(SwapDeviceActor.Props(Machine), "swap");
        Rewire();
        return _swap;
    }

    /// <summary>Creates a real <see cref="NumaTaskActor"/> with a new pid, registered in the directory.</summary>
    public (int Pid, IActorRef Task) SpawnTask(int cpu, string name = "task", bool sysNice = false)
    {
        var pid = Machine.AllocPid();
        var state = new TaskState(pid, name) { Cpu = cpu, SysNice = sysNice };
        var task = Spawn(NumaTaskActor.Props(Machine, state), $"task{pid}");
        Machine.Directory.AddTask(pid, task);
        return (pid, task);
    }

    /// <summary>A probe registered as task <paramref name="pid"/>: what nodes and the swap device send that task
    /// (try_to_unmap, page_referenced, swap-cache answers) reaches it.</summary>
    public TestProbe StandInTask(int pid)
    {
        if (_taskProbes.TryGetValue(pid, out var probe))
        {
            return probe;
        }

        probe = _kit.CreateTestProbe($"task{pid}-probe-{_id}");
        _taskProbes[pid] = probe;
        Machine.Directory.AddTask(pid, probe.Ref);
        return probe;
    }

    /// <summary>Boots the whole machine with the real <see cref="KernelRootActor"/> (a top-level actor, as the scenario
    /// runner creates it), which creates every node and the swap device and fills the directory itself.</summary>
    public IActorRef BootRoot()
    {
        _kernel = _kit.Sys.ActorOf(KernelRootActor.Props(Machine), $"kernel-{_id}");
        DeterministicPump.AwaitStarted(_kernel);
        Settle();
        return _kernel;
    }

    /// <summary>
    /// Boots the whole machine as <see cref="BootRoot"/> does, but with the root as the child of a parent on the kernel
    /// dispatcher that supervises it with <paramref name="guardianStrategy"/>. The /user guardian that supervises the
    /// real top-level root decides on a pool thread, at a time the pump does not control; with this parent a failure of
    /// the root and its consequences are pump steps, so a spec can assert them deterministically.
    /// </summary>
    public IActorRef BootRootUnder(SupervisorStrategy guardianStrategy)
    {
        var guardian = _kit.Sys.ActorOf(Nursery.Props(Machine, guardianStrategy), $"guardian-{_id}");
        DeterministicPump.AwaitStarted(guardian);
        Settle();
        _kernel = Spawn(guardian, KernelRootActor.Props(Machine), "kernel");
        return _kernel;
    }

    /// <summary>A probe that receives replies (a ReplyTo, a Sender) for the spec.</summary>
    public TestProbe NewProbe(string name) => _kit.CreateTestProbe($"{name}-{_id}");

    private IActorRef Spawn(Props props, string name) => Spawn(_nursery, props, name);

    private IActorRef Spawn(IActorRef nursery, Props props, string name)
    {
        IActorRef? created = null;
        nursery.Tell(new Nursery.Spawn(props, name, a => created = a));
        Settle();
        return created ?? throw new InvalidOperationException($"the nursery did not create {name}");
    }

    private void Rewire() => Machine.Directory.SetMachine(_kernel, _nodes.ToArray(), _swap);

    // ---- driving it -----------------------------------------------------------------------------------------------

    /// <summary>Tells <paramref name="message"/> to <paramref name="target"/> and pumps until idle.</summary>
    public void Send(IActorRef target, object message, IActorRef? sender = null)
    {
        target.Tell(message, sender ?? ActorRefs.NoSender);
        Settle();
    }

    /// <summary>Runs kernel mailboxes until none is runnable, at the current virtual instant.</summary>
    public void Settle() => Pump.RunUntilIdle();

    /// <summary>Runs kernel mailboxes, advancing virtual time whenever nothing is runnable, until <paramref name="done"/>
    /// holds (say, a probe <c>HasMessages</c>): for flows that wait on the swap device's latencies.</summary>
    public void RunUntil(Func<bool> done)
    {
        if (!Pump.RunUntil(done, maxSteps: 1_000_000))
        {
            throw new InvalidOperationException($"the machine went idle with nothing scheduled at {Now} (seed {Pump.Seed})");
        }
    }

    /// <summary>Moves virtual time forward by <paramref name="by"/>: each due timer fires at its own instant and what it
    /// sends is processed before time moves on, as <see cref="DeterministicPump.RunUntil"/> does.</summary>
    public void Advance(TimeSpan by)
    {
        var target = Pump.Scheduler.Now + by;
        Settle();
        while (Pump.Scheduler.TryGetNextDue(out var due) && due <= target)
        {
            Pump.Scheduler.AdvanceTo(due);
            Settle();
        }
        Pump.Scheduler.AdvanceTo(target);
        Settle();
    }

    // ---- reading it at a quiescent point ----------------------------------------------------------------------------

    public NodeState Node(int node) => Machine.Nodes.Single(n => n.Memory.Node == node);

    public TaskState Task(int pid) => Machine.Tasks.Single(t => t.Pid == pid);

    public SwapMap SwapMap => (Machine.Swap ?? throw new InvalidOperationException("no swap device spawned")).OwnMap;
}

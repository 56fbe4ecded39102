using Akka.Actor;
using ActorNuma.Kernel;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Simulation.Soak;

/// <summary>Plays a soak workload against the kernel through its public syscalls: spawns the tasks, maps their working
/// sets, then plays them. In rounds (deterministic mode) every live task (forked children included) issues one syscall,
/// all at once so they race as processes on different CPUs do, and the driver pauses after each round if
/// <see cref="SoakProgress.PauseRequested"/>, so the runner can check a machine at rest. Free-running (concurrent mode)
/// each task issues its next syscall as soon as its last one is answered, as processes do, so a slow migration holds up
/// only its own task; when a pause is requested no task gets a next syscall, and the driver pauses once the last one in
/// flight is answered. Every choice comes from one generator seeded from the run's seed and drawn only in this actor, in
/// message order.</summary>
public sealed class SoakDriverActor : UntypedActor
{
    /// <summary>Where every task maps its working set (each task has its own address space).</summary>
    internal const ulong Base = 0x10000000;
    private const int MaxNode = NodeMask.MaxNumNodes + 1;

    private readonly KernelMachine _machine;
    private readonly SoakWorkload _workload;
    private readonly SoakProgress _progress;
    private readonly Random _random;
    private readonly List<Slot> _slots = new();
    private readonly Dictionary<IActorRef, Slot> _bySender = new();
    /// <summary>Tasks asked of the kernel root and not yet created: a round is done only when they are mapped too.</summary>
    private int _spawning;
    private int _respawned;
    /// <summary>Which boot task (0 to tasks - 1) a spawned name stands for; its CPU and its respawns follow it.</summary>
    private readonly Dictionary<string, int> _bootIndex = new(StringComparer.Ordinal);
    private int _outstanding;
    private int _children;
    private readonly bool _freeRunning;
    /// <summary>Free-running: syscalls answered since the last round was counted (a round is one per live task).</summary>
    private int _sinceRound;

    public SoakDriverActor(KernelMachine machine, SoakWorkload workload, int seed, SoakProgress progress, bool freeRunning)
    {
        _machine = machine;
        _workload = workload;
        _progress = progress;
        _random = new Random(seed);
        _freeRunning = freeRunning;
    }

    public static Props Props(KernelMachine machine, SoakWorkload workload, int seed, SoakProgress progress, bool freeRunning = false) =>
        Akka.Actor.Props.Create(() => new SoakDriverActor(machine, workload, seed, progress, freeRunning)).OnKernelDispatcher();

    public sealed record Start;
    /// <summary>The runner has checked the machine: play the next round.</summary>
    public sealed record Resume;

    /// <summary>A task the driver plays: a boot task, or a forked child living <see cref="RoundsLeft"/> more rounds.</summary>
    private sealed class Slot(string name, int pid, IActorRef task, Slot? parent)
    {
        public string Name { get; } = name;
        public int Pid { get; } = pid;
        public IActorRef Task { get; } = task;
        public Slot? Parent { get; } = parent;
        /// <summary>A boot task's number, kept by the task that replaces it.</summary>
        public int Index { get; init; }
        public int RoundsLeft { get; set; }
        public bool HasChild { get; set; }
        /// <summary>A child that exited and is to be reaped with waitpid() in this task's next round.</summary>
        public int? Zombie { get; set; }
        public bool Exiting { get; set; }
        public SoakOp? Doing { get; set; }
        public string? ForkedName { get; set; }
        /// <summary>The CPU the task runs on (sched_setaffinity moves it; a child starts on its parent's).</summary>
        public int Cpu { get; set; }
        /// <summary>sched_setaffinity's target, taken as the CPU once the call succeeds.</summary>
        public int MovingTo { get; set; }
        /// <summary>When the syscall in flight was sent, on the machine's clock.</summary>
        public TimeSpan SentAt { get; set; }
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Start: SpawnTasks(); break;
            case KernelRoot.TaskSpawned m: OnSpawned(m); break;
            case KernelRoot.SpawnRefused m: _progress.Fail($"task {m.Name} could not be created: {m.Reason}"); break;
            case SyscallResult r when _bySender.TryGetValue(Sender, out var slot): OnResult(slot, r); break;
            case Resume: PlayRound(); break;
            default: Unhandled(message); break;
        }
    }

    private void SpawnTasks()
    {
        for (var i = 0; i < _workload.Tasks; i++)
        {
            Spawn($"t{i}", i);
        }
    }

    private void Spawn(string name, int index)
    {
        _spawning++;
        _bootIndex[name] = index;
        _machine.Directory.Kernel.Tell(new KernelRoot.SpawnTask(name, index % _machine.Topology.Cpus, SysNice: false));
    }

    /// <summary>Each task maps its working set as it is created; the first round waits for all of them.</summary>
    private void OnSpawned(KernelRoot.TaskSpawned m)
    {
        _bootIndex.Remove(m.Name, out var index);
        var slot = new Slot(m.Name, m.Pid, m.Task, null) { Index = index, Cpu = index % _machine.Topology.Cpus };
        _slots.Add(slot);
        _bySender[m.Task] = slot;
        Send(slot, new Mmap(Base, _workload.WorkingSetPages));
        _spawning--;
    }

    private void Send(Slot slot, Syscall call)
    {
        _outstanding++;
        slot.SentAt = _machine.Trace.Now;
        slot.Task.Tell(call, Self);
    }

    private void OnResult(Slot slot, SyscallResult r)
    {
        _outstanding--;
        _progress.SyscallDone();
        _progress.CountCall(OpName(slot));
        if (r.Errno != Errno.None)
        {
            _progress.CountErrno($"{OpName(slot)} {r.Errno}");
        }

        if (slot.Doing is SoakOp.MbindMove or SoakOp.MigratePages)
        {
            (slot.Doing == SoakOp.MbindMove ? _progress.MbindMove : _progress.MigratePages).Record(_machine.Trace.Now - slot.SentAt);
        }

        if (slot.Doing == SoakOp.SchedSetaffinity && r.Errno == Errno.None)
        {
            slot.Cpu = slot.MovingTo;
        }

        Slot? child = null;
        if (slot.Doing == SoakOp.Fork && r.ChildPid is { } pid && _machine.Directory.Task(pid) is { } childTask)
        {
            child = AdoptChild(slot, pid, childTask);
        }

        var live = true;
        if (slot.Exiting) { RemoveExited(slot); live = false; }
        else if (r.Errno == Errno.ESRCH) { Killed(slot); live = false; }
        slot.Doing = null;
        if (_freeRunning) { NextFreeRunning(slot, live, child); return; }
        if (_outstanding > 0 || _spawning > 0)
        {
            return;
        }

        _progress.RoundDone();
        if (_progress.PauseRequested)
        {
            _progress.Pause();
        }
        else
        {
            PlayRound();
        }
    }

    /// <summary>Free-running: the task that was answered (and a child it just forked) goes on at once unless a pause is
    /// asked for; the driver pauses once nothing is in flight.</summary>
    private void NextFreeRunning(Slot slot, bool live, Slot? child)
    {
        if (++_sinceRound >= Math.Max(1, _slots.Count))
        {
            _sinceRound = 0;
            _progress.RoundDone();
        }
        if (!_progress.PauseRequested)
        {
            if (live)
            {
                Send(slot, Choose(slot));
            }

            if (child is not null)
            {
                Send(child, Choose(child));
            }

            return;
        }
        if (_outstanding == 0 && _spawning == 0)
        {
            _progress.Pause();
        }
    }

    private static string OpName(Slot slot) => slot.Doing switch
    {
        null => "mmap",
        SoakOp.Touch => "touch",
        SoakOp.MbindMove => "mbind",
        SoakOp.MigratePages => "migrate_pages",
        SoakOp.SetMempolicy => "set_mempolicy",
        SoakOp.Fork => "fork",
        SoakOp.SchedSetaffinity => "sched_setaffinity",
        SoakOp.Waitpid => "waitpid",
        _ => "exit",
    };

    private Slot AdoptChild(Slot parent, int pid, IActorRef task)
    {
        var child = new Slot(parent.ForkedName!, pid, task, parent)
        {
            RoundsLeft = _random.Next(1, _workload.ChildRounds + 1), Cpu = parent.Cpu,
        };
        parent.HasChild = true;
        _slots.Add(child);
        _bySender[task] = child;
        return child;
    }

    /// <summary>exit() answered: the child is a zombie until its parent's waitpid() in a later round.</summary>
    private void RemoveExited(Slot child)
    {
        _slots.Remove(child);
        _bySender.Remove(child.Task);
        child.Parent!.Zombie = child.Pid;
        _progress.Gone(child.Pid, child.Task);
    }

    /// <summary>ESRCH from a task's own syscall: the OOM killer chose it (oom_kill_task()). A boot task is replaced by a
    /// new one with a fresh working set, so the pressure stays; a child is left for its parent to reap.</summary>
    private void Killed(Slot slot)
    {
        _slots.Remove(slot);
        _bySender.Remove(slot.Task);
        _progress.Gone(slot.Pid, slot.Task);
        if (slot.Parent is { } parent)
        {
            parent.Zombie = slot.Pid;
            return;
        }
        Spawn($"t{slot.Index}.r{++_respawned}", slot.Index);
    }

    /// <summary>One syscall from every task, in slot order (the order they are sent is the driver's; the order they run
    /// is the scheduler's).</summary>
    private void PlayRound()
    {
        foreach (var slot in _slots.ToArray())
        {
            var call = Choose(slot);
            Send(slot, call);
        }
    }

    private Syscall Choose(Slot slot)
    {
        if (slot.Zombie is { } zombie)
        {
            slot.Zombie = null;
            slot.HasChild = false;
            slot.Doing = SoakOp.Waitpid;
            return new Waitpid(zombie, NoHang: false);
        }
        if (slot.Parent is not null)
        {
            return ChildStep(slot);
        }

        var op = Pick();
        if (op == SoakOp.Fork && slot.HasChild)
        {
            op = SoakOp.Touch;
        }

        slot.Doing = op;
        var nodes = _machine.Topology.Nodes;
        return op switch
        {
            SoakOp.Touch => Touch(),
            SoakOp.MbindMove => MbindMove(nodes),
            SoakOp.MigratePages => MigrateOneNode(nodes),
            SoakOp.SetMempolicy => SetPolicy(nodes),
            SoakOp.SchedSetaffinity => MoveToAnotherNode(slot),
            _ => Fork(slot),
        };
    }

    /// <summary>A child touches its parent's range (COW breaks on stores) until its rounds are spent, then exits.</summary>
    private Syscall ChildStep(Slot child)
    {
        if (child.RoundsLeft-- > 0)
        {
            child.Doing = SoakOp.Touch;
            return Touch();
        }
        child.Exiting = true;
        child.Doing = SoakOp.Exit;
        return new Exit(0);
    }

    private SoakOp Pick()
    {
        var total = _workload.Weights.Sum(w => w.Weight);
        var draw = _random.Next(total);
        foreach (var (op, weight) in _workload.Weights)
        {
            if (draw < weight)
            {
                return op;
            }

            draw -= weight;
        }
        return SoakOp.Touch;
    }

    private Touch Touch()
    {
        var ws = _workload.WorkingSetPages;
        var pages = _workload.TouchPages;
        var hot = Math.Max(pages, ws / 8);
        var span = _random.Next(100) < _workload.HotPercent ? hot : ws;
        var first = _random.Next(Math.Max(1, span - pages + 1));
        var write = _random.Next(100) < _workload.WritePercent;
        return new Touch(Base + (ulong)first * MmConstants.PageSize, pages, write);
    }

    private Mbind MbindMove(int nodes)
    {
        var pages = _workload.MovePages;
        var first = _random.Next(Math.Max(1, _workload.WorkingSetPages - pages + 1));
        var node = _random.Next(nodes);
        return new Mbind(Base + (ulong)first * MmConstants.PageSize, (ulong)pages * MmConstants.PageSize,
            (int)MpolMode.Bind, NodeMask.Of(node), MaxNode, NodemaskFault: false, (int)MpolFlags.Move);
    }

    /// <summary>migrate_pages(0, {from}, {to}) of the caller's own pages between two different nodes (on a one-node
    /// machine, from the node to itself, which moves nothing).</summary>
    private MigratePages MigrateOneNode(int nodes)
    {
        var from = _random.Next(nodes);
        var to = nodes == 1 ? from : (from + 1 + _random.Next(nodes - 1)) % nodes;
        return new MigratePages(0, MaxNode, NodeMask.Of(from), NodeMask.Of(to), NodemaskFault: false);
    }

    private SetMempolicy SetPolicy(int nodes) => _random.Next(3) switch
    {
        0 => new SetMempolicy((int)MpolMode.Default, null, MaxNode, NodemaskFault: false),
        1 => new SetMempolicy((int)MpolMode.Preferred, NodeMask.Of(_random.Next(nodes)), MaxNode, NodemaskFault: false),
        _ => new SetMempolicy((int)MpolMode.Interleave, NodeMask.FirstN(nodes), MaxNode, NodemaskFault: false),
    };

    /// <summary>sched_setaffinity(0, {cpu}) to a CPU of another node (on a one-node machine, another CPU or the same).</summary>
    private SchedSetaffinity MoveToAnotherNode(Slot slot)
    {
        var t = _machine.Topology;
        var here = t.CpuToNode(slot.Cpu);
        var others = Enumerable.Range(0, t.Cpus).Where(c => t.Nodes == 1 || t.CpuToNode(c) != here).ToArray();
        slot.MovingTo = others[_random.Next(others.Length)];
        return new SchedSetaffinity(slot.MovingTo);
    }

    private Fork Fork(Slot parent)
    {
        parent.ForkedName = $"{parent.Name}.c{++_children}";
        return new Fork(parent.ForkedName);
    }
}

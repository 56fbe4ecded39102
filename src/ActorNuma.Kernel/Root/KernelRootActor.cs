
namespace ActorNuma.Kernel;

/// <summary>Boots the machine: one <see cref="NumaNodeActor"/> per node, the <see cref="SwapDeviceActor"/>, and the tasks
/// asked for; all are its children, so that in deterministic mode they are created synchronously.</summary>
public sealed partial class KernelRootActor : KernelActor
{
    private readonly KernelMachine _machine;

    private readonly ReplyRegistry _replies = new("kernel root");

    public KernelRootActor(KernelMachine machine) : base(machine) => _machine = machine;

    public static Props Props(KernelMachine machine) =>
        Akka.Actor.Props.Create(() => new KernelRootActor(machine)).OnKernelDispatcher();

    /// <summary>An exception in a kernel actor is a kernel BUG: the actor stops (a restart would lose its frames or page
    /// table) and the run reports it.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => KernelBugStrategy(_machine);

    internal static SupervisorStrategy KernelBugStrategy(KernelMachine machine) =>
        new OneForOneStrategy(ex =>
        {
            machine.ReportBug($"kernel BUG: {ex.GetType().Name}: {ex.Message}");
            return Directive.Stop;
        });

    /// <summary>The root's own exception is a kernel BUG too. Its supervisor is the user guardian, whose default
    /// strategy restarts it: the task list, the waiters and the OOM killer's state would be lost without a word, and
    /// the machine would stall. The root stops instead, as the actors it supervises do, and the run reports it.</summary>
    protected override bool AroundReceive(Receive receive, object message)
    {
        try
        {
            return base.AroundReceive(receive, message);
        }
        catch (Exception ex)
        {
            _machine.ReportBug($"kernel BUG: {ex.GetType().Name}: {ex.Message} (kernel root)");
            Context.Stop(Self);
            return true;
        }
    }

    protected override void PreStart()
    {
        var nodes = Enumerable.Range(0, _machine.Topology.Nodes)
            .Select(n => Context.ActorOf(NumaNodeActor.Props(_machine, n), $"node{n}"))
            .ToArray();
        var swap = Context.ActorOf(SwapDeviceActor.Props(_machine), "swap");
        _machine.Directory.SetMachine(Self, nodes, swap);
        var t = _machine.Topology;
        _machine.Trace.Emit("boot", $"nodes={t.Nodes} cpus={t.Cpus} pages_per_node={t.PagesPerNode} swap_slots={_machine.Settings.SwapSlots} " +
            $"profile={_machine.Profile.Name} min_free_kbytes={_machine.Settings.EffectiveMinFreeKbytes} " +
            $"watermarks={_machine.Settings.WatermarksOf(0)}");
    }

    protected override void OnKernelMessage(object message)
    {
        switch (message)
        {
            case KernelRoot.SpawnTask m:
                if (m.Cpu < 0 || m.Cpu >= _machine.Topology.Cpus)
                {
                    // A bad request from outside must not fail the root: its supervisor would restart it, rebooting the
                    // machine under every task.
                    Sender.Tell(new KernelRoot.SpawnRefused(m.Name, Errno.EINVAL, $"no cpu {m.Cpu} (the machine has {_machine.Topology.Cpus})"));
                    break;
                }
                var pid = _machine.AllocPid();
                var state = new TaskState(pid, m.Name) { Cpu = m.Cpu, SysNice = m.SysNice, Uid = m.Uid, Euid = m.Euid, Suid = m.Euid };
                Sender.Tell(new KernelRoot.TaskSpawned(pid, m.Name, Create(state)));
                break;
            case KernelRoot.CreateTask m:
                m.ReplyTo.Tell(new KernelRoot.TaskCreated(m.Token, m.State.Pid, Create(m.State)));
                break;
            case KernelRoot.OutOfMemory m: HandleOutOfMemory(m); break;
            case IKernelReply m: _replies.Deliver(m); break;
            case KernelRoot.TaskExited m: HandleTaskExited(m); break;
            case KernelRoot.FindTaskMm m: HandleFindTaskMm(m); break;
            case KernelRoot.Wait4 m: HandleWait4(m); break;
            case KernelRoot.ExitMm m: HandleExitMm(m); break;
            case KernelRoot.CancelWait4 m: HandleCancelWait4(m); break;
            default:
                Unhandled(message);
                break;
        }
    }

    private IActorRef Create(TaskState state)
    {
        // Registered before the actor exists (its constructor registers again, for actors made outside the root): a
        // checkpoint right after fork must see the child's page table, and the constructor runs later.
        _machine.Register(state);
        // What the task list and the trace need of the new task is read now: once its actor exists, the state is its.
        var (pid, newTask) = (state.Pid, $"pid={state.Pid} name={state.Name} cpu={state.Cpu} sys_nice={(state.SysNice ? 1 : 0)}");
        var proc = NewProc(state);
        var task = Context.ActorOf(NumaTaskActor.Props(_machine, state), $"task{pid}");
        _machine.Directory.AddTask(pid, task);
        _tasks[pid] = task;
        _procs[pid] = proc(task);
        _machine.Trace.Emit("task_new", newTask);
        return task;
    }
}

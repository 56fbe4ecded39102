using Akka.Actor;
using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Scenarios;
using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Simulation.Run;

/// <summary>Plays a scenario's timeline against the kernel: spawns the tasks, sends each step's syscall to its task
/// (waiting for it, or not with <c>async</c>), evaluates expectations, and asks for a checkpoint whenever no step is
/// outstanding, so the checkers see quiescent states.</summary>
public sealed class ScenarioDriverActor : UntypedActor, IWithTimers
{
    private readonly KernelMachine _machine;
    private readonly ScenarioSpec _scenario;
    private readonly RunProgress _progress;
    private readonly Dictionary<string, (int Pid, IActorRef Ref)> _tasks = new();
    private readonly Dictionary<IActorRef, Queue<int>> _inflight = new();
    private readonly Dictionary<int, StepSpec> _outstanding = new();
    private int _next;
    private readonly Dictionary<int, long> _started = new();
    private StepSpec? _waitingFor;

    public ScenarioDriverActor(KernelMachine machine, ScenarioSpec scenario, RunProgress progress)
    {
        _machine = machine;
        _scenario = scenario;
        _progress = progress;
    }

    public static Props Props(KernelMachine machine, ScenarioSpec scenario, RunProgress progress) =>
        Akka.Actor.Props.Create(() => new ScenarioDriverActor(machine, scenario, progress)).OnKernelDispatcher();

    public ITimerScheduler Timers { get; set; } = null!;

    public sealed record Start;
    public sealed record CheckpointDone;
    private sealed record Advanced(int Index);
    private sealed record StepReply(int Index, SyscallResult Result);
    private sealed record Finished;

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Start: SpawnTasks(); break;
            case KernelRoot.TaskSpawned m:
                _tasks[m.Name] = (m.Pid, m.Task);
                if (_tasks.Count == _scenario.Tasks.Count)
                {
                    Checkpoint();
                }

                break;
            case KernelRoot.SpawnRefused m: _progress.Fail($"task {m.Name} could not be created: {m.Reason}"); break;
            case CheckpointDone: RunSteps(); break;
            case SyscallResult r: OnStepReply(new StepReply(_inflight[Sender].Dequeue(), r)); break;
            case Resumed m: OnStepReply(new StepReply(m.Tag, m.Result)); break;
            case PagesReport m: OnPagesReport(m); break;
            case Advanced m:
                _machine.Activity.TimerDone();
                StepDone(m.Index);
                break;
            default: Unhandled(message); break;
        }
    }

    private void SpawnTasks()
    {
        if (_scenario.Tasks.Count == 0) { Checkpoint(); return; }
        foreach (var t in _scenario.Tasks)
        {
            _machine.Directory.Kernel.Tell(new KernelRoot.SpawnTask(t.Name, t.Cpu, t.SysNice, t.Uid, t.Euid));
        }
    }

    private void Checkpoint() => _progress.RequestCheckpoint();

    /// <summary>Runs steps until one has to wait (a synchronous syscall, an expectation, a wait or an advance).</summary>
    private void RunSteps()
    {
        while (_waitingFor is null)
        {
            if (_next >= _scenario.Steps.Count)
            {
                if (_outstanding.Count == 0) { _progress.Finish(); return; }
                return;
            }
            var step = _scenario.Steps[_next++];
            _progress.CurrentStep = step.Index;
            _started[step.Index] = System.Diagnostics.Stopwatch.GetTimestamp();
            try { Begin(step); }
            catch (StepError e) { Record(step, null, null, ok: false, e.Message); }
        }
    }

    private sealed class StepError(string message) : Exception(message);

    private void Begin(StepSpec step)
    {
        switch (step.Op)
        {
            case StepOp.Wait:
                if (_outstanding.Count > 0)
                {
                    _waitingFor = step;
                }
                else
                {
                    Record(step, null, null, ok: true, null);
                }

                return;
            case StepOp.Advance:
                _waitingFor = step;
                // Counted as a pending timer: in concurrent mode an advance with the kernel at rest is not a stall. It
                // runs where kernel timers run, so it measures the same time as the device's latencies.
                _machine.Activity.TimerStarted();
                var time = step.Time ?? TimeSpan.Zero;
                if (_machine.TimerLoop is { } loop)
                {
                    loop.Post(_machine.Trace.Now + time, Self, new Advanced(step.Index));
                }
                else
                {
                    Timers.StartSingleTimer("advance", new Advanced(step.Index), time);
                }

                return;
            case StepOp.ExpectPages:
                _waitingFor = step;
                Task(step).Ref.Tell(new QueryPages(step.Addr ?? 0, step.Pages ?? 0, SwapCache: step.ExpectSwapCache is not null));
                return;
            case StepOp.ExpectVmstat:
                CheckVmstat(step);
                return;
            case StepOp.Resume:
                // SIGCONT is a signal, not a syscall the task queues: it overtakes what the stopped task holds.
                if (step.Async)
                {
                    _outstanding[step.Index] = step;
                }
                else
                {
                    _waitingFor = step;
                }

                Task(step).Ref.Tell(new Resume(step.Index), Self);
                return;
        }
        var (_, target) = Task(step);
        var call = Syscall(step);
        var index = step.Index;
        // A task answers its syscalls in order, so the replies of one task match the queue of its steps. (No Ask: its
        // continuation would leave the deterministic thread.)
        if (!_inflight.TryGetValue(target, out var queue))
        {
            _inflight[target] = queue = new Queue<int>();
        }

        queue.Enqueue(index);
        target.Tell(call, Self);
        if (step.Async)
        {
            _outstanding[index] = step;
        }
        else
        {
            _waitingFor = step;
        }
    }

    private (int Pid, IActorRef Ref) Task(StepSpec step)
    {
        if (step.Task is null || !_tasks.TryGetValue(step.Task, out var t))
        {
            throw new StepError($"{step.Location}: no task named {step.Task}");
        }

        return t;
    }

    private Syscall Syscall(StepSpec s)
    {
        const int maxnode = NodeMask.MaxNumNodes + 1;
        var addr = s.Addr ?? 0;
        return s.Op switch
        {
            StepOp.Mmap => new Mmap(addr, s.Pages ?? 0),
            StepOp.Munmap => new Munmap(addr, s.Len ?? (ulong)(s.Pages ?? 0) * MmConstants.PageSize),
            StepOp.Touch => new Touch(addr, s.Pages ?? 0, s.Write),
            StepOp.Mbind => new Mbind(addr, s.Len ?? (ulong)(s.Pages ?? 0) * MmConstants.PageSize, s.Mode ?? 0, s.Nodes,
                s.MaxNode ?? maxnode, s.NodemaskFault, s.Flags),
            StepOp.SetMempolicy => new SetMempolicy(s.Mode ?? 0, s.Nodes, s.MaxNode ?? maxnode, s.NodemaskFault),
            StepOp.GetMempolicy => new GetMempolicy(s.Flags, addr, s.MaxNode ?? maxnode, NodemaskGiven: true),
            StepOp.SchedSetaffinity => new SchedSetaffinity(s.Cpu ?? 0),
            StepOp.Swapout => new Swapout(addr, s.Pages ?? 0),
            StepOp.Exit => new Exit(s.ExitStatus ?? 0),
            StepOp.Waitpid => new Waitpid(s.TargetTask is null ? s.TargetPid ?? -1 : TargetPid(s), s.NoHang),
            StepOp.Fork => new Fork(s.Child ?? "child"),
            StepOp.MigratePages => new MigratePages(TargetPid(s), s.MaxNode ?? maxnode, s.OldNodes, s.NewNodes, s.NodemaskFault),
            StepOp.Suspend => new Suspend(),
            StepOp.OfflineNode => new OfflineNode(s.Node ?? -1),
            StepOp.OnlineNode => new OnlineNode(s.Node ?? -1),
            StepOp.InjectEcc => new InjectEcc(s.Node ?? -1, s.Pfn ?? -1),
            StepOp.MovePages => new MovePages(TargetPid(s), s.MoveCount ?? (ulong)(s.MoveAddrs?.Count ?? 0), [.. s.MoveAddrs ?? []],
                s.MoveTo is null ? null : [.. s.MoveTo], s.Flags, s.MoveFault),
            _ => throw new StepError($"{s.Location}: op {s.OpName} is not a syscall"),
        };
    }

    private int TargetPid(StepSpec s)
    {
        if (s.TargetTask is null)
        {
            return s.TargetPid ?? 0;
        }

        if (!_tasks.TryGetValue(s.TargetTask, out var t))
        {
            throw new StepError($"{s.Location}: no task named {s.TargetTask}");
        }

        return t.Pid;
    }

    private void OnStepReply(StepReply m)
    {
        var step = _scenario.Steps[m.Index];
        var r = m.Result;
        if (step.Op == StepOp.Fork && r.ChildPid is { } pid && _machine.Directory.Task(pid) is { } child)
        {
            _tasks[step.Child ?? "child"] = (pid, child);
        }

        var (ok, message) = Evaluate(step.Expect, r);
        Record(step, r.Ret, r.Errno, ok, message, SyscallValue.Of(r), Expected(step.Expect));
        StepDone(m.Index);
    }

    private void StepDone(int index)
    {
        if (_waitingFor?.Index == index)
        {
            _waitingFor = null;
        }

        if (_outstanding.Remove(index) && _waitingFor is { Op: StepOp.Wait } w && _outstanding.Count == 0)
        {
            Record(w, null, null, ok: true, null);
            _waitingFor = null;
        }
        if (_waitingFor is not null)
        {
            return;
        }

        if (_outstanding.Count == 0)
        {
            Checkpoint();
        }
        else
        {
            RunSteps();
        }
    }

    private static (bool, string?) Evaluate(ExpectSpec? e, SyscallResult r)
    {
        if (e is null)
        {
            return (true, null);
        }

        var problems = new List<string>();
        if (e.Ret is { } ret && r.Ret != ret)
        {
            problems.Add($"ret {r.Ret}, expected {ret}");
        }

        if (e.Errno is { } errno && r.Errno != errno)
        {
            problems.Add($"errno {Name(r.Errno)}, expected {Name(errno)}");
        }

        if (e.Errno is null && e.Ret is >= 0 && r.Errno != Errno.None)
        {
            problems.Add($"errno {Name(r.Errno)}, expected success");
        }

        if (e.Mode is { } mode && (r.Mode is null || (int)r.Mode != mode))
        {
            problems.Add($"mode {Mode(r.Mode)}, expected {Mode((MpolMode)mode)}");
        }

        if (e.Nodes is { } nodes && r.Nodes != nodes)
        {
            problems.Add($"nodes [{r.Nodes}], expected [{nodes}]");
        }

        if (e.Node is { } node && r.Node != node)
        {
            problems.Add($"node {r.Node?.ToString() ?? "none"}, expected {node}");
        }

        if (e.Status is { } status && (r.Status is null || !r.Status.SequenceEqual(status)))
        {
            problems.Add($"status [{(r.Status is null ? "not copied" : StatusText(r.Status))}], expected [{StatusText(status)}]");
        }

        return problems.Count == 0 ? (true, null) : (false, string.Join("; ", problems));
    }

    private static string Name(Errno e) => e == Errno.None ? "0" : e.ToString();

    /// <summary>move_pages statuses as the scenario writes them: nodes as numbers, errors by name.</summary>
    private static string StatusText(IEnumerable<int> status) =>
        string.Join(", ", status.Select(s => s >= 0 ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : Name((Errno)(-s))));
    private static string Mode(MpolMode? m) => m is null ? "none" : MemPolicy.ModeName(m.Value);

    private void OnPagesReport(PagesReport m)
    {
        var step = _waitingFor!;
        var problems = new List<string>();
        if (step.ExpectNodes is { } nodes)
        {
            // The nodes listed are all the nodes the range's present pages may be on: one on a node left out fails too.
            foreach (var node in nodes.Keys.Union(m.PerNode.Keys).Order())
            {
                var got = m.PerNode.GetValueOrDefault(node);
                var want = nodes.GetValueOrDefault(node);
                if (got != want)
                {
                    problems.Add($"node {node} has {got} pages, expected {want}{(nodes.ContainsKey(node) ? "" : " (not listed)")}");
                }
            }
        }
        if (step.ExpectSwapped is { } sw && m.Swapped != sw)
        {
            problems.Add($"{m.Swapped} pages swapped out, expected {sw}");
        }

        if (step.ExpectSwapCache is { } sc && m.SwapCache != sc)
        {
            problems.Add($"{m.SwapCache} pages in the swap cache, expected {sc}");
        }

        var value = new PageCounts
        {
            Nodes = PageCounts.ByNode(m.PerNode), Swapped = m.Swapped, NotPresent = m.NotPresent, Swapcache = m.SwapCache,
        };
        var expected = new PageCounts
        {
            Nodes = step.ExpectNodes is { } wanted ? PageCounts.ByNode(wanted) : null, Swapped = step.ExpectSwapped,
            Swapcache = step.ExpectSwapCache,
        };
        Record(step, null, null, problems.Count == 0, problems.Count == 0 ? null : string.Join("; ", problems), value, expected);
        StepDone(step.Index);
    }

    private void CheckVmstat(StepSpec step)
    {
        var vmstat = KernelStats.Vmstat(_machine);
        var problems = new List<string>();
        var value = new List<KeyValuePair<string, long>>();
        foreach (var (name, want) in step.ExpectVmstat ?? new Dictionary<string, long>())
        {
            if (!vmstat.TryGetValue(name, out var got)) { problems.Add($"no counter named {name}"); continue; }
            value.Add(new(name, got));
            if (got != want)
            {
                problems.Add($"{name} is {got}, expected {want}");
            }
        }
        Record(step, null, null, problems.Count == 0, problems.Count == 0 ? null : string.Join("; ", problems), new Counters(value),
            step.ExpectVmstat is { } expected ? new Counters(expected.ToList()) : null);
    }

    private void Record(StepSpec step, long? ret, Errno? errno, bool ok, string? message,
        StepValue? value = null, StepValue? expected = null) =>
        _progress.Record(new StepResult(step.Index, step.Task, step.OpName, ret, errno, value, expected, ok, message)
        {
            Started = _started.GetValueOrDefault(step.Index),
            Ended = System.Diagnostics.Stopwatch.GetTimestamp(),
        });

    private static SyscallExpectation? Expected(ExpectSpec? e) => e is null ? null : new SyscallExpectation
    {
        Ret = e.Ret,
        Errno = e.Errno is { } errno ? Name(errno) : null,
        Mode = e.Mode is { } mode ? Mode((MpolMode)mode) : null,
        Nodes = e.Nodes?.Nodes().ToArray(),
        Node = e.Node,
        Status = e.Status is { } status ? [.. status] : null,
    };
}

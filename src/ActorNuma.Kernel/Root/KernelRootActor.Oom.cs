
namespace ActorNuma.Kernel;

/// <summary>The OOM killer: one at a time, as <c>out_of_memory</c> holds tasklist_lock. While a victim is still dying,
/// further requests wait for it (select_bad_process returns -1 for a TIF_MEMDIE task: "wait for it to die").</summary>
/// <remarks>Kernel: 2.6.14 mm/oom_kill.c out_of_memory(), select_bad_process(), badness(). badness() starts from
/// total_vm and scales by CPU and run time, niceness and capabilities; the emulator's tasks differ only in size, so the
/// largest task is chosen, the lowest pid among equals (the tasklist order).</remarks>
public sealed partial class KernelRootActor
{
    private readonly Dictionary<int, IActorRef> _tasks = new();
    private readonly List<KernelRoot.OutOfMemory> _oomWaiting = new();
    private int? _dying;
    private readonly Dictionary<int, long> _sizes = new();
    private int _sizesWaiting;
    private readonly HashSet<int> _exited = new();

    private void HandleOutOfMemory(KernelRoot.OutOfMemory m)
    {
        // The victim itself ran out while dying: it fails its fault and exits (it has TIF_MEMDIE; nothing is left).
        if (m.Pid == _dying) { m.ReplyTo.Tell(new KernelRoot.OomDone(m.Token, m.Pid)); return; }
        // 2.6.16 constrained_alloc(): an allocation its policy keeps off some node says nothing about memory as a whole;
        // the allocating task is killed, at once, whoever else is dying.
        if (m.Constrained && _machine.Profile.OomKillsConstrainedAllocator)
        {
            _machine.Trace.Emit("oom_constrained_alloc", $"task={m.Pid} constraint=memory_policy");
            m.ReplyTo.Tell(new KernelRoot.OomDone(m.Token, m.Pid));
            return;
        }
        _oomWaiting.Add(m);
        if (_dying is not null || _sizesWaiting > 0)
        {
            return;
        }

        SelectBadProcess();
    }

    private void SelectBadProcess()
    {
        _sizes.Clear();
        _sizesWaiting = _tasks.Count;
        if (_sizesWaiting == 0)
        {
            return;
        }

        var token = _replies.Expect<NumaTask.TotalVm>(_sizesWaiting, HandleTotalVm);
        foreach (var task in _tasks.Values)
        {
            task.Tell(new NumaTask.GetTotalVm(token));
        }
    }

    private void HandleTotalVm(NumaTask.TotalVm m)
    {
        if (!m.Exited)
        {
            _sizes[m.Pid] = m.Pages;
        }

        if (--_sizesWaiting > 0)
        {
            return;
        }
        // A task that finished exiting after it answered is no candidate (its TaskExited came first), nor one its
        // parent has reaped since (release_task: no longer in the task list, nor among the exited).
        foreach (var pid in _sizes.Keys.ToArray())
        {
            if (_exited.Contains(pid) || !_tasks.ContainsKey(pid))
            {
                _sizes.Remove(pid);
            }
        }

        if (_sizes.Count == 0) { Answer(victim: 0); return; }
        var victim = _sizes.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).First().Key;
        _machine.Trace.Emit("oom_select_bad_process", $"victim={victim} total_vm={_sizes[victim]} candidates={_sizes.Count}");
        _dying = victim;
        // A requester that is itself the victim fails its own faults and exits (VM_FAULT_OOM): it must not wait for
        // itself, with any of the faults of its round that ran out of memory together (each asked on its own; one
        // left waiting would hold the task's exit, and the others' answer with it). The others wait for it to exit,
        // as the kernel's retry finds a TIF_MEMDIE task and kills nobody else.
        var own = _oomWaiting.FindAll(w => w.Pid == victim);
        if (own.Count > 0)
        {
            foreach (var w in own)
            {
                _oomWaiting.Remove(w);
                w.ReplyTo.Tell(new KernelRoot.OomDone(w.Token, victim));
            }

            return;
        }
        _tasks[victim].Tell(new NumaTask.OomKill(0));
    }

    private void HandleTaskExited(KernelRoot.TaskExited m)
    {
        _exited.Add(m.Pid);
        ExitNotify(m.Pid, m.Status);
        if (_dying != m.Pid)
        {
            return;
        }

        _dying = null;
        Answer(m.Pid);
    }

    private void Answer(int victim)
    {
        foreach (var w in _oomWaiting)
        {
            w.ReplyTo.Tell(new KernelRoot.OomDone(w.Token, victim));
        }

        _oomWaiting.Clear();
    }
}

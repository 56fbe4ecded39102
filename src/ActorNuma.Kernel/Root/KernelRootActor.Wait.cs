namespace ActorNuma.Kernel;

/// <summary>The task list as tasklist_lock guards it: who is whose child, who has exited (a zombie keeps its pid until
/// it is reaped), and the parents sleeping in wait4.</summary>
/// <remarks>Kernel: 2.6.14 kernel/exit.c do_wait(), wait_task_zombie(), release_task(), forget_original_parent()
/// (children of an exiting task go to init, child_reaper, which reaps zombies as soon as they appear).</remarks>
public sealed partial class KernelRootActor
{
    /// <summary>What the task list knows of one pid until it is reaped: the ids copied when the task was created (the
    /// task's own state is its actor's to read).</summary>
    private sealed class Proc(int pid, int uid, int suid, int parent, IActorRef task)
    {
        public int Pid { get; } = pid;
        public int Uid { get; } = uid;
        public int Suid { get; } = suid;
        public IActorRef Task { get; } = task;
        public int Parent { get; set; } = parent;
        public bool Zombie { get; set; }
        /// <summary>exit_mm has run: the task is still exiting, or a zombie.</summary>
        public bool MmReleased { get; set; }
        public int Status { get; set; }
    }

    private readonly SortedDictionary<int, Proc> _procs = new();
    private readonly List<KernelRoot.Wait4> _waiters = new();

    /// <summary>A new task's entry in the task list, from the state its creator handed over (read once, before the
    /// task's actor owns it); the entry is complete once the actor exists.</summary>
    private static Func<IActorRef, Proc> NewProc(TaskState state)
    {
        var (pid, uid, suid, parent) = (state.Pid, state.Uid, state.Suid, state.ParentPid);
        return task => new Proc(pid, uid, suid, parent, task);
    }

    private void HandleFindTaskMm(KernelRoot.FindTaskMm m)
    {
        var reply = _procs.TryGetValue(m.Pid, out var p)
            ? new KernelRoot.TaskMm(m.Token, p.Task, HasMm: !p.Zombie && !p.MmReleased, p.Uid, p.Suid)
            : new KernelRoot.TaskMm(m.Token, null, HasMm: false, 0, 0);
        Sender.Tell(reply);
    }

    private void HandleExitMm(KernelRoot.ExitMm m)
    {
        if (_procs.TryGetValue(m.Pid, out var p))
        {
            p.MmReleased = true;
        }
    }

    private void HandleCancelWait4(KernelRoot.CancelWait4 m) => _waiters.RemoveAll(w => w.Parent == m.Parent);

    /// <summary>exit_notify: the task is a zombie; its children go to init (zombies among them are reaped now); a
    /// parent waiting for it reaps it; init reaps its own at once.</summary>
    private void ExitNotify(int pid, int status)
    {
        if (!_procs.TryGetValue(pid, out var p))
        {
            return;
        }

        p.Zombie = true;
        p.Status = status;
        foreach (var child in _procs.Values.Where(c => c.Parent == pid).ToArray())
        {
            child.Parent = 0;
            if (child.Zombie)
            {
                Release(child);
            }
        }
        if (p.Parent == 0) { Release(p); return; }
        var waiter = _waiters.FirstOrDefault(w => w.Parent == p.Parent && Matches(w, pid));
        if (waiter is null)
        {
            return;
        }

        _waiters.Remove(waiter);
        Reap(waiter, p);
    }

    /// <remarks>Every task is in one process group here, so pid 0 (the caller's group) and -1 both mean any child, and
    /// a group below -1 names none.</remarks>
    private void HandleWait4(KernelRoot.Wait4 m)
    {
        var children = _procs.Values.Where(c => c.Parent == m.Parent && Matches(m, c.Pid)).ToList();
        if (children.Count == 0) { m.ReplyTo.Tell(new KernelRoot.Wait4Done(m.Token, 0, 0, Errno.ECHILD)); return; }
        if (children.FirstOrDefault(c => c.Zombie) is { } zombie) { Reap(m, zombie); return; }
        if (m.NoHang) { m.ReplyTo.Tell(new KernelRoot.Wait4Done(m.Token, 0, 0, Errno.None)); return; }
        _waiters.Add(m);
    }

    private static bool Matches(KernelRoot.Wait4 w, int pid) => w.Pid is 0 or -1 || w.Pid == pid;

    /// <summary>wait_task_zombie: the parent gets the pid and the status, and the zombie is released.</summary>
    private void Reap(KernelRoot.Wait4 waiter, Proc zombie)
    {
        Release(zombie);
        waiter.ReplyTo.Tell(new KernelRoot.Wait4Done(waiter.Token, zombie.Pid, zombie.Status, Errno.None));
    }

    /// <summary>release_task: the pid is gone (<c>find_task_by_pid</c> fails from now on). The actor stays, answering
    /// rmap requests still in flight with "not mapped", as it has since exit.</summary>
    private void Release(Proc p)
    {
        _procs.Remove(p.Pid);
        _tasks.Remove(p.Pid);
        _exited.Remove(p.Pid);   // no longer a task the OOM killer could size: a soak that forks for hours keeps none
        _machine.Directory.RemoveTask(p.Pid);
        _machine.Reaped(p.Pid);
        _machine.Trace.Emit("sched_process_free", $"pid={p.Pid} status={p.Status}");
    }
}

using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Kernel;

/// <summary>fork, exit and waitpid.</summary>
public sealed partial class NumaTaskActor
{
    /// <summary><c>do_fork</c> → <c>dup_mmap</c> → <c>copy_page_range</c>: the child gets the VMAs and policies, the task
    /// policy, and every PTE; present anonymous pages become read-only in both (COW) and gain the child's mapping at
    /// their node (<c>page_dup_rmap</c>), swap entries a reference (<c>swap_duplicate</c>). Rmap requests wait until the
    /// copy is done, as the page table locks held by copy_page_range make them.</summary>
    private void DoFork(Fork m)
    {
        if (ForkWaitsForMigration(m))
        {
            return;
        }

        LockPageTablesForFork();
        var childPid = _machine.AllocPid();
        var child = new TaskState(childPid, m.ChildName)
        {
            OwnVmas = _state.OwnVmas.Clone(),
            Policy = _state.Policy,
            Cpu = _state.Cpu,
            SysNice = _state.SysNice,
            Uid = _state.Uid,
            Euid = _state.Euid,
            Suid = _state.Suid,
            ParentPid = Pid,
        };
        var byNode = new Dictionary<int, List<int>>();
        var slots = new List<int>();
        foreach (var (vpn, pte) in _state.OwnPageTable.Entries().ToArray())
        {
            var copy = pte;
            if (pte.IsSwap)
            {
                slots.Add(pte.SwapSlot);
            }
            else
            {
                copy = pte.WrProtect();
                _state.OwnPageTable.Set(vpn, copy);
                if (pte.Pfn != Topology.ZeroPfn)
                {
                    var nid = Topology.PfnToNid(pte.Pfn);
                    if (!byNode.TryGetValue(nid, out var list))
                    {
                        byNode[nid] = list = new();
                    }

                    list.Add(pte.Pfn);
                }
            }
            child.OwnPageTable.Set(vpn, copy);
            child.OwnPageTable.SetLastWritten(vpn, _state.OwnPageTable.LastWritten(vpn));
        }
        Directory.Kernel.Tell(new KernelRoot.CreateTask(Expect<KernelRoot.TaskCreated>(_ =>
        {
            var done = Join(byNode.Count + (slots.Count > 0 ? 1 : 0), () =>
            {
                UnlockPageTables(() =>
                {
                    Trace.Emit("sched_process_fork", $"parent={Pid} child={childPid} name={m.ChildName}");
                    Complete(SyscallResult.Ok(childPid) with { ChildPid = childPid });
                });
            });
            foreach (var (nid, pfns) in byNode)
            {
                Directory.Node(nid).Tell(new NumaNode.PageDupRmap(Expect<NumaNode.PageDupRmapDone>(_ => done()), Self, childPid, pfns.ToArray()));
            }

            if (slots.Count > 0)
            {
                Directory.Swap.Tell(new SwapDevice.SwapDuplicateAndForward(slots.ToArray(), Self, new StepDone(Expect<StepDone>(_ => done()))));
            }
        }), Self, child));
    }

    /// <summary><c>do_exit</c> → <c>exit_mmap</c>: every mapping is torn down, pages and swap slots released; then
    /// <c>exit_notify</c> tells the task list, where the task is a zombie until its parent reaps it. The actor stays and
    /// answers rmap requests still in flight with "not mapped".</summary>
    /// <remarks>The wait status is the exit code in bits 8-15, or the signal that killed the task (SIGKILL, 9, from the
    /// OOM killer or do_page_fault's VM_FAULT_OOM).</remarks>
    private void DoExit(SyscallResult result)
    {
        const int sigkill = 9;
        var status = _state.OomKilled ? sigkill : (((_current as Exit)?.Status ?? 0) & 0xff) << 8;
        // exit_mm() comes first in do_exit: from here on get_task_mm() finds no mm (migrate_pages: EINVAL).
        Directory.Kernel.Tell(new KernelRoot.ExitMm(Pid));
        var ranges = _state.OwnVmas.All.Select(v => (v.Start, v.End)).ToArray();
        ZapRange(ranges, () =>
        {
            foreach (var (start, end) in ranges)
            {
                _state.OwnVmas.Unmap(start, end);
            }

            _state.Policy = null;
            _state.Exited = true;
            Directory.Kernel.Tell(new KernelRoot.TaskExited(Pid, status));
            Trace.Emit("sched_process_exit", $"task={Pid} name={_state.Name} oom={(_state.OomKilled ? 1 : 0)}");
            var queued = _queue.ToArray();
            _queue.Clear();
            Complete(result);
            foreach (var (_, replyTo) in queued)
            {
                replyTo.Tell(SyscallResult.Fail(Errno.ESRCH));
            }
        });
    }

    /// <summary><c>sys_wait4</c>: the task list reaps a zombie child or puts this task to sleep until one exits.</summary>
    /// <remarks>A SIGKILL (the OOM killer) ends the wait without reaping: see <see cref="InterruptWait"/>; an answer
    /// the task list sent before it heard of that finds another syscall current and is dropped.</remarks>
    private void DoWaitpid(Waitpid m) =>
        Directory.Kernel.Tell(new KernelRoot.Wait4(Expect<KernelRoot.Wait4Done>(done =>
        {
            if (!ReferenceEquals(_current, m))
            {
                return;
            }

            Complete(done.Errno != Errno.None ? SyscallResult.Fail(done.Errno)
                : done.Pid == 0 ? SyscallResult.Ok(0)
                : SyscallResult.Ok(done.Pid) with { WaitStatus = done.Status });
        }), Self, Pid, m.Pid, m.NoHang));

    /// <summary>do_wait's sleep ends on a pending SIGKILL (-ERESTARTSYS, never seen by user space: the task exits on its
    /// way out). The step records EINTR.</summary>
    private void InterruptWait()
    {
        Directory.Kernel.Tell(new KernelRoot.CancelWait4(Pid));
        Complete(SyscallResult.Fail(Errno.EINTR));
    }
}

using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Kernel;

/// <summary>fork and exit.</summary>
public sealed partial class NumaTaskActor
{
    private bool _forking;
    private readonly Queue<object> _deferredRmap = new();

    /// <summary><c>do_fork</c> → <c>dup_mmap</c> → <c>copy_page_range</c>: the child gets the VMAs and policies, the task
    /// policy, and every PTE; present anonymous pages become read-only in both (COW) and gain the child's mapping at
    /// their node (<c>page_dup_rmap</c>), swap entries a reference (<c>swap_duplicate</c>). Rmap requests wait until the
    /// copy is done, as the page table locks held by copy_page_range make them.</summary>
    private void DoFork(Fork m)
    {
        _forking = true;
        var childPid = _machine.AllocPid();
        var child = new TaskState(childPid, m.ChildName)
        {
            Vmas = _state.Vmas.Clone(),
            Policy = _state.Policy,
            Cpu = _state.Cpu,
            SysNice = _state.SysNice,
        };
        var byNode = new Dictionary<int, List<int>>();
        var slots = new List<int>();
        foreach (var (vpn, pte) in _state.PageTable.Entries().ToArray())
        {
            var copy = pte;
            if (pte.IsSwap) slots.Add(pte.SwapSlot);
            else
            {
                copy = pte.WrProtect();
                _state.PageTable.Set(vpn, copy);
                if (pte.Pfn != Topology.ZeroPfn)
                {
                    var nid = Topology.PfnToNid(pte.Pfn);
                    if (!byNode.TryGetValue(nid, out var list)) byNode[nid] = list = new();
                    list.Add(pte.Pfn);
                }
            }
            child.PageTable.Set(vpn, copy);
            child.PageTable.SetLastWritten(vpn, _state.PageTable.LastWritten(vpn));
        }
        RequestOnce(Directory.Kernel, t => new KernelRoot.CreateTask(t, Self, child), _ =>
        {
            var done = Join(byNode.Count + (slots.Count > 0 ? 1 : 0), () =>
            {
                _forking = false;
                Trace.Emit("sched_process_fork", $"parent={Pid} child={childPid} name={m.ChildName}");
                Complete(SyscallResult.Ok(childPid) with { ChildPid = childPid });
                while (_deferredRmap.Count > 0) OnReceive(_deferredRmap.Dequeue());
            });
            foreach (var (nid, pfns) in byNode)
                RequestOnce(Directory.Node(nid), t => new NumaNode.PageDupRmap(t, Self, childPid, pfns.ToArray()), _ => done());
            if (slots.Count > 0)
                RequestOnce(Directory.Swap, t => new SwapDevice.SwapDuplicateAndForward(slots.ToArray(), Self, new StepDone(t)), _ => done());
        });
    }

    /// <summary><c>do_exit</c> → <c>exit_mmap</c>: every mapping is torn down, pages and swap slots released. The actor
    /// stays as a zombie that answers rmap requests still in flight with "not mapped".</summary>
    private void DoExit(SyscallResult result)
    {
        var ranges = _state.Vmas.All.Select(v => (v.Start, v.End)).ToArray();
        ZapRange(ranges, () =>
        {
            foreach (var (start, end) in ranges) _state.Vmas.Unmap(start, end);
            _state.Policy = null;
            _state.Exited = true;
            Directory.Kernel.Tell(new KernelRoot.TaskExited(Pid));
            Trace.Emit("sched_process_exit", $"task={Pid} name={_state.Name} oom={(_state.OomKilled ? 1 : 0)}");
            var queued = _queue.ToArray();
            _queue.Clear();
            Complete(result);
            foreach (var (_, replyTo) in queued) replyTo.Tell(SyscallResult.Fail(Errno.ESRCH));
        });
    }
}

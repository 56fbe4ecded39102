using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>Allocation from the task's side: the plan of <c>alloc_page_vma</c>, 2.6.14 <c>__alloc_pages</c> with its
/// slow path, and the OOM kill of the faulting task.</summary>
public sealed partial class NumaTaskActor
{
    /// <summary>After the pages_low pass failed on every node: <c>wakeup_kswapd</c> for each zone of the zonelist, then
    /// the pages_min pass. After that failed: direct reclaim (<c>try_to_free_pages</c>, <c>rebalance</c>). With progress
    /// (32 pages reclaimed) another pages_min pass, and if that fails too, <c>blk_congestion_wait(WRITE, HZ/50)</c> and
    /// reclaim again; with none, one try at pages_high, then <c>out_of_memory()</c> and <c>goto restart</c>.</summary>
    /// <remarks>Kernel: 2.6.14 mm/page_alloc.c __alloc_pages(). A user page fault is GFP_HIGHUSER: order 0, __GFP_WAIT
    /// and __GFP_FS, no __GFP_HIGH, no __GFP_NORETRY, and an ordinary task cannot try harder, so the pages_min pass
    /// checks the plain mark and the allocation retries until it gets a page or its task is killed.</remarks>
    private void AllocSlowPath(AllocPlan plan, AllocItem[] items, AllocPurpose purpose, TouchOp op, AllocPass failed,
        Action<AllocatedPage> onPage, Action<SwapCacheMapped> onMapped, Action<SwapInRaced> onRaced, Action<AllocItem[]> onOom,
        Action completed)
    {
        // The pages_min pass after a reclaim that made progress carries its onOom wrapped in an AfterReclaim, which is
        // how its failure is told from the first pages_min pass.
        var afterReclaim = onOom.Target as AfterReclaim;
        if (afterReclaim is not null)
        {
            onOom = afterReclaim.OnOom;
        }
        // A task the OOM killer chose (TIF_MEMDIE), or one of whose faults already ended in VM_FAULT_OOM (it dies on
        // the way back to user space; the emulator only runs its other faults of the round in parallel), never
        // reclaims: after the pages_min pass __alloc_pages lets it take a page below the watermarks, and without one
        // the allocation fails. (The reserve below pages_min is not modelled: the fault fails at once.)
        if (failed != AllocPass.Low && (_state.OomKilled || op.Oom))
        {
            onOom(items);
            completed();
            return;
        }
        switch (failed)
        {
            case AllocPass.Low:
                WakeupKswapds(plan.Zonelist);
                Allocate(plan, items, purpose, op, onPage, onMapped, onRaced, onOom, AllocPass.Min, completed);
                break;
            case AllocPass.Min:
                void Rebalance() => TryToFreePages(plan.Zonelist, progress =>
                {
                    if (progress > 0)
                    {
                        Allocate(plan, items, purpose, op, onPage, onMapped, onRaced, new AfterReclaim(onOom).Invoke, AllocPass.Min, completed);
                    }
                    else
                    {
                        Allocate(plan, items, purpose, op, onPage, onMapped, onRaced, onOom, AllocPass.High, completed);
                    }
                });
                if (afterReclaim is not null)
                {
                    CongestionWait(VmScan.RebalanceWait, Rebalance);   // do_retry: order 0 <= 3
                }
                else
                {
                    Rebalance();
                }

                break;
            default:
                OutOfMemory(plan.Zonelist,
                    restart: () => Allocate(plan, items, purpose, op, onPage, onMapped, onRaced, onOom, AllocPass.Low, completed),
                    killed: () => { onOom(items); completed(); });
                break;
        }
    }

    /// <summary>Marks the pages_min pass that follows a direct reclaim with progress.</summary>
    private sealed class AfterReclaim(Action<AllocItem[]> onOom)
    {
        public Action<AllocItem[]> OnOom { get; } = onOom;
        public void Invoke(AllocItem[] items) => OnOom(items);
    }

    /// <summary>VM_FAULT_OOM on a user fault: 2.6.14 x86 do_page_fault kills the faulting task ("VM: killing process").</summary>
    private void OomKillSelf()
    {
        if (!_state.OomKilled)
        {
            _state.OomKilled = true;
            Count(VmEvent.EmuOomKill);
            Trace.Emit("oom_kill_process", $"task={Pid} name={_state.Name} reason=fault");
        }
        _log.Warning("VM: killing process {Task} ({Name}): out of memory on a page fault", Pid, _state.Name);
        DoExit(SyscallResult.Fail(Errno.ENOMEM));
    }

    /// <summary>The OOM killer's SIGKILL: the task exits once its current syscall is done. A task already killed
    /// (TIF_MEMDIE) is not killed twice.</summary>
    private void HandleOomKill(OomKill m)
    {
        if (_state.Exited || _state.OomKilled)
        {
            return;
        }

        _state.OomKilled = true;
        Count(VmEvent.EmuOomKill);
        Trace.Emit("oom_kill_process", $"task={Pid} name={_state.Name} reason=oom_killer");
        if (_current is null) { _current = new Exit(); DoExit(SyscallResult.Fail(Errno.ENOMEM)); }
        else
        {
            _killPending = true;
            if (_current is Waitpid)
            {
                InterruptWait();
            }
        }
    }

    private bool _killPending;

    /// <summary>The allocation plan of <c>alloc_page_vma(vma, addr)</c> under the policy in force now.</summary>
    private AllocPlan Plan(Vma vma, ulong vpn)
    {
        var policy = PolicyAllocation.EffectivePolicy(vma, _state.Policy);
        return PolicyAllocation.PlanAllocVma(policy, vma, vpn << MmConstants.PageShift, CpuNode, _machine.Zonelists, ref _ilNext);
    }

    /// <summary>2.6.14 <c>__alloc_pages</c> from the task's side: the zonelist at pages_low; when every node refuses,
    /// wake their kswapds and go again at pages_min; when that fails too, reclaim directly, then the OOM path.</summary>
    private void Allocate(AllocPlan plan, AllocItem[] items, AllocPurpose purpose, TouchOp op,
        Action<AllocatedPage> onPage, Action<SwapCacheMapped> onMapped, Action<SwapInRaced> onRaced, Action<AllocItem[]> onOom,
        AllocPass pass = AllocPass.Low, Action? completed = null)
    {
        if (plan.Zonelist.Length == 0) { onOom(items); completed?.Invoke(); return; }
        var call = new AllocCompletion(items.Length, completed);
        var token = ExpectUntil<IAllocPagesReply>(r =>
            {
                switch (r)
                {
                    case PagesAllocated m:
                        foreach (var p in m.Pages)
                        {
                            onPage(p);
                        }

                        call.Answered(m.Pages.Length);
                        break;
                    case SwapCacheMapped m: call.Answered(m.Pages.Length); onMapped(m); break;
                    case SwapInRaced m: call.Answered(m.Vpns.Length); onRaced(m); break;
                    case AllocFailed m:
                        call.Answered(m.Items.Length);
                        call.SlowPathStarted();
                        AllocSlowPath(plan, m.Items, purpose, op, m.Pass, onPage, onMapped, onRaced, onOom, call.SlowPathDone);
                        break;
                }
                call.CompleteIfDone();
                return call.AllAnswered;
            });
        Directory.Node(plan.Zonelist[0]).Tell(new AllocPages(token, Self, Pid, _state.Cpu, items, plan.Zonelist, 0, pass, plan.Interleave, purpose));
    }
}

/// <summary>When one allocation from the task's side is over: every item answered (allocated, mapped from the swap
/// cache, raced, or refused) and every slow path a refusal started has finished. It completes once: a slow path can
/// finish inside the reply that started it (a task already OOM-killed fails at once), and both that slow path's end
/// and the reply's own check then find the allocation over.</summary>
/// <remarks>Completing twice would end the caller's slow path twice: its count would go below zero and, with items of
/// its own still being read from swap, it would never complete, leaving its round of faults, and the task's syscall,
/// waiting for ever.</remarks>
internal sealed class AllocCompletion(int items, Action? completed)
{
    private int _left = items;
    private int _slowPaths;
    private bool _completed;

    /// <summary>Every item has had its answer (the call's reply registration can go).</summary>
    public bool AllAnswered => _left == 0;

    public void Answered(int n) => _left -= n;

    public void SlowPathStarted() => _slowPaths++;

    public void SlowPathDone()
    {
        _slowPaths--;
        CompleteIfDone();
    }

    public void CompleteIfDone()
    {
        if (_completed || _left != 0 || _slowPaths != 0)
        {
            return;
        }

        _completed = true;
        completed?.Invoke();
    }
}

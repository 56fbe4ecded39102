using Akka.Actor;
using Akka.Event;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>The slow path of 2.6.14 <c>__alloc_pages</c> and the OOM kill of the faulting task.</summary>
public sealed partial class NumaTaskActor
{
    /// <summary>After the pages_low pass failed on every node: <c>wakeup_kswapd</c> for each zone of the zonelist, then
    /// the pages_min pass. After that failed: direct reclaim (<c>try_to_free_pages</c>) and another pages_min pass
    /// while it makes progress; with none, one try at pages_high, then the OOM path.</summary>
    /// <remarks>Kernel: mm/page_alloc.c __alloc_pages(). A user page fault is GFP_HIGHUSER: no __GFP_HIGH, and an
    /// ordinary task cannot try harder, so the pages_min pass checks the plain mark.</remarks>
    private void AllocSlowPath(AllocPlan plan, AllocItem[] items, AllocPurpose purpose, TouchOp op, AllocPass failed,
        Action<AllocatedPage> onPage, Action<SwapCacheMapped> onMapped, Action<SwapInRaced> onRaced, Action<AllocItem[]> onOom)
    {
        switch (failed)
        {
            case AllocPass.Low:
                WakeupKswapds(plan.Zonelist);
                Allocate(plan, items, purpose, op, onPage, onMapped, onRaced, onOom, AllocPass.Min);
                break;
            case AllocPass.Min:
                TryToFreePages(plan.Zonelist, progress =>
                {
                    if (progress > 0) Allocate(plan, items, purpose, op, onPage, onMapped, onRaced, onOom, AllocPass.Min);
                    else Allocate(plan, items, purpose, op, onPage, onMapped, onRaced, onOom, AllocPass.High);
                });
                break;
            default:
                OutOfMemory(
                    restart: () => Allocate(plan, items, purpose, op, onPage, onMapped, onRaced, onOom, AllocPass.Low),
                    killed: () => onOom(items));
                break;
        }
    }

    /// <summary>VM_FAULT_OOM on a user fault: 2.6.14 x86 do_page_fault kills the faulting task ("VM: killing process").</summary>
    private void OomKillSelf()
    {
        _state.OomKilled = true;
        Count(VmEvent.EmuOomKill);
        Trace.Emit("oom_kill_process", $"task={Pid} name={_state.Name} reason=fault");
        _log.Warning("VM: killing process {Task} ({Name}): out of memory on a page fault", Pid, _state.Name);
        DoExit(SyscallResult.Fail(Errno.ENOMEM));
    }

    private void HandleOomKill(OomKill m)
    {
        if (_state.Exited) return;
        _state.OomKilled = true;
        Count(VmEvent.EmuOomKill);
        Trace.Emit("oom_kill_process", $"task={Pid} name={_state.Name} reason=oom_killer");
        if (_current is null) { _current = new Exit(); DoExit(SyscallResult.Fail(Errno.ENOMEM)); }
        else _killPending = true;
    }

    private bool _killPending;
}

using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.Kernel;

/// <summary>The seed's third use of migration ("suspending an application by swapping it out"): the task's whole
/// resident set goes through the migration path to swap and the task stops; after resume its accesses fault the pages
/// back under the policy in force then.</summary>
public sealed partial class NumaTaskActor
{
    /// <summary>Stopped (SIGSTOP): syscalls wait in the queue until <see cref="Resume"/>. Requests of other actors on the
    /// page table (try_to_unmap, page_referenced, migration entries) are still served, as a stopped task's mm stays
    /// reachable through rmap.</summary>
    private bool _stopped;

    /// <summary>Every present page of every VMA (the zero page aside) is isolated and evicted as the swapout operation
    /// does (isolate_lru_page, swapout_pages, putback_lru_pages of the profile), then the task stops. The return value is
    /// the number of resident pages left in memory: 0 when the whole set went to swap; more when swap ran out
    /// (add_to_swap found no slot: the page stays, counted as failed) or pages could not be isolated or written within
    /// the passes. A 2.6.16 kernel without any swap refuses with ENODEV and does not stop the task.</summary>
    /// <remarks>Kernel: V2 mm/vmscan.c swapout_pages() through the migration path of the profile; kernel/signal.c SIGSTOP.</remarks>
    private void DoSuspend(Suspend m)
    {
        var run = new MigrationRun("suspend", Trace.Now);
        var candidates = _state.OwnPageTable.Entries()
            .Where(e => e.Pte.IsPresent && e.Pte.Pfn != Topology.ZeroPfn).Select(e => e.Pte.Pfn).ToList();
        MigrationPrologue(() => IsolateCandidates(run, candidates, skipShared: false, () => SwapoutPages(run, () =>
            FinishMigration(run, () =>
            {
                var resident = _state.OwnPageTable.Entries().LongCount(e => e.Pte.IsPresent && e.Pte.Pfn != Topology.ZeroPfn);
                _stopped = true;
                Trace.Emit("task_suspend", $"task={Pid} evicted={run.Evicted} resident={resident} failed={run.Failed}");
                Complete(SyscallResult.Ok(resident) with { Migration = run.Stats(Trace.Now) });
            }))),
            err => Complete(SyscallResult.Fail(err)));
    }

    /// <summary>SIGCONT: the syscalls the task held run again. A task that is not stopped gets EINVAL (nothing to
    /// resume).</summary>
    private void HandleResume(Resume m, IActorRef replyTo)
    {
        if (!_stopped) { replyTo.Tell(new Resumed(m.Tag, SyscallResult.Fail(Errno.EINVAL))); return; }
        _stopped = false;
        Trace.Emit("task_resume", $"task={Pid}");
        replyTo.Tell(new Resumed(m.Tag, SyscallResult.Ok()));
        if (_current is null)
        {
            RunNext();
        }
    }

    /// <summary>While stopped the queued syscalls wait.</summary>
    private bool StoppedHoldsQueue() => _stopped;
}

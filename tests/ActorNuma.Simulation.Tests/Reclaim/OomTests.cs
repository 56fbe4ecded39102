namespace ActorNuma.Simulation.Tests.Reclaim;

/// <summary>Issue 4 §2, §6: out_of_memory() when reclaim frees nothing (no swap): the largest task by total_vm is
/// killed, its memory freed, the others finish (reclaim-oom.conf, reclaim-oom-self.conf).</summary>
[Trait("kind", "scenario")]
public sealed class OomTests
{
    private const int Seed = 1;

    [Fact]
    public void The_largest_task_is_killed_when_another_task_runs_out_and_the_others_finish()
    {
        var report = ReclaimRun.Load("reclaim-oom.conf").Run(Seed);

        report.AssertClean();
        var select = Assert.Single(report.Events("oom_select_bad_process"));
        Assert.Equal(800, select.Field("total_vm"));
        var kill = Assert.Single(report.Events("oom_kill_process"));
        Assert.True(kill.Has("name=big") && kill.Has("reason=oom_killer"), kill.ToString());
        Assert.Equal(select.Field("victim"), kill.Field("task"));
        // small2's fault that ran out got its pages after the kill; big's next step finds it gone.
        Assert.Equal(200, report.Step(5).Ret);
        Assert.Equal(ActorNuma.Mm.Errno.ESRCH, report.Step(6).Errno);
        Assert.Contains(report.Events("sched_process_exit"), e => e.Has("name=big") && e.Has("oom=1"));
        Assert.False(report.NumaMaps.ContainsKey("big"));
        Assert.Equal(1, report.Vm("emu_oom_kill"));
        // Reclaim had nothing to give: no swap, so no page left the active list and kswapd gave the zone up.
        Assert.True(report.Vm("allocstall") > 0);
        Assert.Equal(0, report.Vm("pgdeactivate"));
        Assert.NotEmpty(report.Events("mm_vmscan_zone_unreclaimable"));
    }

    [Fact]
    public void A_faulting_task_that_is_itself_the_largest_gets_enomem_from_its_touch_and_esrch_afterwards()
    {
        var kswapds = 0;
        var report = ReclaimRun.Load("reclaim-oom-self.conf").Run(Seed, atEnd: m => kswapds = m.Directory.Kswapds.Count);

        report.AssertClean();
        Assert.Equal(ActorNuma.Mm.Errno.ENOMEM, report.Step(3).Errno);
        Assert.Equal(ActorNuma.Mm.Errno.ESRCH, report.Step(4).Errno);
        var select = Assert.Single(report.Events("oom_select_bad_process"));
        Assert.Equal(1000, select.Field("total_vm"));
        // Killed once, by its own fault (VM_FAULT_OOM), although several of its allocations ran out.
        var kill = Assert.Single(report.Events("oom_kill_process"));
        Assert.True(kill.Has("name=big") && kill.Has("reason=fault"), kill.ToString());
        Assert.Equal(1, report.Vm("emu_oom_kill"));
        Assert.Equal(200, report.Step(5).Ret);
        // do_page_fault kills big at the fault that ran out: it takes no fault after that round of 16 (its faults are
        // the pages it got and the rest of the round), not the 1000 of the touch. small faulted its 200 pages once.
        var bigFaults = report.Vm("pgfault") - 200;
        var bigPages = report.Vm("pgalloc_normal") - 200;
        Assert.InRange(bigFaults, bigPages + 1, bigPages + 16);
        // The node's kswapd is in the directory, so concurrent runs' rest test polls its mailbox too.
        Assert.Equal(1, kswapds);
    }

    /// <summary>2.6.16's constrained_alloc(): small's allocation is bound to node 0, so when node 0 runs out small is
    /// killed at once and big, the largest task, lives on; under v2 the OOM killer takes big first (freeing nothing on
    /// node 0) and then small (reclaim-oom-bind-2.6.16.conf).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void A_bound_allocation_out_of_memory_kills_the_allocating_task_from_2_6_16_on(int seed)
    {
        var report = Tests.Kernel.ScenarioRun.RunFile("reclaim-oom-bind-2.6.16.conf", seed);
        var before = Tests.Kernel.ScenarioRun.RunFile("reclaim-oom-bind-2.6.16.conf", seed, profile: "v2");

        report.AssertClean();
        Assert.Equal(ActorNuma.Mm.Errno.ENOMEM, report.Step(5).Errno);
        Assert.Equal(400, report.Step(7).Ret);
        Assert.Contains(report.Events("oom_constrained_alloc"), e => e.Has("constraint=memory_policy"));
        Assert.Empty(report.Events("oom_select_bad_process"));
        Assert.Equal(1, report.Vm("emu_oom_kill"));

        Assert.Equal(ActorNuma.Mm.Errno.ESRCH, before.Step(7).Errno);
        Assert.Empty(before.Events("oom_constrained_alloc"));
        Assert.Equal(2, before.Vm("emu_oom_kill"));
    }
}

using ActorNuma.Simulation.Scheduling;
using Akka.Actor;
using Akka.Configuration;
using Akka.Event;
using static ActorNuma.Simulation.Tests.Scheduling.SchedulingTestActors;

namespace ActorNuma.Simulation.Tests.Scheduling;

[Trait("kind", "unit")]
public sealed class VirtualTimeSchedulerSpec
{
    private static readonly TimeSpan OneMs = TimeSpan.FromMilliseconds(1);

    [Fact]
    public void A_new_system_starts_at_the_fixed_epoch_and_does_not_hang()
    {
        using var harness = new DeterministicHarness(seed: 1);

        var scheduler = Assert.IsType<VirtualTimeScheduler>(harness.System.Scheduler);
        Assert.Equal(VirtualTimeScheduler.Epoch, scheduler.Now);
        Assert.Equal(TimeSpan.Zero, scheduler.MonotonicClock);
        Assert.Equal(TimeSpan.Zero, scheduler.Elapsed);
        Assert.Same(scheduler, harness.Pump.Scheduler);
    }

    [Fact]
    public void Timers_of_3_ms_and_2_ms_fire_at_their_exact_virtual_instants_in_order()
    {
        using var harness = new DeterministicHarness(seed: 2);
        var log = new List<string>();
        harness.Start(Props.Create(() => new SingleTimers(log, new TimerSpec("A", 3), new TimerSpec("B", 2))), "timers");

        var finished = harness.Pump.RunUntil(() => log.Count == 2, maxSteps: 100);

        Assert.True(finished);
        Assert.Equal(["B@2", "A@3"], log);
    }

    [Fact]
    public void Periodic_timers_tick_at_exact_multiples_of_their_interval()
    {
        using var harness = new DeterministicHarness(seed: 4);
        var log = new List<string>();
        harness.Start(Props.Create(() => new PeriodicTimers(log, new TimerSpec("A", 3), new TimerSpec("B", 2))), "ticks");

        harness.Pump.RunUntil(() => log.Count == 7, maxSteps: 100);

        // A and B both tick at 6 ms; only the seed decides which of the two is processed first.
        Assert.Equal(["B@2", "A@3", "B@4"], log[..3]);
        Assert.Equal(["A@6", "B@6"], log[3..5].Order());
        Assert.Equal(["B@8", "A@9"], log[5..]);
    }

    [Fact]
    public void A_cancelled_timer_never_fires()
    {
        using var harness = new DeterministicHarness(seed: 6);
        var log = new List<string>();
        var actor = harness.Start(Props.Create(() => new SingleTimers(log, new TimerSpec("cancelled", 5), new TimerSpec("end", 10))), "timers");
        actor.Tell(new Cancel("cancelled"));

        var finished = harness.Pump.RunUntil(() => log.Count == 1, maxSteps: 100);

        Assert.True(finished);
        Assert.Equal(["end@10"], log);
        Assert.False(harness.Pump.RunUntil(() => false, maxSteps: 100));
    }

    [Fact]
    public void Cancelled_work_is_neither_run_nor_reported_as_next_due()
    {
        var scheduler = NewScheduler();
        IAdvancedScheduler advanced = scheduler;
        var fired = new List<string>();
        var cancelled = advanced.ScheduleOnceCancelable(OneMs, () => fired.Add("cancelled"));
        advanced.ScheduleOnce(OneMs * 4, () => fired.Add("kept"));

        cancelled.Cancel();

        Assert.True(scheduler.TryGetNextDue(out var due));
        Assert.Equal(VirtualTimeScheduler.Epoch + OneMs * 4, due);
        Assert.True(scheduler.AdvanceToNextDue());
        Assert.Equal(["kept"], fired);
        Assert.False(scheduler.TryGetNextDue(out _));
        Assert.False(scheduler.AdvanceToNextDue());
    }

    [Fact]
    public void Work_due_at_the_same_instant_runs_in_insertion_order()
    {
        var scheduler = NewScheduler();
        IAdvancedScheduler advanced = scheduler;
        var fired = new List<int>();
        for (var i = 0; i < 50; i++)
        {
            var n = i;
            advanced.ScheduleOnce(OneMs * (n % 2 == 0 ? 2 : 1), () => fired.Add(n));
        }

        scheduler.AdvanceTo(VirtualTimeScheduler.Epoch + OneMs * 2);

        var odd = Enumerable.Range(0, 50).Where(n => n % 2 == 1);
        var even = Enumerable.Range(0, 50).Where(n => n % 2 == 0);
        Assert.Equal(odd.Concat(even), fired);
    }

    [Fact]
    public void Each_item_runs_at_its_own_due_time_and_time_ends_at_the_target()
    {
        var scheduler = NewScheduler();
        IAdvancedScheduler advanced = scheduler;
        var seen = new List<TimeSpan>();
        advanced.ScheduleRepeatedly(OneMs, OneMs * 3, () => seen.Add(scheduler.Elapsed));
        advanced.ScheduleOnce(OneMs * 2, () =>
            advanced.ScheduleOnce(OneMs * 3, () => seen.Add(scheduler.Elapsed)));

        scheduler.AdvanceTo(VirtualTimeScheduler.Epoch + OneMs * 8);

        // The repeat fires at 1, 4, 7; the work scheduled at 2 for 3 ms later runs at 5, within the same advance.
        Assert.Equal([OneMs, OneMs * 4, OneMs * 5, OneMs * 7], seen);
        Assert.Equal(OneMs * 8, scheduler.Elapsed);
    }

    [Fact]
    public void Virtual_time_cannot_go_back()
    {
        var scheduler = NewScheduler();
        scheduler.AdvanceTo(VirtualTimeScheduler.Epoch + OneMs);

        Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.AdvanceTo(VirtualTimeScheduler.Epoch));
    }

    [Fact]
    public void A_callback_that_reschedules_itself_without_delay_hits_the_advance_bound()
    {
        var scheduler = NewScheduler();
        IAdvancedScheduler advanced = scheduler;
        void Again() => advanced.ScheduleOnce(TimeSpan.Zero, Again);
        advanced.ScheduleOnce(TimeSpan.Zero, Again);

        var error = Assert.Throws<InvalidOperationException>(() => scheduler.AdvanceTo(VirtualTimeScheduler.Epoch));

        Assert.Contains("keeps scheduling work with no delay", error.Message);
    }

    private static VirtualTimeScheduler NewScheduler() => new(Config.Empty, NoLogger.Instance);
}

using ActorNuma.Simulation.Scheduling;
using Akka.Actor;
using static ActorNuma.Simulation.Tests.Scheduling.SchedulingTestActors;

namespace ActorNuma.Simulation.Tests.Scheduling;

[Trait("kind", "unit")]
public sealed class DeterministicPumpSpec
{
    [Fact]
    public void RunUntil_advances_time_only_when_idle()
    {
        using var harness = new DeterministicHarness(seed: 11);
        var log = new List<string>();
        harness.Start(Props.Create(() => new BusyWithTimer(log, 20, 1)), "busy").Tell(new Go());

        var finished = harness.Pump.RunUntil(() => log.Contains("timer@1"), maxSteps: 100);

        // The timer was due at 1 ms, but all 20 steps of the 0 ms chain ran before time moved.
        Assert.True(finished);
        Assert.Equal([.. Enumerable.Repeat("work@0", 20), "timer@1"], log);
    }

    /// <summary>actornuma.run.step-cost: each step moves the clock, so a timer falls due while work is still runnable
    /// and its message lands between the chain's, as a device's I/O completes while a concurrent machine is busy.</summary>
    [Fact]
    public void With_a_step_cost_a_timer_fires_between_steps_of_busy_work()
    {
        using var harness = new DeterministicHarness(seed: 11);
        harness.Pump.StepCost = TimeSpan.FromMicroseconds(250);
        var log = new List<string>();
        harness.Start(Props.Create(() => new BusyWithTimer(log, 8, 1)), "busy").Tell(new Go());

        harness.Pump.RunUntilIdle();

        // The fourth step moves the clock to 1 ms: the timer's message queues behind the Go already sent.
        Assert.Equal(["work@0", "work@0.25", "work@0.5", "work@0.75", "work@1", "timer@1.25", "work@1.5", "work@1.75", "work@2"], log);
    }

    [Fact]
    public void RunUntil_returns_false_when_idle_with_nothing_scheduled()
    {
        using var harness = new DeterministicHarness(seed: 12);
        var log = new List<string>();
        harness.Start(Props.Create(() => new SingleTimers(log, new TimerSpec("only", 2))), "timers");

        var finished = harness.Pump.RunUntil(() => log.Count == 2, maxSteps: 100);

        Assert.False(finished);
        Assert.Equal(["only@2"], log);
    }

    [Fact]
    public void RunUntil_throws_when_the_condition_does_not_hold_within_the_bound()
    {
        using var harness = new DeterministicHarness(seed: 13);
        harness.Start(Props.Create(() => new PeriodicTimers(new List<string>(), new TimerSpec("tick", 1))), "ticks");

        var error = Assert.Throws<StepBudgetExhaustedException>(() => harness.Pump.RunUntil(() => false, maxSteps: 50));

        Assert.Contains("RunUntil spent 50 steps", error.Message);
        Assert.Contains("seed 13", error.Message);
    }

    [Fact]
    public void RunUntilIdle_throws_when_the_step_bound_is_exceeded()
    {
        using var harness = new DeterministicHarness(seed: 14);
        harness.Start(Props.Create(() => new Livelock()), "livelock").Tell(new Go());

        var error = Assert.Throws<StepBudgetExhaustedException>(() => harness.Pump.RunUntilIdle(maxSteps: 1000));

        Assert.Equal(1000, harness.Pump.Steps);
        Assert.Contains("RunUntilIdle ran 1000 steps (seed 14)", error.Message);
    }

    [Fact]
    public void RunUntilIdle_counts_the_steps_it_ran()
    {
        using var harness = new DeterministicHarness(seed: 15);
        var counter = harness.Start(Props.Create(() => new Counter(new List<object>())), "counter");
        counter.Tell(1);
        counter.Tell(2);

        Assert.Equal(2, harness.Pump.RunUntilIdle());
        Assert.True(harness.Pump.IsIdle);
        Assert.Equal(0, harness.Pump.RunUntilIdle());
    }

    [Fact]
    public async Task TerminateAsync_pumps_kernel_actors_until_the_system_has_terminated()
    {
        var harness = new DeterministicHarness(seed: 16);
        var arrivals = new List<string>();
        harness.Start(Props.Create(() => new RaceRoot(3, 4, arrivals)), "race");
        harness.Start(Props.Create(() => new PeriodicTimers(new List<string>(), new TimerSpec("tick", 5))), "ticks");
        harness.Pump.RunOne();

        await DeterministicPump.TerminateAsync(harness.System);

        Assert.True(harness.System.WhenTerminated.IsCompleted);
        Assert.True(harness.Pump.IsIdle);
    }

    [Fact]
    public void Terminate_blocks_until_the_system_has_terminated()
    {
        var harness = new DeterministicHarness(seed: 17);
        harness.Start(Props.Create(() => new Livelock()), "livelock").Tell(new Go());
        for (var step = 0; step < 10; step++)
        {
            harness.Pump.RunOne();
        }

        DeterministicPump.Terminate(harness.System);

        Assert.True(harness.System.WhenTerminated.IsCompleted);
    }

    [Fact]
    public void For_returns_one_pump_per_system()
    {
        using var harness = new DeterministicHarness(seed: 18);

        Assert.Same(harness.Pump, DeterministicPump.For(harness.System));
        Assert.Equal(18, harness.Pump.Seed);
    }
}

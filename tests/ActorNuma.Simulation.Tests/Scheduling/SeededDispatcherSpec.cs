using ActorNuma.Simulation.Scheduling;
using Akka.Actor;
using static ActorNuma.Simulation.Tests.Scheduling.SchedulingTestActors;

namespace ActorNuma.Simulation.Tests.Scheduling;

[Trait("kind", "unit")]
public sealed class SeededDispatcherSpec
{
    private const int MessagesEach = 8;

    [Fact]
    public void Same_seed_gives_the_same_interleaving_in_two_systems()
    {
        var first = Race(seed: 7);
        var second = Race(seed: 7);

        Assert.Equal(2 * MessagesEach, first.Length);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Twenty_seeds_give_several_distinct_interleavings()
    {
        var orders = Enumerable.Range(1, 20).Select(Race).ToHashSet();

        // One message per step gave 19–20 distinct orders for 20 seeds when measured.
        Assert.True(orders.Count >= 15, $"only {orders.Count} distinct orders: {string.Join(" ", orders)}");
    }

    [Fact]
    public void Seed_1_replays_the_interleaving_recorded_in_an_earlier_process()
    {
        // Recorded by an earlier test run: a change here means new Random(seed), the ready-list discipline or
        // Akka's mailbox scheduling changed, and every recorded failing seed must be re-recorded.
        Assert.Equal("BBBABABBBABAAAAA", Race(seed: 1));
    }

    [Fact]
    public void Same_seed_gives_the_same_timer_interleaving_in_two_systems()
    {
        // Three children tick every millisecond, so at every instant the seed alone orders three timer messages.
        var first = TimerRace(seed: 21);
        var second = TimerRace(seed: 21);
        var others = Enumerable.Range(22, 5).Select(TimerRace).ToHashSet();

        Assert.Equal(first, second);
        Assert.Equal(30, first.Split(' ').Length);
        Assert.DoesNotContain(first, others);
        Assert.True(others.Count >= 3, $"only {others.Count} distinct orders among 5 other seeds");
    }

    [Fact]
    public void Each_mailbox_run_processes_exactly_one_message()
    {
        using var harness = new DeterministicHarness(seed: 3);
        var received = new List<object>();
        var counter = harness.Start(Props.Create(() => new Counter(received)), "counter");
        for (var i = 0; i < 5; i++)
        {
            counter.Tell(i);
        }

        for (var step = 1; step <= 5; step++)
        {
            Assert.True(harness.Pump.RunOne());
            Assert.Equal(step, received.Count);
        }

        Assert.False(harness.Pump.RunOne());
        Assert.Equal(5, harness.Pump.Steps);
        Assert.Equal([0, 1, 2, 3, 4], received);
    }

    [Fact]
    public void Children_run_on_the_kernel_dispatcher_only_when_their_props_say_so()
    {
        using var harness = new DeterministicHarness(seed: 5);
        var log = new List<string>();
        var parent = harness.Start(Props.Create(() => new DispatcherReporter(log)), "parent");

        parent.Tell(new Go());
        harness.Pump.RunUntilIdle();
        var plainChildReported = SpinWait.SpinUntil(() => Snapshot(log).Length == 2, TimeSpan.FromSeconds(5));

        Assert.True(plainChildReported);
        Assert.Contains($"kernel-child:{DeterministicConfig.DispatcherId}", Snapshot(log));
        Assert.Contains("plain-child:akka.actor.default-dispatcher", Snapshot(log));
    }

    [Fact]
    public void The_dispatcher_keeps_its_executor_after_its_idle_shutdown()
    {
        using var harness = new DeterministicHarness(seed: 9);
        var dispatcher = (DeterministicDispatcher)harness.System.Dispatchers.Lookup(DeterministicConfig.DispatcherId);
        var executor = dispatcher.Executor;
        harness.Start(Props.Create(() => new Stopper()), "first").Tell(new Go());
        harness.Pump.RunUntilIdle();

        // With no actors left, Akka schedules the dispatcher's Shutdown() shutdown-timeout (1 s) later.
        Assert.True(harness.Pump.Scheduler.TryGetNextDue(out var shutdownDue));
        Assert.Equal(VirtualTimeScheduler.Epoch.AddSeconds(1), shutdownDue);
        harness.Pump.Scheduler.AdvanceTo(shutdownDue);
        var received = new List<object>();
        var second = harness.Start(Props.Create(() => new Counter(received)), "second");
        second.Tell("after shutdown");
        harness.Pump.RunUntilIdle();

        Assert.Same(dispatcher, harness.System.Dispatchers.Lookup(DeterministicConfig.DispatcherId));
        Assert.Same(executor, dispatcher.Executor);
        Assert.Equal(["after shutdown"], received);
    }

    /// <summary>Two racers send <see cref="MessagesEach"/> messages each; the arrival order as "ABBA...".</summary>
    private static string Race(int seed)
    {
        using var harness = new DeterministicHarness(seed);
        var arrivals = new List<string>();
        harness.Start(Props.Create(() => new RaceRoot(2, MessagesEach, arrivals)), "race");
        harness.Pump.RunUntilIdle();
        return string.Concat(arrivals);
    }

    private static string TimerRace(int seed)
    {
        using var harness = new DeterministicHarness(seed);
        var log = new List<string>();
        harness.Start(Props.Create(() => new TimerRoot(log, 3)), "timers");
        harness.Pump.RunUntil(() => log.Count == 30, maxSteps: 1000);
        return string.Join(' ', log);
    }

    /// <summary>The plain child runs on the thread pool, so its entry is read under the list's lock.</summary>
    private static string[] Snapshot(List<string> log)
    {
        lock (log)
        {
            return [.. log];
        }
    }
}

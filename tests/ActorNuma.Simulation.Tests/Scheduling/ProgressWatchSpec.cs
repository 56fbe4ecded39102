using ActorNuma.Kernel;
using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Tests.Scheduling;

/// <summary>Concurrent mode's liveness by progress: stalled means no kernel message for the whole window while no
/// kernel timer or device completion is pending. The clock here is a variable the test moves.</summary>
[Trait("kind", "unit")]
public sealed class ProgressWatchSpec
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);
    private readonly KernelActivity _activity = new();
    private TimeSpan _now;
    private readonly ProgressWatch _watch;

    public ProgressWatchSpec() => _watch = new ProgressWatch(_activity, Window, () => _now);

    private bool StalledAt(double seconds)
    {
        _now = TimeSpan.FromSeconds(seconds);
        return _watch.Stalled();
    }

    [Fact]
    public void A_machine_that_handles_no_message_for_the_whole_window_is_stalled()
    {
        Assert.False(StalledAt(0));
        Assert.False(StalledAt(9.9));
        Assert.True(StalledAt(10));
    }

    [Fact]
    public void Every_message_handled_starts_the_window_again()
    {
        Assert.False(StalledAt(0));
        _activity.Enter();
        Assert.False(StalledAt(9));
        _activity.Exit();
        Assert.False(StalledAt(18));
        Assert.True(StalledAt(28));
    }

    [Fact]
    public void A_pending_device_completion_is_progress_to_come_however_long_it_takes()
    {
        _activity.TimerStarted();
        Assert.False(StalledAt(0));
        Assert.False(StalledAt(600));
        _activity.TimerDone();
        Assert.False(StalledAt(601));
        Assert.True(StalledAt(611));
    }

    [Fact]
    public void An_actor_inside_a_handler_that_never_returns_is_stalled()
    {
        _activity.Enter();
        Assert.False(StalledAt(0));
        Assert.True(StalledAt(10));
    }

    [Fact]
    public void Restarting_the_window_forgives_the_time_the_run_itself_spent()
    {
        Assert.False(StalledAt(0));
        Assert.False(StalledAt(9));
        _watch.Restart();
        Assert.False(StalledAt(15));
        Assert.True(StalledAt(25));
    }

    [Fact]
    public void Timers_held_by_a_paused_loop_are_no_progress_to_come()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var loop = new KernelTimerLoop(() => clock.Elapsed);
        var watch = new ProgressWatch(_activity, Window, () => _now, loop);
        _activity.TimerStarted();
        loop.Pause();

        _now = TimeSpan.Zero;
        Assert.False(watch.Stalled());
        _now = Window;
        Assert.True(watch.Stalled());
    }
}

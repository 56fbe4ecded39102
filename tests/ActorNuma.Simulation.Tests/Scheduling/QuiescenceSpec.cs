using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Run;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace ActorNuma.Simulation.Tests.Scheduling;

/// <summary>Concurrent mode's rest test: a machine is at rest only when no kernel actor is inside a handler and no
/// kernel mailbox holds a message.</summary>
[Trait("kind", "unit")]
public sealed class QuiescenceSpec : TestKit
{
    private readonly KernelMachine _machine =
        new(new KernelSettings { Topology = new Topology(1, 1, 16), Profile = KernelProfile.V2 }, new KernelTrace(() => TimeSpan.Zero));
    private readonly ManualResetEventSlim _entered = new();
    private readonly ManualResetEventSlim _gate = new();

    protected override void Dispose(bool disposing)
    {
        _gate.Set();
        base.Dispose(disposing);
        _entered.Dispose();
        _gate.Dispose();
    }

    /// <summary>A kernel actor whose handler blocks until the test opens the gate: an actor inside a long handler.</summary>
    private sealed class Blocking(KernelMachine machine, ManualResetEventSlim entered, ManualResetEventSlim gate) : KernelActor(machine)
    {
        protected override void OnKernelMessage(object message)
        {
            entered.Set();
            gate.Wait();
            Sender.Tell("done");
        }
    }

    /// <summary>A kernel actor that arms a kernel timer on "arm" and reports when it fires.</summary>
    private sealed class Sleeper(KernelMachine machine, IActorRef report) : KernelActor(machine), IWithTimers
    {
        public ITimerScheduler Timers { get; set; } = null!;

        protected override void OnKernelMessage(object message)
        {
            switch (message)
            {
                case "arm":
                    StartKernelTimer(Timers, "nap", "fired", TimeSpan.FromSeconds(2));
                    report.Tell("armed");
                    break;
                case "fired":
                    report.Tell("fired");
                    break;
            }
        }
    }

    /// <summary>A blocking actor, inside the handler of its first message.</summary>
    private async Task<IActorRef> BlockedActor()
    {
        var actor = Sys.ActorOf(Props.Create(() => new Blocking(_machine, _entered, _gate)));
        actor.Tell("first", TestActor);
        await Task.Run(() => _entered.Wait());
        return actor;
    }

    /// <summary>Waits for rest with a stall window of <paramref name="window"/> on the wall clock.</summary>
    private bool Quiet(IActorRef actor, TimeSpan window)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        return Quiescence.WaitUntilQuiet([actor], _machine.Activity, new ProgressWatch(_machine.Activity, window, () => clock.Elapsed));
    }

    [Fact(Timeout = 60_000)]
    public async Task An_actor_inside_a_handler_with_every_mailbox_empty_is_not_rest()
    {
        var actor = await BlockedActor();

        // The mailbox is empty (the message is being handled); the old test, empty mailboxes alone, called this rest.
        Assert.False(((ActorRefWithCell)actor).Underlying.HasMessages);
        Assert.False(Quiet(actor, TimeSpan.FromMilliseconds(100)));

        _gate.Set();
        ExpectMsg("done");
        Assert.True(Quiet(actor, TimeSpan.FromSeconds(30)));
        Assert.Equal((1L, 1L), _machine.Activity.Snapshot());
    }

    /// <summary>A swap write completing after its latency, or kswapd's congestion wait, is work in no mailbox and no
    /// handler; the checkers must not run until it is done, or it lands while they read. Nor is it a stall, however
    /// much longer than the stall window it takes: its message is progress to come.</summary>
    [Fact(Timeout = 60_000)]
    public async Task A_pending_kernel_timer_is_waited_for_and_is_not_rest_until_it_has_fired()
    {
        var sleeper = Sys.ActorOf(Props.Create(() => new Sleeper(_machine, TestActor)));
        sleeper.Tell("arm");
        await ExpectMsgAsync("armed");

        Assert.Equal(1, _machine.Activity.TimersPending);
        Assert.True(Quiet(sleeper, TimeSpan.FromMilliseconds(50)));
        Assert.Equal(0, _machine.Activity.TimersPending);
        await ExpectMsgAsync("fired", TimeSpan.FromSeconds(1));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_message_waiting_in_a_mailbox_is_not_rest()
    {
        var actor = await BlockedActor();
        actor.Tell("second", TestActor);   // waits in the mailbox behind the blocked handler

        Assert.False(Quiet(actor, TimeSpan.FromMilliseconds(100)));
        _gate.Set();
        ExpectMsg("done");
        ExpectMsg("done");
        Assert.True(Quiet(actor, TimeSpan.FromSeconds(30)));
        Assert.Equal((2L, 2L), _machine.Activity.Snapshot());
    }

    /// <remarks>Regression: <c>ActorOf</c> returns before the kernel root exists, and in concurrent mode its PreStart
    /// (which creates the nodes and the swap device and fills the directory) runs later on a pool thread. A machine with
    /// an empty directory had no kernel actor to wait for, so it was "at rest" at once; the driver then started, told
    /// the root through the empty directory, and under load the run stalled before its first step.</remarks>
    [Fact]
    public void A_machine_whose_actors_are_not_all_created_yet_is_not_at_rest()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var watch = new ProgressWatch(_machine.Activity, TimeSpan.FromMilliseconds(100), () => clock.Elapsed);

        Assert.False(_machine.Booted);
        Assert.False(Quiescence.HoldAtRest(_machine, watch));
    }
}

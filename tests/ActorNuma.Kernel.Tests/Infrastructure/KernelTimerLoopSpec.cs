using System.Diagnostics;
using Akka.Actor;
using ActorNuma.Kernel.Tests.Support;
using Akka.TestKit.Xunit2;

namespace ActorNuma.Kernel.Tests.Infrastructure;

/// <summary>Concurrent mode's kernel timers: each is a message delivered at or after its due time on the machine's clock,
/// earliest first; a paused loop delivers nothing until resumed.</summary>
public sealed class KernelTimerLoopSpec : TestKit
{
    private static readonly IActorRef Nobody = ActorRefs.Nobody;

    private sealed record Completed(TimeSpan Due);

    private static List<object> TakeDue(KernelTimerQueue queue, double ms)
    {
        var due = new List<KernelTimerQueue.Entry>();
        queue.TakeDue(TimeSpan.FromMilliseconds(ms), due);
        return due.Select(e => e.Message).ToList();
    }

    [Fact]
    public void Nothing_is_taken_before_its_due_time()
    {
        var queue = new KernelTimerQueue();
        queue.Add(TimeSpan.FromMilliseconds(5), Nobody, "write");

        Assert.Empty(TakeDue(queue, 4.999));
        Assert.Equal(["write"], TakeDue(queue, 5));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Everything_due_by_a_wakeup_is_taken_at_once_earliest_first_and_equal_times_in_the_order_posted()
    {
        var queue = new KernelTimerQueue();
        Assert.True(queue.Add(TimeSpan.FromMilliseconds(3), Nobody, "c"));
        Assert.True(queue.Add(TimeSpan.FromMilliseconds(1), Nobody, "a"));
        Assert.False(queue.Add(TimeSpan.FromMilliseconds(1), Nobody, "b"));
        queue.Add(TimeSpan.FromMilliseconds(9), Nobody, "later");

        Assert.Equal(["a", "b", "c"], TakeDue(queue, 3));
        Assert.Equal(TimeSpan.FromMilliseconds(9), queue.NextDue);
    }

    [Fact(Timeout = 30_000)]
    public async Task Completions_posted_out_of_order_arrive_in_due_order_and_none_before_its_time()
    {
        var clock = Stopwatch.StartNew();
        var machine = new KernelMachine(SmallMachine.Settings(), new KernelTrace(() => clock.Elapsed));
        using var loop = machine.StartTimerLoop();
        var probe = CreateTestProbe();
        var now = machine.Trace.Now;
        var due = new[] { 30, 5, 15 }.Select(ms => now + TimeSpan.FromMilliseconds(ms)).ToArray();

        // Posted while paused, so a thread descheduled for 5 ms between the posts (a loaded machine) cannot see the
        // first fire before the count.
        loop.Pause();
        foreach (var d in due)
        {
            loop.Post(d, probe.Ref, new Completed(d));
        }

        Assert.Equal(3, loop.Pending);
        loop.Resume();

        foreach (var expected in due.Order())
        {
            var got = await probe.ExpectMsgAsync<Completed>(TimeSpan.FromSeconds(10));
            Assert.Equal(expected, got.Due);
            Assert.True(machine.Trace.Now >= got.Due);
        }
        Assert.Equal(0, loop.Pending);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_paused_loop_holds_what_falls_due_and_delivers_it_when_resumed()
    {
        var clock = Stopwatch.StartNew();
        using var loop = new KernelTimerLoop(() => clock.Elapsed);
        var probe = CreateTestProbe();

        loop.Pause();
        loop.Post(clock.Elapsed, probe.Ref, new Completed(TimeSpan.Zero));
        Assert.True(loop.Paused);
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        Assert.Equal(1, loop.Pending);

        loop.Resume();
        await probe.ExpectMsgAsync<Completed>(TimeSpan.FromSeconds(10));
        Assert.Equal(0, loop.Pending);
    }

    [Fact(Timeout = 30_000)]
    public async Task A_timer_due_in_a_month_waits_quietly_while_a_sooner_one_is_delivered()
    {
        var clock = Stopwatch.StartNew();
        using var loop = new KernelTimerLoop(() => clock.Elapsed);
        var probe = CreateTestProbe();

        loop.Post(clock.Elapsed + TimeSpan.FromDays(30), probe.Ref, new Completed(TimeSpan.FromDays(30)));
        await probe.ExpectNoMsgAsync(TimeSpan.FromMilliseconds(20));
        loop.Post(clock.Elapsed + TimeSpan.FromMilliseconds(5), probe.Ref, new Completed(TimeSpan.Zero));

        Assert.Equal(TimeSpan.Zero, (await probe.ExpectMsgAsync<Completed>(TimeSpan.FromSeconds(10))).Due);
        Assert.Equal(1, loop.Pending);
    }

    /// <summary>A kernel actor that arms its timer "k" twice, the second time replacing the first.</summary>
    private sealed class Rearming(KernelMachine machine, IActorRef report) : KernelActor(machine), IWithTimers
    {
        public ITimerScheduler Timers { get; set; } = null!;

        protected override void OnKernelMessage(object message)
        {
            if (message is "arm")
            {
                StartKernelTimer(Timers, "k", "first", TimeSpan.FromMilliseconds(1));
                StartKernelTimer(Timers, "k", "second", TimeSpan.FromMilliseconds(20));
            }
            else
            {
                report.Tell(message);
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task A_kernel_timer_started_again_under_its_key_replaces_the_pending_one_on_the_loop_too()
    {
        var clock = Stopwatch.StartNew();
        var machine = new KernelMachine(SmallMachine.Settings(), new KernelTrace(() => clock.Elapsed));
        using var loop = machine.StartTimerLoop();
        var actor = Sys.ActorOf(Props.Create(() => new Rearming(machine, TestActor)));

        actor.Tell("arm");

        await ExpectMsgAsync("second", TimeSpan.FromSeconds(10));
        await ExpectNoMsgAsync(TimeSpan.FromMilliseconds(50));
        Assert.Equal(0, machine.Activity.TimersPending);
        Assert.Equal(0, loop.Pending);
    }
}

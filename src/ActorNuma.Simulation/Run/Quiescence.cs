using ActorNuma.Kernel;
using Akka.Actor;

namespace ActorNuma.Simulation.Run;

/// <summary>Concurrent mode's notion of a quiescent point: every message a kernel actor started is finished, no kernel
/// timer can fire (none is pending, or the timer loop holds them), no kernel mailbox holds a message, and none of that
/// changes over several polls.</summary>
/// <remarks>Empty mailboxes alone are not rest: an actor inside a long handler (a pass over thousands of pages, a GC
/// pause) has an empty mailbox while the actors waiting on its answer have theirs empty too; checking the machine then
/// read state under the actors' feet. The activity counts see the handler. A pending timer (a swap write completing
/// after its latency, kswapd's congestion wait) would fire while the checkers read. The polls cover the instant between
/// a dispatcher taking a message off a mailbox and the actor starting it.</remarks>
public static class Quiescence
{
    private const int QuietPollsNeeded = 5;

    /// <summary>Holds the machine's timers (<see cref="KernelTimerLoop.Pause"/>: I/O stays in flight) and waits until
    /// every kernel actor is at rest; false when it stalls first. The timers stay held until the caller resumes them. A
    /// machine still booting (<see cref="KernelMachine.Booted"/>: its actors are being created on pool threads, which
    /// no activity count sees) is not at rest.</summary>
    public static bool HoldAtRest(KernelMachine machine, ProgressWatch progress)
    {
        machine.TimerLoop?.Pause();
        while (!machine.Booted)
        {
            if (progress.Stalled())
            {
                return false;
            }

            Thread.Sleep(1);
        }

        return WaitUntilQuiet(KernelActors(machine), machine.Activity, progress, machine.TimerLoop);
    }

    /// <summary>Every kernel actor of <paramref name="machine"/>: the root, the swap device, the nodes, their kswapds and
    /// the tasks.</summary>
    public static IEnumerable<IActorRef> KernelActors(KernelMachine machine)
    {
        var d = machine.Directory;
        yield return d.Kernel;
        yield return d.Swap;
        foreach (var n in d.Nodes)
        {
            yield return n;
        }

        foreach (var k in d.Kswapds)
        {
            yield return k;
        }

        foreach (var pid in d.Pids)
        {
            if (d.Task(pid) is { } t)
            {
                yield return t;
            }
        }
    }

    /// <summary>Polls until the machine is at rest (true), or until <paramref name="progress"/> sees it stalled
    /// (false). However long its device keeps I/O in flight, a machine that keeps making progress is waited for. Timers
    /// held by a paused <paramref name="timers"/> loop cannot fire, so they do not keep the machine from rest.</summary>
    public static bool WaitUntilQuiet(IEnumerable<IActorRef> actors, KernelActivity activity, ProgressWatch progress,
        KernelTimerLoop? timers = null)
    {
        var refs = actors.OfType<ActorRefWithCell>().ToArray();
        var quietPolls = 0;
        (long, long) last = default;
        while (!progress.Stalled())
        {
            var now = activity.Snapshot();
            var quiet = now.Started == now.Finished && (activity.TimersPending == 0 || timers is { Paused: true })
                        && !refs.Any(r => r.Underlying.HasMessages) && activity.Snapshot() == now;
            quietPolls = quiet && (quietPolls == 0 || now == last) ? quietPolls + 1 : quiet ? 1 : 0;
            last = now;
            if (quietPolls >= QuietPollsNeeded)
            {
                return true;
            }

            Thread.Sleep(1);
        }
        return false;
    }
}

/// <summary>Concurrent mode's liveness: a machine is stalled when no kernel actor has started or finished a message for
/// <see cref="Window"/> while no kernel timer or device completion is pending. Pending I/O is progress to come (its
/// completion is a message at a known time), so a slow device is never a stall, however long its queue; a lost reply,
/// a handler that never returns, or a mailbox nobody serves is. Timers held by a paused loop cannot fire, so they are
/// no progress to come while it is paused.</summary>
public sealed class ProgressWatch(KernelActivity activity, TimeSpan window, Func<TimeSpan> clock, KernelTimerLoop? timers = null)
{
    private static readonly (long, long) Unseen = (-1, -1);
    private (long, long) _seen = Unseen;
    private TimeSpan _since;

    public TimeSpan Window { get; } = window;

    /// <summary>Samples the machine; true once it has shown no progress for the whole window.</summary>
    public bool Stalled()
    {
        var now = clock();
        var seen = activity.Snapshot();
        if (seen != _seen || (activity.TimersPending > 0 && timers is not { Paused: true }))
        {
            _seen = seen;
            _since = now;
            return false;
        }
        return now - _since >= Window;
    }

    /// <summary>Starts the window again at the next sample: time the run itself spent (the checkers reading a machine
    /// held at rest) is no stall of the machine.</summary>
    public void Restart() => _seen = Unseen;
}

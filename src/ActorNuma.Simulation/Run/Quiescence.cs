using ActorNuma.Kernel;
using Akka.Actor;

namespace ActorNuma.Simulation.Run;

/// <summary>Concurrent mode's notion of a quiescent point: every message a kernel actor started is finished, no kernel
/// timer is pending, no kernel mailbox holds a message, and none of that changes over several polls.</summary>
/// <remarks>Empty mailboxes alone are not rest: an actor inside a long handler (a pass over thousands of pages, a GC
/// pause) has an empty mailbox while the actors waiting on its answer have theirs empty too; checking the machine then
/// read state under the actors' feet. The activity counts see the handler. A pending timer (a swap write completing
/// after its latency, kswapd's congestion wait) would fire while the checkers read. The polls cover the instant between
/// a dispatcher taking a message off a mailbox and the actor starting it.</remarks>
public static class Quiescence
{
    private const int QuietPollsNeeded = 5;

    public static bool WaitUntilQuiet(IEnumerable<IActorRef> actors, KernelActivity activity, TimeSpan timeout)
    {
        var refs = actors.OfType<ActorRefWithCell>().ToArray();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var quietPolls = 0;
        (long, long) last = default;
        while (sw.Elapsed < timeout)
        {
            var now = activity.Snapshot();
            var quiet = now.Started == now.Finished && activity.TimersPending == 0
                        && !refs.Any(r => r.Underlying.HasMessages) && activity.Snapshot() == now;
            quietPolls = quiet && (quietPolls == 0 || now == last) ? quietPolls + 1 : quiet ? 1 : 0;
            last = now;
            if (quietPolls >= QuietPollsNeeded) return true;
            Thread.Sleep(1);
        }
        return false;
    }
}

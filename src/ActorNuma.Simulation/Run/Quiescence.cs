using Akka.Actor;

namespace ActorNuma.Simulation.Run;

/// <summary>Concurrent mode's notion of a quiescent point: no kernel mailbox holds a message, several polls in a row.</summary>
public static class Quiescence
{
    public static bool WaitUntilQuiet(IEnumerable<IActorRef> actors, TimeSpan timeout)
    {
        var refs = actors.OfType<ActorRefWithCell>().ToArray();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var quietPolls = 0;
        while (sw.Elapsed < timeout)
        {
            quietPolls = refs.Any(r => r.Underlying.HasMessages) ? 0 : quietPolls + 1;
            if (quietPolls >= 5) return true;
            Thread.Sleep(1);
        }
        return false;
    }
}

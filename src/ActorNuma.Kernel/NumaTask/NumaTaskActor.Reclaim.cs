using Akka.Actor;
using Akka.Event;
namespace ActorNuma.Kernel;

public sealed partial class NumaTaskActor
{
    private void WakeupKswapds(int[] zonelist)
    {
        if (!_machine.Settings.KswapdEnabled) return;
        foreach (var node in zonelist) Directory.Node(node).Tell(new Kswapd.Wakeup(node, 0));
    }

    private void TryToFreePages(int[] zonelist, Action<long> then) => then(0);
}

using Akka.Actor;

namespace ActorNuma.Kernel.Tests.Support;

/// <summary>
/// The parent of the kernel actors a spec creates one by one. It runs on the kernel dispatcher and supervises with
/// the kernel root's strategy, so an exception in a lone actor stops it and lands in <see cref="KernelMachine.Bugs"/>
/// exactly as it would under <see cref="KernelRootActor"/>. Children are created synchronously in its context, which
/// spares the spec the asynchronous start of top-level actors (<c>DeterministicPump.AwaitStarted</c>). Given another strategy it
/// stands in for a guardian: its decisions are pump steps, where the real /user guardian's run on a pool thread.
/// </summary>
internal sealed class Nursery : UntypedActor
{
    private readonly SupervisorStrategy _strategy;

    public Nursery(SupervisorStrategy strategy) => _strategy = strategy;

    /// <summary>Creates a child; <see cref="Created"/> runs on the pump's thread, inside the step.</summary>
    public sealed record Spawn(Props Props, string Name, Action<IActorRef> Created);

    /// <param name="strategy">Default: the kernel root's, which stops the failed actor and reports a kernel BUG.</param>
    public static Props Props(KernelMachine machine, SupervisorStrategy? strategy = null)
    {
        var chosen = strategy ?? KernelRootActor.KernelBugStrategy(machine);
        return Akka.Actor.Props.Create(() => new Nursery(chosen)).WithDispatcher(KernelDispatcher.Id);
    }

    protected override SupervisorStrategy SupervisorStrategy() => _strategy;

    protected override void OnReceive(object message)
    {
        if (message is Spawn spawn)
        {
            spawn.Created(Context.ActorOf(spawn.Props, spawn.Name));
        }
        else
        {
            Unhandled(message);
        }
    }
}

using ActorNuma.Kernel;
using ActorNuma.Simulation.Scheduling;
using Akka.Actor;

namespace ActorNuma.Simulation.Tests.Scheduling;

/// <summary>One deterministic actor system per test, terminated through the pump when the test ends.</summary>
internal sealed class DeterministicHarness : IDisposable
{
    private static int _systemNumber;

    public DeterministicHarness(int seed)
    {
        System = ActorSystem.Create($"det-{seed}-{Interlocked.Increment(ref _systemNumber)}", DeterministicConfig.Create(seed));
        Pump = DeterministicPump.For(System);
    }

    public ActorSystem System { get; }

    public DeterministicPump Pump { get; }

    /// <summary>Creates a top-level kernel actor and waits until it has really started (<see cref="DeterministicPump"/>: <c>ActorOf</c> returns before it exists).</summary>
    public IActorRef Start(Props props, string name)
    {
        var actor = System.ActorOf(props.OnKernelDispatcher(), name);
        DeterministicPump.AwaitStarted(actor);
        return actor;
    }

    public void Dispose()
    {
        if (!System.WhenTerminated.IsCompleted)
        {
            DeterministicPump.Terminate(System);
        }
    }
}

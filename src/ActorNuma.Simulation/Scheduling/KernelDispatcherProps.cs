using Akka.Actor;

namespace ActorNuma.Simulation.Scheduling;

/// <summary>Puts kernel actors on the dispatcher that the run mode controls.</summary>
public static class KernelDispatcherProps
{
    /// <summary>
    /// Selects <see cref="DeterministicConfig.DispatcherId"/>. Kernel code must call this on every Props it
    /// creates, children included: Akka does not pass a parent's dispatcher on to children created with
    /// <c>Context.ActorOf</c>, so a child without it runs on the thread pool and escapes the seeded order.
    /// </summary>
    public static Props OnKernelDispatcher(this Props props)
    {
        ArgumentNullException.ThrowIfNull(props);
        return props.WithDispatcher(DeterministicConfig.DispatcherId);
    }
}

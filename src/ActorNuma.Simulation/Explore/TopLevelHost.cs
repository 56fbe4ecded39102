using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;

namespace ActorNuma.Simulation.Explore;

/// <summary>
/// Parent of a worker's kernel root and scenario driver in place of the /user guardian. The guardian creates and
/// stops top-level actors on a pool thread, so every schedule would wait twice for a pool thread to be scheduled, which
/// on two busy cores costs more than the schedule. The host runs on a dispatcher that executes its mailbox inline on
/// the sending thread, so creating a machine, and learning that it terminated, happens on the pump's thread.
/// </summary>
/// <remarks>
/// The host is not on the deterministic dispatcher: a child's <c>Supervise</c> message to its parent would then put
/// the host's mailbox in the ready list and shift every choice after it, and the schedule would no longer be the one
/// a fresh system runs for the same seed. Like the guardian under our config, it stops a child that fails.
/// </remarks>
internal sealed class TopLevelHost
{
    private const string DispatcherId = "actornuma.explore-host-dispatcher";

    private readonly IActorRef _host;

    public TopLevelHost(ActorSystem system)
    {
        if (!system.Dispatchers.HasDispatcher(DispatcherId))
        {
            var config = ConfigurationFactory.ParseString($"id = \"{DispatcherId}\"")
                .WithFallback(system.Settings.Config.GetConfig("akka.actor.default-dispatcher"));
            system.Dispatchers.RegisterConfigurator(DispatcherId, new InlineDispatcherConfigurator(config, system.Dispatchers.Prerequisites));
        }
        _host = system.ActorOf(Props.Create(() => new HostActor()).WithDispatcher(DispatcherId), "explore-host");
        Scheduling.DeterministicPump.AwaitStarted(_host);
    }

    /// <summary>Creates a child of the host and returns it started: its first mailbox run is in the ready list.</summary>
    /// <remarks>The host runs the request inline, unless its mailbox is still busy on the thread that started it; then
    /// that thread runs it, and this waits for it. Either way the child's Create is queued before this returns, and
    /// nothing else of the schedule has happened yet.</remarks>
    public IActorRef Spawn(Props props, string name)
    {
        var request = new HostActor.Spawn(props, name);
        _host.Tell(request);
        var spin = new SpinWait();
        while (Volatile.Read(ref request.Created) is null)
        {
            spin.SpinOnce();
        }

        return request.Created!;
    }

    private sealed class HostActor : UntypedActor
    {
        public sealed class Spawn(Props props, string name)
        {
            public Props Props { get; } = props;
            public string Name { get; } = name;
            public IActorRef? Created;
        }

        protected override SupervisorStrategy SupervisorStrategy() => Akka.Actor.SupervisorStrategy.StoppingStrategy;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Spawn m:
                    Volatile.Write(ref m.Created, Context.ActorOf(m.Props, m.Name));
                    break;
                case Terminated:
                    break;
                default:
                    Unhandled(message);
                    break;
            }
        }
    }

    /// <summary>Runs each mailbox on the thread that made it runnable.</summary>
    private sealed class InlineDispatcher : MessageDispatcher
    {
        public InlineDispatcher(MessageDispatcherConfigurator configurator)
            : base(configurator)
        {
            Id = DispatcherId;
        }

        protected override void ExecuteTask(IRunnable run) => run.Run();

        protected override void Shutdown()
        {
        }
    }

    private sealed class InlineDispatcherConfigurator : MessageDispatcherConfigurator
    {
        private readonly InlineDispatcher _dispatcher;

        public InlineDispatcherConfigurator(Config config, IDispatcherPrerequisites prerequisites)
            : base(config, prerequisites) => _dispatcher = new InlineDispatcher(this);

        public override MessageDispatcher Dispatcher() => _dispatcher;
    }
}

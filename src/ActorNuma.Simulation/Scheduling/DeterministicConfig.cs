using ActorNuma.Kernel;
using Akka.Configuration;

namespace ActorNuma.Simulation.Scheduling;

/// <summary>
/// The HOCON that selects a run mode. Kernel actors always name <see cref="DispatcherId"/> in their Props; the
/// mode decides what stands behind that id, so kernel code never branches on the mode.
/// </summary>
public static class DeterministicConfig
{
    /// <summary>
    /// The dispatcher every kernel actor opts into: "actornuma.deterministic-dispatcher". It is the kernel's own
    /// constant, because kernel actors name it without seeing this project; one definition cannot drift.
    /// </summary>
    public const string DispatcherId = KernelDispatcher.Id;

    private static readonly string DispatcherType = TypeName(typeof(DeterministicDispatcherConfigurator));
    private static readonly string SchedulerType = TypeName(typeof(VirtualTimeScheduler));

    /// <summary>
    /// The deterministic mode: kernel actors run one message per step in an order drawn from
    /// <paramref name="seed"/>, and time is virtual. Layer it over other config with <c>WithFallback</c>.
    /// </summary>
    public static Config Create(int seed) => ConfigurationFactory.ParseString($$"""
        {{DispatcherId}} {
          # Runs kernel mailboxes one message at a time, in an order drawn from the seed, on the pump's thread.
          type = "{{DispatcherType}}"
          # The same seed replays the same interleaving, in any process.
          seed = {{seed}}
        }
        akka {
          # Time stands still until the pump advances it; timers fire at exact virtual instants.
          scheduler.implementation = "{{SchedulerType}}"
          # A CLR exit hook would run the shutdown on a thread nobody pumps, and its phase timeouts are virtual, so
          # process exit could hang. Terminate through DeterministicPump.Terminate instead.
          coordinated-shutdown.run-by-clr-shutdown-hook = off
          # Dead letters during a run are kept in the log: in a simulation they usually mean a lost page or a
          # protocol bug. Those of kernel actors stopped by the final shutdown are expected and only add noise.
          log-dead-letters-during-shutdown = off
        }
        """);

    /// <summary>
    /// The concurrent mode: <see cref="DispatcherId"/> is an ordinary thread-pool dispatcher, as the stock default
    /// one, and the stock scheduler keeps real time.
    /// </summary>
    public static Config Concurrent() => ConfigurationFactory.ParseString($$"""
        {{DispatcherId}} {
          # Akka fills every other key from akka.actor.default-dispatcher.
          type = Dispatcher
          executor = default-executor
        }
        """);

    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}

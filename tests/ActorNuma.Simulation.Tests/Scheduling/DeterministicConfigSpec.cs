using ActorNuma.Kernel;
using ActorNuma.Simulation.Scheduling;
using Akka.Actor;
using Akka.Configuration;
using static ActorNuma.Simulation.Tests.Scheduling.SchedulingTestActors;

namespace ActorNuma.Simulation.Tests.Scheduling;

[Trait("kind", "unit")]
public sealed class DeterministicConfigSpec
{
    [Fact]
    public void The_deterministic_config_carries_the_seed_and_the_virtual_scheduler()
    {
        var config = DeterministicConfig.Create(seed: 42);

        Assert.Equal("actornuma.deterministic-dispatcher", DeterministicConfig.DispatcherId);
        Assert.Equal(42, config.GetInt($"{DeterministicConfig.DispatcherId}.seed"));
        Assert.Equal(
            "ActorNuma.Simulation.Scheduling.VirtualTimeScheduler, ActorNuma.Simulation",
            config.GetString("akka.scheduler.implementation"));
        Assert.False(config.GetBoolean("akka.coordinated-shutdown.run-by-clr-shutdown-hook"));
    }

    [Fact]
    public async Task The_concurrent_mode_runs_kernel_props_on_the_thread_pool_with_real_time()
    {
        var system = ActorSystem.Create("concurrent", DeterministicConfig.Concurrent());
        try
        {
            var ponger = system.ActorOf(Props.Create(() => new Ponger()).OnKernelDispatcher(), "ponger");

            var reply = await ponger.Ask<string>("ping", TimeSpan.FromSeconds(5));

            Assert.Equal("pong", reply);
            Assert.IsNotType<VirtualTimeScheduler>(system.Scheduler);
            var error = Assert.Throws<InvalidOperationException>(() => DeterministicPump.For(system));
            Assert.Contains("not in the deterministic mode", error.Message);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public async Task A_dispatcher_block_without_a_seed_is_rejected_with_its_key()
    {
        var config = ConfigurationFactory.ParseString(
            $"{DeterministicConfig.DispatcherId}.seed = null").WithFallback(DeterministicConfig.Create(1));
        var system = ActorSystem.Create("no-seed", config);
        try
        {
            var error = Assert.ThrowsAny<Exception>(() => system.Dispatchers.Lookup(DeterministicConfig.DispatcherId));

            Assert.Contains($"{DeterministicConfig.DispatcherId}.seed must be a 32-bit integer but is 'missing'", error.ToString());
        }
        finally
        {
            await system.Terminate();
        }
    }
}

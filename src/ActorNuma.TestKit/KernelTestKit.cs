using ActorNuma.Kernel;
using ActorNuma.Simulation.Scheduling;
using Akka.Actor;
using Akka.Configuration;
using Xunit.Abstractions;

namespace ActorNuma.TestKit;

/// <summary>The two ways a test's actor system can run the kernel.</summary>
public enum KernelTestMode
{
    /// <summary>Every actor on the kernel dispatcher runs one message per step on the test's thread, in an order drawn
    /// from the schedule's seed; time is virtual. Same seed, same run.</summary>
    Deterministic,

    /// <summary>The kernel dispatcher is an ordinary thread-pool dispatcher and time is real.</summary>
    Concurrent,
}

/// <summary>The HOCON a test's actor system needs to host an <see cref="EmulatedMachine"/>: use it when composing the
/// machine into a TestKit of your own (<c>base(KernelTestKitConfig.Deterministic(), "my-spec", output)</c>).</summary>
public static class KernelTestKitConfig
{
    /// <summary>The deterministic mode: the seeded executor behind <see cref="KernelDispatcher.Id"/> and Akka's
    /// scheduler on virtual time. Probes wait 1 s by default: in this mode an event is in the probe as soon as the step
    /// that emitted it returns, so a longer wait only delays a failing expectation.</summary>
    /// <returns>The config; layer yours over it with <c>WithFallback</c>.</returns>
    public static Config Deterministic() => DeterministicConfig.Create(seed: 1)
        .WithFallback(ConfigurationFactory.ParseString("akka.test.single-expect-default = 1s"));

    /// <summary>The concurrent mode: <see cref="KernelDispatcher.Id"/> is a thread-pool dispatcher, time is real.</summary>
    /// <returns>The config.</returns>
    public static Config Concurrent() => DeterministicConfig.Concurrent()
        .WithFallback(ConfigurationFactory.ParseString("akka.test.single-expect-default = 5s"));

    /// <summary>The config of <paramref name="mode"/>.</summary>
    /// <param name="mode">The mode.</param>
    /// <returns>The config.</returns>
    public static Config For(KernelTestMode mode) => mode == KernelTestMode.Deterministic ? Deterministic() : Concurrent();

    /// <summary>Terminates a test's actor system. In the deterministic mode the kernel actors stop only while someone
    /// runs them, so a TestKit of your own calls this from its <c>AfterAll</c> before <c>base.AfterAll()</c>.</summary>
    /// <param name="system">The system.</param>
    public static void Shutdown(ActorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (system.Dispatchers.Lookup(KernelDispatcher.Id) is DeterministicDispatcher)
        {
            DeterministicPump.Terminate(system);
        }
        else
        {
            system.Terminate().Wait(TimeSpan.FromSeconds(10));
        }
    }
}

/// <summary>
/// An Akka.TestKit (xUnit v2) spec whose actor system hosts an emulated machine: <see cref="Boot"/> it, make syscalls
/// through <see cref="Kernel"/>, create your own actors next to it with <see cref="EmulatedMachine.ActorOf"/>, watch
/// <see cref="KernelEvent"/>s with a probe, and assert placement, vmstat, numa_maps and the checkers. Deterministic by
/// default; pass <see cref="KernelTestMode.Concurrent"/> for real threads and real time.
/// </summary>
/// <example><code>
/// public sealed class MbindSpec(ITestOutputHelper output) : KernelTestKit(output)
/// {
///     [Fact]
///     public async Task Mbind_move_puts_the_pages_on_node_1()
///     {
///         var machine = Boot(m => m.Task("app", cpu: 0));
///         var app = machine.Task("app");
///         var range = PageRange.At(0x10000000, 16);
///         await Kernel.Mmap(app, range);
///         await Kernel.Touch(app, range);
///         var r = await Kernel.Mbind(app, range, MpolMode.Bind, nodes: [1], MpolFlags.Move);
///         Assert.Equal(Errno.None, r.Errno);
///         await Kernel.Touch(app, range);
///         machine.AssertPages(app, range, node1: 16);
///     }
/// }
/// </code></example>
public abstract class KernelTestKit : Akka.TestKit.Xunit2.TestKit
{
    private EmulatedMachine? _machine;

    /// <summary>A spec in <paramref name="mode"/>, logging to xUnit's output.</summary>
    /// <param name="output">xUnit's output helper (the actor system's log goes there).</param>
    /// <param name="mode">Deterministic (default) or concurrent.</param>
    /// <param name="config">More HOCON, over the mode's.</param>
    protected KernelTestKit(ITestOutputHelper? output = null, KernelTestMode mode = KernelTestMode.Deterministic, string? config = null)
        : base(Configure(mode, config), "actornuma-spec", output)
    {
        Mode = mode;
    }

    /// <summary>The mode this spec's system runs in.</summary>
    public KernelTestMode Mode { get; }

    /// <summary>The machine booted last.</summary>
    /// <exception cref="InvalidOperationException">Nothing booted yet.</exception>
    protected EmulatedMachine Machine => _machine ?? throw new InvalidOperationException("no machine booted: call Boot() first");

    /// <summary>Typed syscalls on <see cref="Machine"/>.</summary>
    protected KernelSyscalls Kernel => Machine.Kernel;

    /// <summary>Boots a machine (disposing the previous one of this spec).</summary>
    /// <param name="build">Describes it.</param>
    /// <param name="schedule">Deterministic mode: the schedule (default: the <see cref="KernelTheoryAttribute"/> case's,
    /// else seed 1, random).</param>
    /// <returns>The machine.</returns>
    protected EmulatedMachine Boot(Action<MachineBuilder>? build = null, KernelSchedule? schedule = null)
    {
        _machine?.Dispose();
        _machine = EmulatedMachine.Boot(Sys, build, schedule);
        return _machine;
    }

    /// <summary>Stops the machine and terminates the system (running the kernel actors' shutdown in the deterministic mode).</summary>
    protected override void AfterAll()
    {
        _machine?.Dispose();
        KernelTestKitConfig.Shutdown(Sys);
        base.AfterAll();
    }

    private static Config Configure(KernelTestMode mode, string? config) =>
        config is null ? KernelTestKitConfig.For(mode) : ConfigurationFactory.ParseString(config).WithFallback(KernelTestKitConfig.For(mode));
}

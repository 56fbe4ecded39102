using ActorNuma.Simulation.Scheduling;
using Akka.Configuration;
using Xunit.Abstractions;

namespace ActorNuma.Kernel.Tests.Support;

/// <summary>
/// The base of every kernel actor spec: a TestKit whose actor system runs in the deterministic mode, so kernel actors
/// run on the seeded executor, one message per step, only when the test pumps, and time is virtual.
/// </summary>
/// <remarks>
/// <para>
/// TestKit probes run on the calling-thread dispatcher, so a message a kernel actor sends to a probe is in the probe's
/// queue as soon as the pump step that sent it returns. A spec therefore tells, pumps (<see cref="KernelRig.Send"/>),
/// and then expects with the short default below: the reply is already there or it never comes. "Nothing arrived" is
/// checked with <c>HasMessages</c>, which does not wait at all.
/// </para>
/// <para>
/// Spec classes live in the namespace <c>ActorNuma.Kernel.Tests</c>, not one per folder: a namespace
/// <c>ActorNuma.Kernel.Tests.NumaNode</c> would hide the protocol class <c>ActorNuma.Kernel.NumaNode</c> from every spec.
/// </para>
/// </remarks>
public abstract class KernelSpec : Akka.TestKit.Xunit2.TestKit
{
    /// <summary>How long an expectation waits. Replies are in the probe's queue once the pump is idle; the wait only
    /// bounds how long a failing expectation takes to say so.</summary>
    public static readonly TimeSpan ExpectTimeout = TimeSpan.FromMilliseconds(250);

    /// <param name="output">xunit's output, for the actor system's log.</param>
    /// <param name="seed">The seed of the executor: the order in which runnable kernel mailboxes are served.</param>
    protected KernelSpec(ITestOutputHelper output, int seed)
        : base(Configure(seed), $"kernel-spec-{seed}", output)
    {
        Seed = seed;
        Pump = DeterministicPump.For(Sys);
    }

    public int Seed { get; }

    public DeterministicPump Pump { get; }

    /// <summary>A machine of <see cref="SmallMachine"/> shape whose actors are all probes until a spec spawns real ones.</summary>
    protected KernelRig NewRig(KernelSettings? settings = null) => new(this, settings ?? SmallMachine.Settings());

    /// <summary>Stopping kernel actors takes pump steps, which nothing but the pump runs.</summary>
    protected override void AfterAll()
    {
        DeterministicPump.Terminate(Sys);
        base.AfterAll();
    }

    private static Config Configure(int seed) =>
        DeterministicConfig.Create(seed).WithFallback(ConfigurationFactory.ParseString(
            $"akka.test.single-expect-default = {(int)ExpectTimeout.TotalMilliseconds}ms"));
}

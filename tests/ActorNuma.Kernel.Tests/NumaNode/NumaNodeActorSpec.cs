using ActorNuma.Kernel.Tests.Support;
using Xunit.Abstractions;

namespace ActorNuma.Kernel.Tests;

/// <summary>
/// <see cref="NumaNodeActor"/>, node 0 of a <see cref="SmallMachine"/>, alone among probes: node 1, the swap device and
/// the tasks are probes, so every message the node sends to a peer is asserted and every answer is the spec's to give.
/// One partial file per concern of the actor: allocation, pagevecs, isolation and putback, swapout, swap-in.
/// </summary>
public sealed partial class NumaNodeActorSpec : KernelSpec
{
    /// <summary>Node 0 is the only kernel actor in most specs, so the seed orders little; it is named all the same.</summary>
    private const int SpecSeed = 14;

    private const int Task1 = 1;
    private const int Task2 = 2;

    public NumaNodeActorSpec(ITestOutputHelper output) : base(output, SpecSeed)
    {
    }

    private NodeUnderTest NewNode(KernelSettings? settings = null) => new(NewRig(settings), node: 0);
}

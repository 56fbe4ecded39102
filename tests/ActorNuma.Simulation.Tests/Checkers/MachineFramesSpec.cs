using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;

namespace ActorNuma.Simulation.Tests.Checkers;

/// <summary>The machine-wide frame numbers the PTE-reading checkers look frames up by: a pfn gets the number its node and
/// index give it whether the nodes lie end to end (the kernel's layout, numbered without a division) or not, and a pfn
/// on no node throws as looking it up on its node did.</summary>
[Trait("kind", "unit")]
public sealed class MachineFramesSpec
{
    private static KernelMachine Machine(params (int FirstPfn, int Pages)[] nodes)
    {
        var topology = new Topology(nodes.Length, 1, 16);
        var machine = new KernelMachine(new KernelSettings { Topology = topology, Profile = KernelProfile.V2 }, new KernelTrace(() => TimeSpan.Zero));
        for (var n = 0; n < nodes.Length; n++)
        {
            machine.Register(new NodeState(new NodeMemory(n, nodes[n].FirstPfn, nodes[n].Pages, new Watermarks(0, 0, 0), holdsZeroPage: false), []));
        }

        return machine;
    }

    [Fact]
    public void Nodes_end_to_end_number_each_pfn_as_its_node_offset_plus_its_index()
    {
        var frames = new MachineFrames();
        frames.Load(Machine((0, 16), (16, 16)));

        Assert.Equal([0, 15, 16, 31], new[] { 0, 15, 16, 31 }.Select(frames.Of));
        Assert.Throws<IndexOutOfRangeException>(() => frames.Of(32));
        Assert.Throws<IndexOutOfRangeException>(() => frames.Of(-1));
    }

    [Fact]
    public void A_node_that_does_not_follow_the_one_before_is_numbered_by_its_own_first_pfn()
    {
        var frames = new MachineFrames();
        frames.Load(Machine((0, 16), (20, 12)));

        Assert.Equal(32 - 4, frames.Total);
        Assert.Equal([15, 16, 27], new[] { 15, 20, 31 }.Select(frames.Of));
        Assert.Throws<IndexOutOfRangeException>(() => frames.Of(16));
    }

    [Fact]
    public void Loading_another_machine_renumbers_its_frames()
    {
        var frames = new MachineFrames();
        frames.Load(Machine((0, 16), (20, 12)));
        frames.Load(Machine((0, 16), (16, 16)));

        Assert.Equal(16, frames.Of(16));
    }
}

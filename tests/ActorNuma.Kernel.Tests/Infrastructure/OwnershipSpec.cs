using ActorNuma.Mm;
using System.Reflection;

namespace ActorNuma.Kernel.Tests.Infrastructure;

/// <summary>What the compiler enforces about ownership, checked so that a later change cannot quietly undo it: the state
/// the machine shows checkers and reports is made of read-only views, and the messages the kernel's actors send each
/// other are not visible outside the kernel.</summary>
public sealed class OwnershipSpec
{
    /// <summary>The mutable model types whose instances belong to one actor.</summary>
    private static readonly Type[] Owned =
        [typeof(NodeMemory), typeof(PageTable), typeof(VmaList), typeof(SwapMap), typeof(VmStat), typeof(CpuPagevecs), typeof(Pagevec)];

    public static TheoryData<Type> States => new() { typeof(NodeState), typeof(SwapState), typeof(TaskState) };

    [Theory]
    [MemberData(nameof(States))]
    public void A_state_the_checkers_read_exposes_no_setter_and_no_mutable_model_object(Type state)
    {
        foreach (var p in state.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            Assert.False(p.SetMethod?.IsPublic ?? false, $"{state.Name}.{p.Name} has a public setter");
            Assert.DoesNotContain(p.PropertyType, Owned);
            Assert.False(p.PropertyType.IsArray, $"{state.Name}.{p.Name} is an array the reader could write");
            Assert.False(p.PropertyType.IsGenericType && p.PropertyType.GetGenericTypeDefinition() is var g
                && (g == typeof(HashSet<>) || g == typeof(List<>) || g == typeof(Dictionary<,>)),
                $"{state.Name}.{p.Name} is a mutable collection");
        }
    }

    [Fact]
    public void The_machine_lists_its_actors_states_and_nothing_else_about_them()
    {
        Assert.Equal(typeof(IReadOnlyList<NodeState>), typeof(KernelMachine).GetProperty(nameof(KernelMachine.Nodes))!.PropertyType);
        Assert.Equal(typeof(IReadOnlyList<TaskState>), typeof(KernelMachine).GetProperty(nameof(KernelMachine.Tasks))!.PropertyType);
        Assert.Equal(typeof(IReadOnlyNodeMemory), typeof(NodeState).GetProperty(nameof(NodeState.Memory))!.PropertyType);
        Assert.Equal(typeof(IReadOnlyPageTable), typeof(TaskState).GetProperty(nameof(TaskState.PageTable))!.PropertyType);
    }

    [Fact]
    public void Node_to_node_and_swap_device_messages_are_internal_to_the_kernel()
    {
        Type[] internalOnly =
        [
            typeof(NumaNode.PagevecLruAdd), typeof(NumaNode.TryRemoveExclusive), typeof(NumaNode.LruCacheAdd),
            typeof(NumaNode.AllocPages), typeof(SwapDevice.AddToSwap), typeof(SwapDevice.ExclusiveRemoved),
            typeof(NumaTask.TryToUnmap), typeof(NumaTask.UnmapResult), typeof(Kswapd.Wakeup),
        ];
        Assert.All(internalOnly, t => Assert.False(t.IsVisible, $"{t.FullName} is visible outside the kernel"));
        // What scenarios and the CLI use stays public.
        Assert.All([typeof(NumaTask.Touch), typeof(NumaTask.QueryPages), typeof(KernelRoot.SpawnTask)], t => Assert.True(t.IsVisible));
    }
}

namespace ActorNuma.Mm.Tests.Core;

/// <summary><c>nodemask_t</c> operations and the kernel's node-list text ("0-2,5").</summary>
public sealed class NodeMaskSpec
{
    [Fact]
    public void The_empty_mask_has_no_nodes()
    {
        var m = NodeMask.Empty;

        Assert.True(m.IsEmpty);
        Assert.Equal(0, m.Weight);
        Assert.Equal(-1, m.First);
        Assert.Empty(m.Nodes());
        Assert.Equal("", m.ToString());
        Assert.Equal(-1, m.Nth(0));
    }

    [Fact]
    public void Of_sets_exactly_the_given_nodes()
    {
        var m = NodeMask.Of(0, 3, 63);

        Assert.Equal((1UL << 0) | (1UL << 3) | (1UL << 63), m.Bits);
        Assert.Equal(3, m.Weight);
        Assert.Equal([0, 3, 63], m.Nodes());
        Assert.Equal(NodeMask.Of(new List<int> { 63, 3, 0, 3 }), m);
    }

    [Theory]
    [InlineData(0, 0UL)]
    [InlineData(1, 1UL)]
    [InlineData(4, 0xfUL)]
    [InlineData(63, 0x7fff_ffff_ffff_ffffUL)]
    [InlineData(64, ulong.MaxValue)]
    public void First_n_sets_nodes_0_to_n_minus_1(int n, ulong bits)
    {
        Assert.Equal(bits, NodeMask.FirstN(n).Bits);
        Assert.Equal(n, NodeMask.FirstN(n).Weight);
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, false)]
    [InlineData(2, true)]
    [InlineData(5, true)]
    [InlineData(63, false)]
    [InlineData(64, false)]
    [InlineData(1000, false)]
    public void Contains_is_false_for_nodes_outside_the_mask_or_the_range(int node, bool expected)
    {
        Assert.Equal(expected, NodeMask.Of(2, 5).Contains(node));
    }

    [Fact]
    public void First_is_the_lowest_node()
    {
        Assert.Equal(2, NodeMask.Of(7, 2, 40).First);
        Assert.Equal(63, NodeMask.Of(63).First);
    }

    [Fact]
    public void Next_walks_the_set_nodes_upward_and_ends_with_minus_one()
    {
        var m = NodeMask.Of(1, 4, 62, 63);

        Assert.Equal(4, m.Next(1));
        Assert.Equal(4, m.Next(2));
        Assert.Equal(62, m.Next(4));
        Assert.Equal(63, m.Next(62));
        Assert.Equal(-1, m.Next(63));
        Assert.Equal(1, m.Next(0));
        Assert.Equal(-1, NodeMask.Of(3).Next(3));
    }

    [Fact]
    public void Nth_counts_set_nodes_from_the_lowest()
    {
        var m = NodeMask.Of(1, 4, 9);

        Assert.Equal(1, m.Nth(0));
        Assert.Equal(4, m.Nth(1));
        Assert.Equal(9, m.Nth(2));
        Assert.Equal(-1, m.Nth(3));
    }

    [Fact]
    public void Subset_and_and_without_behave_as_set_operations()
    {
        var a = NodeMask.Of(0, 1, 2);
        var b = NodeMask.Of(1, 2, 3);

        Assert.True(NodeMask.Of(1, 2).IsSubsetOf(a));
        Assert.True(a.IsSubsetOf(a));
        Assert.True(NodeMask.Empty.IsSubsetOf(a));
        Assert.False(b.IsSubsetOf(a));
        Assert.Equal(NodeMask.Of(1, 2), a.And(b));
        Assert.Equal(NodeMask.Of(0), a.Without(b));
        Assert.Equal(NodeMask.Empty, a.Without(a));
    }

    [Fact]
    public void The_mask_prints_its_nodes_separated_by_commas()
    {
        Assert.Equal("0,1,3", NodeMask.Of(3, 0, 1).ToString());
    }

    [Fact]
    public void Max_num_nodes_is_64()
    {
        Assert.Equal(64, NodeMask.MaxNumNodes);
    }

    // ---- NodeList.Format (nodelist_scnprintf) ---------------------------------------------------------------

    [Theory]
    [InlineData(new int[0], "")]
    [InlineData(new[] { 3 }, "3")]
    [InlineData(new[] { 0, 1 }, "0-1")]
    [InlineData(new[] { 0, 1, 2, 5 }, "0-2,5")]
    [InlineData(new[] { 0, 2, 4 }, "0,2,4")]
    [InlineData(new[] { 1, 2, 3, 7, 8, 10 }, "1-3,7-8,10")]
    [InlineData(new[] { 5, 62, 63 }, "5,62-63")]
    public void Node_lists_print_runs_as_ranges(int[] nodes, string expected)
    {
        Assert.Equal(expected, NodeList.Format(NodeMask.Of(nodes)));
    }

    [Fact]
    public void All_sixty_four_nodes_print_as_one_range()
    {
        Assert.Equal("0-63", NodeList.Format(NodeMask.FirstN(64)));
    }
}

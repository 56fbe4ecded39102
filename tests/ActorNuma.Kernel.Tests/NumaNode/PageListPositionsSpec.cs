namespace ActorNuma.Kernel.Tests;

/// <summary>A pageout list's positions: each frame maps back to where it stands, a frame named again is one page at
/// its first position, and lists of one node share its hints without reading each other's.</summary>
public sealed class PageListPositionsSpec
{
    /// <summary>A node's hints: one per frame, frames 0 to 2^20.</summary>
    private readonly int[] _hints = new int[(1 << 20) + 1];

    [Fact]
    public void Each_frame_maps_back_to_its_position_in_the_list()
    {
        int[] idxs = [40, 3, 17, 0, 1 << 20];
        var positions = new PageListPositions();

        Assert.Equal(5, positions.Build(idxs, idxs.Length, _hints));
        for (var k = 0; k < idxs.Length; k++)
        {
            Assert.Equal(k, positions.Of(idxs[k]));
        }
    }

    [Fact]
    public void Lookups_in_any_order_find_each_frame()
    {
        int[] idxs = [40, 3, 17, 0, 8, 12];
        var positions = new PageListPositions();
        positions.Build(idxs, idxs.Length, _hints);

        foreach (var (idx, at) in new[] { (17, 2), (0, 3), (40, 0), (3, 1), (3, 1), (17, 2), (0, 3), (8, 4), (12, 5) })
        {
            Assert.Equal(at, positions.Of(idx));
        }

        Assert.Throws<KeyNotFoundException>(() => positions.Of(41));
    }

    [Fact]
    public void A_frame_named_again_is_one_page_at_its_first_position()
    {
        int[] idxs = [9, 4, 9, 4, 9, 2];
        var positions = new PageListPositions();

        Assert.Equal(3, positions.Build(idxs, idxs.Length, _hints));
        Assert.Equal([9, 4, -1, -1, -1, 2], idxs);
        Assert.Equal(0, positions.Of(9));
        Assert.Equal(1, positions.Of(4));
        Assert.Equal(5, positions.Of(2));
    }

    [Fact]
    public void Only_the_first_count_entries_are_the_list()
    {
        int[] idxs = [5, 6, 7, 8];
        var positions = new PageListPositions();

        Assert.Equal(2, positions.Build(idxs, 2, _hints));
        Assert.Equal(1, positions.Of(6));
        Assert.Throws<KeyNotFoundException>(() => positions.Of(7));
        Assert.Equal([5, 6, 7, 8], idxs);
    }

    [Fact]
    public void The_next_list_keeps_nothing_of_the_last()
    {
        var positions = new PageListPositions();
        positions.Build([1, 2, 3, 4, 5, 6], 6, _hints);

        Assert.Equal(2, positions.Build([6, 1], 2, _hints));
        Assert.Equal(0, positions.Of(6));
        Assert.Equal(1, positions.Of(1));
        Assert.Throws<KeyNotFoundException>(() => positions.Of(3));
        positions.Clear();
        Assert.Throws<KeyNotFoundException>(() => positions.Of(6));
    }

    [Fact]
    public void Two_open_lists_of_a_node_find_their_own_frames_after_one_reused_a_frame_of_the_other()
    {
        var first = new PageListPositions();
        var second = new PageListPositions();
        int[] a = [10, 11, 12];
        first.Build(a, a.Length, _hints);
        // Frame 11 left the first list (freed, reallocated) and is in the second now: its hint is the second's.
        int[] b = [30, 11];
        second.Build(b, b.Length, _hints);

        Assert.Equal(1, second.Of(11));
        Assert.Equal(0, first.Of(10));
        Assert.Equal(2, first.Of(12));
        // The first list still names frame 11 at position 1 (its verdict is written there): found by search.
        Assert.Equal(1, first.Of(11));
    }

    [Fact]
    public void A_frame_that_is_not_in_the_list_is_a_clear_error()
    {
        var positions = new PageListPositions();
        positions.Build([10, 30, 20], 3, _hints);

        var e = Assert.Throws<KeyNotFoundException>(() => positions.Of(25));
        Assert.Equal("frame 25 is not in the page list", e.Message);
    }
}

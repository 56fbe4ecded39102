using ActorNuma.Mm;

namespace ActorNuma.Mm.Tests.Page;

/// <summary>Retired frames (PG_hwpoison after soft_offline_page) leave the free list and the free count for good.</summary>
public sealed class NodeMemoryRetireSpec
{
    private readonly NodeMemory _m = new(1, 16, 16, new Watermarks(0, 0, 0), holdsZeroPage: false);

    [Fact]
    public void A_retired_free_frame_leaves_the_free_list_and_the_free_count_and_is_never_allocated()
    {
        _m.RetireFree(5);

        Assert.Equal(15, _m.FreePages);
        Assert.DoesNotContain(5, _m.FreeList());
        Assert.Equal(FramePlace.Retired, _m.Place(5));
        Assert.Equal(PageFlags.HwPoison, _m.Flags(5));
        Assert.Equal([5], _m.RetiredFrames);
        var handedOut = Enumerable.Range(0, 15).Select(_ => _m.AllocFrame()).ToList();
        Assert.DoesNotContain(5, handedOut);
        Assert.Equal(-1, _m.AllocFrame());
    }

    [Fact]
    public void A_frame_marked_while_in_use_is_retired_instead_of_freed_when_its_last_reference_goes()
    {
        var idx = _m.AllocFrame();
        _m.MarkPoisonPending(idx);

        Assert.Equal(PutResult.Freed, _m.PutPage(idx));
        Assert.Equal(FramePlace.Retired, _m.Place(idx));
        Assert.Equal(15, _m.FreePages);
        Assert.False(_m.PoisonPending(idx));
        Assert.DoesNotContain(idx, _m.FreeList());
    }

    [Fact]
    public void A_mark_cleared_after_a_failed_attempt_lets_the_frame_be_freed_normally()
    {
        var idx = _m.AllocFrame();
        _m.MarkPoisonPending(idx);
        _m.ClearPoisonPending(idx);

        _m.PutPage(idx);

        Assert.Equal(FramePlace.Free, _m.Place(idx));
        Assert.Equal(16, _m.FreePages);
        Assert.Empty(_m.RetiredFrames);
    }

    [Fact]
    public void Retiring_a_frame_that_is_not_free_is_a_kernel_bug()
    {
        var idx = _m.AllocFrame();

        Assert.Throws<InvalidOperationException>(() => _m.RetireFree(idx));
    }
}

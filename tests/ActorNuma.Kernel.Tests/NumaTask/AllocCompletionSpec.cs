namespace ActorNuma.Kernel.Tests;

/// <summary>The bookkeeping of one allocation from the task's side (2.6.14 __alloc_pages as the task drives it): it
/// is over once every item is answered and every slow path it started has ended, and it says so exactly once.</summary>
public sealed class AllocCompletionSpec
{
    [Fact]
    public void A_slow_path_that_ends_inside_the_reply_that_started_it_completes_the_allocation_once()
    {
        // A task the OOM killer already chose fails its pages_min pass at once: the slow path ends before the reply
        // that refused the items has finished, and the reply then checks again.
        var completions = 0;
        var call = new AllocCompletion(2, () => completions++);

        call.Answered(2);
        call.SlowPathStarted();
        call.SlowPathDone();
        call.CompleteIfDone();

        Assert.Equal(1, completions);
        Assert.True(call.AllAnswered);
    }

    [Fact]
    public void A_nested_allocation_that_completes_once_leaves_its_parent_waiting_for_its_other_items()
    {
        // The parent: 12 swap-in pages; 2 refused at pages_low go down the slow path, 10 are still being read. The
        // slow path's own allocation fails at once (TIF_MEMDIE) and must end the parent's slow path once, so that the
        // 10 pages read later complete the parent.
        var parentDone = 0;
        var parent = new AllocCompletion(12, () => parentDone++);
        parent.Answered(2);
        parent.SlowPathStarted();
        var nested = new AllocCompletion(2, parent.SlowPathDone);

        nested.Answered(2);
        nested.SlowPathStarted();
        nested.SlowPathDone();
        nested.CompleteIfDone();
        parent.CompleteIfDone();

        Assert.Equal(0, parentDone);
        Assert.False(parent.AllAnswered);

        parent.Answered(10);
        parent.CompleteIfDone();

        Assert.Equal(1, parentDone);
    }

    [Fact]
    public void An_allocation_waits_for_a_slow_path_that_ends_after_every_item_is_answered()
    {
        var completions = 0;
        var call = new AllocCompletion(3, () => completions++);

        call.Answered(1);
        call.SlowPathStarted();
        call.Answered(2);
        call.CompleteIfDone();

        Assert.Equal(0, completions);

        call.SlowPathDone();

        Assert.Equal(1, completions);
    }
}

namespace ActorNuma.Mm.Tests.Core;

public sealed class PfnBitmapSpec
{
    [Fact]
    public void TestAndSet_marks_a_pfn_once()
    {
        var marks = new PfnBitmap(200);

        Assert.True(marks.TestAndSet(130));
        Assert.False(marks.TestAndSet(130));
        Assert.True(marks.Test(130));
        Assert.False(marks.Test(129));
        Assert.False(marks.Test(131));
    }

    [Fact]
    public void TestAndClear_says_whether_the_pfn_was_marked_and_leaves_it_clear()
    {
        var marks = new PfnBitmap(200);
        marks.TestAndSet(0);
        marks.TestAndSet(63);
        marks.TestAndSet(64);
        marks.TestAndSet(199);

        Assert.True(marks.TestAndClear(63));
        Assert.False(marks.TestAndClear(63));
        Assert.True(marks.Test(0));
        Assert.True(marks.Test(64));
        Assert.False(marks.IsClear);

        marks.TestAndClear(0);
        marks.TestAndClear(64);
        marks.TestAndClear(199);
        Assert.True(marks.IsClear);
    }

    [Fact]
    public void The_last_pfn_of_a_size_that_is_not_a_multiple_of_64_has_its_bit()
    {
        var marks = new PfnBitmap(65);

        Assert.True(marks.TestAndSet(64));
        Assert.Throws<IndexOutOfRangeException>(() => marks.TestAndSet(128));
    }
}

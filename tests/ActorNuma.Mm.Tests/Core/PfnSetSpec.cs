using CsCheck;

namespace ActorNuma.Mm.Tests.Core;

/// <summary>A task's isolated pages as a bitmap: it answers every set question as a <c>HashSet&lt;int&gt;</c> of the same
/// pfns would, whatever the order of adds and removes.</summary>
public sealed class PfnSetSpec
{
    [Fact]
    public void Adds_and_removes_answer_as_a_hash_set_does()
    {
        Gen.Select(Gen.Bool, Gen.Int[0, 5_000]).Array[0, 400].Sample(ops =>
        {
            var set = new PfnSet();
            var expected = new HashSet<int>();
            foreach (var (add, pfn) in ops)
            {
                Assert.Equal(add ? expected.Add(pfn) : expected.Remove(pfn), add ? set.Add(pfn) : set.Remove(pfn));
            }

            Assert.Equal(expected.Count, set.Count);
            Assert.Equal(expected.Order().ToArray(), set.ToArray());   // in pfn order
            Assert.True(set.SetEquals(expected));
            Assert.All(Enumerable.Range(-1, 5_100), pfn => Assert.Equal(expected.Contains(pfn), set.Contains(pfn)));
        });
    }

    [Fact]
    public void Set_relations_compare_the_distinct_pfns()
    {
        var set = new PfnSet();
        foreach (var pfn in new[] { 3, 64, 4095 })
        {
            set.Add(pfn);
        }

        Assert.True(set.SetEquals([4095, 3, 64, 3]));
        Assert.True(set.IsSubsetOf([3, 64, 4095]) && !set.IsProperSubsetOf([3, 64, 4095]));
        Assert.True(set.IsProperSubsetOf([3, 64, 4095, 7]));
        Assert.True(set.IsProperSupersetOf([3, 3, 64]) && set.IsSupersetOf([3, 64, 4095]));
        Assert.True(set.Overlaps([1, 2, 64]) && !set.Overlaps([1, 2, 63]));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Add(-1));
        Assert.False(set.Remove(5000));
    }
}

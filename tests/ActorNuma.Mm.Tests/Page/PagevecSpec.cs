namespace ActorNuma.Mm.Tests.Page;

/// <summary><c>struct pagevec</c> (include/linux/pagevec.h) and a CPU's two lru_add vectors.</summary>
public sealed class PagevecSpec
{
    [Fact]
    public void A_pagevec_holds_fourteen_pages()
    {
        Assert.Equal(14, Pagevec.PagevecSize);
    }

    [Fact]
    public void Add_returns_the_space_left_so_the_fourteenth_add_returns_zero()
    {
        var pv = new Pagevec();

        var left = Enumerable.Range(100, 14).Select(pv.Add).ToArray();

        Assert.Equal(Enumerable.Range(0, 14).Reverse(), left);
        Assert.Equal(14, pv.Count);
    }

    [Fact]
    public void Pages_are_kept_in_the_order_they_were_added()
    {
        var pv = new Pagevec();
        pv.Add(7);
        pv.Add(3);
        pv.Add(9);

        Assert.Equal([7, 3, 9], pv.Pages.ToArray());
        Assert.True(pv.Contains(3));
        Assert.False(pv.Contains(4));
    }

    [Fact]
    public void DrainInto_copies_the_pages_in_order_and_empties_the_vector()
    {
        var pv = new Pagevec();
        for (var p = 0; p < 14; p++)
        {
            pv.Add(p * 10);
        }

        var into = new int[Pagevec.PagevecSize];
        var count = pv.DrainInto(into);

        Assert.Equal(14, count);
        Assert.Equal(Enumerable.Range(0, 14).Select(p => p * 10), into);
        Assert.Equal(0, pv.Count);
        Assert.True(pv.Pages.IsEmpty);
        Assert.False(pv.Contains(0));
        Assert.Equal(13, pv.Add(5));
    }

    [Fact]
    public void Draining_an_empty_vector_returns_nothing()
    {
        Assert.Equal(0, new Pagevec().DrainInto(new int[Pagevec.PagevecSize]));
    }

    [Fact]
    public void A_cpu_has_an_inactive_and_an_active_vector_counted_together()
    {
        var cpu = new CpuPagevecs(3);
        cpu.LruAdd.Add(1);
        cpu.LruAdd.Add(2);
        cpu.LruAddActive.Add(3);

        Assert.Equal(3, cpu.Cpu);
        Assert.Equal(3, cpu.Count);
        Assert.NotSame(cpu.LruAdd, cpu.LruAddActive);
        Assert.False(cpu.LruAdd.Contains(3));
    }
}

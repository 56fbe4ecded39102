namespace ActorNuma.Mm.Tests.Policy;

/// <summary>sys_move_pages' argument checks of 2.6.18 (mm/migrate.c), in the kernel's order.</summary>
public sealed class MovePagesChecksSpec
{
    private static readonly NodeMask Online = NodeMask.FirstN(2);

    [Theory]
    [InlineData((int)MpolFlags.Move, false, Errno.None)]
    [InlineData((int)MpolFlags.Strict, true, Errno.EINVAL)]
    [InlineData((int)(MpolFlags.Strict | MpolFlags.MoveAll), false, Errno.EINVAL)]   // flags come before the capability
    [InlineData((int)MpolFlags.MoveAll, false, Errno.EPERM)]
    [InlineData((int)MpolFlags.MoveAll, true, Errno.None)]
    [InlineData(0, false, Errno.None)]
    [InlineData(-1, true, Errno.EINVAL)]
    public void Flags_other_than_move_and_move_all_are_einval_and_move_all_needs_cap_sys_nice(int flags, bool sysNice, Errno expected) =>
        Assert.Equal(expected, SyscallChecks.CheckMovePagesFlags(flags, sysNice));

    [Fact]
    public void A_count_at_the_page_to_node_overflow_limit_is_e2big_before_any_entry_is_read()
    {
        var limit = ulong.MaxValue / SyscallChecks.PageToNodeSize - 1;
        Assert.Equal(Errno.E2BIG, SyscallChecks.CheckMovePagesArrays(limit, 0, null, MovePagesFault.Pages, Online, Online));
        Assert.Equal(Errno.EFAULT, SyscallChecks.CheckMovePagesArrays(limit - 1, 0, null, MovePagesFault.None, Online, Online));
    }

    [Fact]
    public void The_first_bad_entry_decides_between_efault_enodev_and_eacces()
    {
        // Entry 0 names an offline node, entry 1 is past the nodes array: ENODEV, as entry 0 comes first.
        Assert.Equal(Errno.ENODEV, SyscallChecks.CheckMovePagesArrays(2, 2, [5], MovePagesFault.None, Online, Online));
        Assert.Equal(Errno.EFAULT, SyscallChecks.CheckMovePagesArrays(2, 2, [1], MovePagesFault.None, Online, Online));
        Assert.Equal(Errno.EFAULT, SyscallChecks.CheckMovePagesArrays(2, 1, [1, 5], MovePagesFault.None, Online, Online));
        Assert.Equal(Errno.EACCES, SyscallChecks.CheckMovePagesArrays(1, 1, [1], MovePagesFault.None, Online, NodeMask.Of(0)));
        Assert.Equal(Errno.ENODEV, SyscallChecks.CheckMovePagesArrays(1, 1, [-1], MovePagesFault.None, Online, Online));
        Assert.Equal(Errno.EFAULT, SyscallChecks.CheckMovePagesArrays(1, 1, [1], MovePagesFault.Nodes, Online, Online));
        Assert.Equal(Errno.EFAULT, SyscallChecks.CheckMovePagesArrays(1, 1, [5], MovePagesFault.Pages, Online, Online));
    }

    [Fact]
    public void A_null_nodes_array_reads_only_the_pages()
    {
        Assert.Equal(Errno.None, SyscallChecks.CheckMovePagesArrays(3, 3, null, MovePagesFault.Nodes, Online, Online));
        Assert.Equal(Errno.None, SyscallChecks.CheckMovePagesArrays(0, 0, [], MovePagesFault.Pages, Online, Online));
    }

    [Fact]
    public void A_migration_entry_is_neither_present_nor_swap_and_keeps_its_frame_and_write_bit()
    {
        var pte = Pte.Migration(1234, write: true);
        Assert.True(pte.IsMigration);
        Assert.False(pte.IsPresent);
        Assert.False(pte.IsSwap);
        Assert.False(pte.IsNone);
        Assert.Equal(1234, pte.MigrationPfn);
        Assert.True(pte.Writable);
        Assert.False(Pte.Migration(7, write: false).Writable);
        Assert.Throws<InvalidOperationException>(() => pte.Pfn);
        Assert.False(Pte.Present(5, true).IsMigration);
    }
}

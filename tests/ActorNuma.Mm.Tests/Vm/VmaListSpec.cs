namespace ActorNuma.Mm.Tests.Vm;

public sealed class VmaListSpec
{
    private const ulong P = MmConstants.PageSize;
    private const ulong Base = 0x1000_0000;
    private static readonly MemPolicy Bind0 = new(MpolMode.Bind, NodeMask.Of(0));
    private static readonly MemPolicy Interleave01 = new(MpolMode.Interleave, NodeMask.Of(0, 1));

    private static VmaList WithMapping(ulong start, ulong pages, out Vma vma)
    {
        var list = new VmaList();
        vma = list.Insert(start, start + pages * P, VmFlags.Read | VmFlags.Write);
        return list;
    }

    [Fact]
    public void A_private_anonymous_mapping_gets_its_virtual_page_number_as_pgoff()
    {
        WithMapping(Base, 16, out var vma);

        Assert.Equal(Base >> 12, vma.Pgoff);
        Assert.Equal(16, vma.Pages);
        Assert.Equal(Base / P + 5, vma.PageIndexOf(Base + 5 * P + 123));
        Assert.True(vma.Contains(Base));
        Assert.False(vma.Contains(Base + 16 * P));
        Assert.Null(vma.Policy);
    }

    [Fact]
    public void Mappings_are_kept_sorted_whatever_the_insertion_order()
    {
        var list = new VmaList();
        list.Insert(Base + 100 * P, Base + 110 * P, VmFlags.Read);
        list.Insert(Base, Base + 10 * P, VmFlags.Read);
        list.Insert(Base + 50 * P, Base + 60 * P, VmFlags.Read);

        Assert.Equal([Base, Base + 50 * P, Base + 100 * P], list.All.Select(v => v.Start));
        Assert.Equal(3, list.Count);
    }

    [Fact]
    public void Find_vma_returns_the_first_mapping_ending_above_the_address_even_across_a_hole()
    {
        var list = new VmaList();
        var low = list.Insert(Base, Base + 4 * P, VmFlags.Read);
        var high = list.Insert(Base + 10 * P, Base + 12 * P, VmFlags.Read);

        Assert.Same(low, list.FindVma(0));
        Assert.Same(low, list.FindVma(Base + 4 * P - 1));
        Assert.Same(high, list.FindVma(Base + 4 * P));
        Assert.Same(high, list.FindVma(Base + 11 * P));
        Assert.Null(list.FindVma(Base + 12 * P));
    }

    [Fact]
    public void Find_vma_intersection_is_null_for_a_range_inside_a_hole()
    {
        var list = new VmaList();
        list.Insert(Base, Base + 4 * P, VmFlags.Read);
        var high = list.Insert(Base + 10 * P, Base + 12 * P, VmFlags.Read);

        Assert.Null(list.FindVmaIntersection(Base + 5 * P, Base + 10 * P));
        Assert.Same(high, list.FindVmaIntersection(Base + 5 * P, Base + 10 * P + 1));
        Assert.Null(list.FindVmaIntersection(0, 1));
        Assert.True(list.Overlaps(Base + 3 * P, Base + 5 * P));
        Assert.False(list.Overlaps(Base + 4 * P, Base + 10 * P));
    }

    [Fact]
    public void Inserting_over_an_existing_mapping_is_a_broken_invariant()
    {
        var list = WithMapping(Base, 4, out _);

        Assert.Throws<InvalidOperationException>(() => list.Insert(Base + 3 * P, Base + 8 * P, VmFlags.Read));
    }

    [Fact]
    public void Mbind_range_in_the_middle_splits_into_three_with_offsets_and_only_the_middle_policy_changed()
    {
        var list = WithMapping(Base, 16, out var vma);
        vma.Policy = Interleave01;

        var err = list.MbindRange(Base + 4 * P, Base + 8 * P, Bind0);

        Assert.Equal(Errno.None, err);
        Assert.Equal(3, list.Count);
        var (low, mid, high) = (list.All[0], list.All[1], list.All[2]);
        Assert.Equal((Base, Base + 4 * P, Base / P), (low.Start, low.End, low.Pgoff));
        Assert.Equal((Base + 4 * P, Base + 8 * P, Base / P + 4), (mid.Start, mid.End, mid.Pgoff));
        Assert.Equal((Base + 8 * P, Base + 16 * P, Base / P + 8), (high.Start, high.End, high.Pgoff));
        Assert.Same(Interleave01, low.Policy);
        Assert.Same(Bind0, mid.Policy);
        Assert.Same(Interleave01, high.Policy);
        // Every page keeps its interleave offset: offsets still equal virtual page numbers after the splits.
        Assert.All(list.All, v => Assert.Equal(v.Start / P, v.PageIndexOf(v.Start)));
    }

    [Fact]
    public void Mbind_range_over_two_mappings_splits_only_at_the_edges_and_leaves_others_alone()
    {
        var list = new VmaList();
        var a = list.Insert(Base, Base + 8 * P, VmFlags.Read);
        var b = list.Insert(Base + 8 * P, Base + 16 * P, VmFlags.Read);
        var c = list.Insert(Base + 32 * P, Base + 40 * P, VmFlags.Read);
        c.Policy = Interleave01;

        var err = list.MbindRange(Base + 2 * P, Base + 12 * P, Bind0);

        Assert.Equal(Errno.None, err);
        Assert.Equal(
            [(Base, Base + 2 * P), (Base + 2 * P, Base + 8 * P), (Base + 8 * P, Base + 12 * P), (Base + 12 * P, Base + 16 * P),
             (Base + 32 * P, Base + 40 * P)],
            list.All.Select(v => (v.Start, v.End)));
        Assert.Equal([null, Bind0, Bind0, null, Interleave01], list.All.Select(v => v.Policy));
        Assert.Same(a, list.All[1]);
        Assert.Same(b, list.All[2]);
    }

    [Fact]
    public void Mbind_range_with_the_default_policy_clears_the_vma_policy_and_does_not_merge()
    {
        var list = WithMapping(Base, 8, out _);
        list.MbindRange(Base + 2 * P, Base + 4 * P, Bind0);

        var err = list.MbindRange(Base + 2 * P, Base + 4 * P, MemPolicy.Default);

        Assert.Equal(Errno.None, err);
        Assert.Equal(3, list.Count);
        Assert.All(list.All, v => Assert.Null(v.Policy));
    }

    [Fact]
    public void Mbind_range_stops_at_a_failed_split_and_keeps_the_policies_already_installed()
    {
        var list = new VmaList();
        list.Insert(Base, Base + 4 * P, VmFlags.Read);
        list.Insert(Base + 4 * P, Base + 8 * P, VmFlags.Read);
        list.MaxMapCount = 2;

        var err = list.MbindRange(Base, Base + 6 * P, Bind0);

        Assert.Equal(Errno.ENOMEM, err);
        Assert.Equal([Bind0, null], list.All.Select(v => v.Policy));
        Assert.Equal(2, list.Count);
    }

    [Fact]
    public void Both_halves_of_a_split_share_the_policy_and_the_upper_half_advances_its_offset()
    {
        var list = WithMapping(Base, 8, out var vma);
        vma.Policy = Bind0;

        Assert.Equal(Errno.None, list.SplitVma(vma, Base + 3 * P, newBelow: false));

        Assert.Same(vma, list.All[0]);
        Assert.Equal((Base, Base + 3 * P, Base / P), (vma.Start, vma.End, vma.Pgoff));
        Assert.Equal((Base + 3 * P, Base / P + 3), (list.All[1].Start, list.All[1].Pgoff));
        Assert.Same(vma.Policy, list.All[1].Policy);
    }

    [Fact]
    public void A_hugetlb_vma_cannot_be_split_off_a_huge_page_boundary()
    {
        var list = new VmaList();
        var vma = list.Insert(0x4000_0000, 0x4000_0000 + 2 * MmConstants.HPageSize, VmFlags.Read | VmFlags.Hugetlb);

        Assert.Equal(Errno.EINVAL, list.SplitVma(vma, 0x4000_0000 + P, newBelow: true));
        Assert.Equal(Errno.None, list.SplitVma(vma, 0x4000_0000 + MmConstants.HPageSize, newBelow: true));
    }

    [Fact]
    public void Munmap_in_the_middle_leaves_two_mappings_with_their_offsets()
    {
        var list = WithMapping(Base, 16, out _);

        var removed = list.Unmap(Base + 4 * P, Base + 6 * P);

        Assert.Equal([(Base + 4 * P, Base + 6 * P)], removed);
        Assert.Equal([(Base, Base + 4 * P, Base / P), (Base + 6 * P, Base + 16 * P, Base / P + 6)],
            list.All.Select(v => (v.Start, v.End, v.Pgoff)));
    }

    [Fact]
    public void Munmap_across_mappings_and_holes_removes_every_covered_part()
    {
        var list = new VmaList();
        list.Insert(Base, Base + 4 * P, VmFlags.Read);
        list.Insert(Base + 8 * P, Base + 12 * P, VmFlags.Read);
        list.Insert(Base + 14 * P, Base + 20 * P, VmFlags.Read);

        var removed = list.Unmap(Base + 2 * P, Base + 16 * P);

        Assert.Equal([(Base + 2 * P, Base + 4 * P), (Base + 8 * P, Base + 12 * P), (Base + 14 * P, Base + 16 * P)], removed);
        Assert.Equal([(Base, Base + 2 * P), (Base + 16 * P, Base + 20 * P)], list.All.Select(v => (v.Start, v.End)));
        Assert.Equal(Base / P + 16, list.All[1].Pgoff);
    }

    [Fact]
    public void Munmap_of_a_hole_removes_nothing_and_the_end_is_rounded_up_to_a_page()
    {
        var list = WithMapping(Base + 8 * P, 4, out _);

        Assert.Empty(list.Unmap(Base, Base + 8 * P));
        Assert.Empty(list.Unmap(Base + 12 * P, Base + 20 * P));
        Assert.Equal([(Base + 8 * P, Base + 9 * P)], list.Unmap(Base + 8 * P, Base + 8 * P + 1));
        Assert.Equal(Base + 9 * P, list.All.Single().Start);
    }

    [Fact]
    public void Check_range_fails_with_efault_when_no_mapping_ends_above_the_start()
    {
        var list = WithMapping(Base, 4, out _);

        Assert.Equal(Errno.EFAULT, list.CheckRangeVmas(Base + 4 * P, Base + 8 * P, discontigOk: false));
        Assert.Equal(Errno.EFAULT, new VmaList().CheckRangeVmas(0, P, discontigOk: true));
    }

    [Fact]
    public void Check_range_fails_with_efault_for_a_gap_between_mappings_unless_discontig_ok()
    {
        var list = new VmaList();
        list.Insert(Base, Base + 4 * P, VmFlags.Read);
        list.Insert(Base + 6 * P, Base + 10 * P, VmFlags.Read);

        Assert.Equal(Errno.EFAULT, list.CheckRangeVmas(Base, Base + 8 * P, discontigOk: false));
        Assert.Equal(Errno.None, list.CheckRangeVmas(Base, Base + 8 * P, discontigOk: true));
    }

    [Fact]
    public void Check_range_fails_with_efault_when_the_last_mapping_ends_before_the_end()
    {
        var list = WithMapping(Base, 4, out _);

        Assert.Equal(Errno.EFAULT, list.CheckRangeVmas(Base, Base + 5 * P, discontigOk: false));
        Assert.Equal(Errno.None, list.CheckRangeVmas(Base, Base + 4 * P, discontigOk: false));
    }

    [Fact]
    public void Check_range_does_not_see_a_hole_before_the_first_mapping()
    {
        var list = WithMapping(Base + 4 * P, 4, out _);

        Assert.Equal(Errno.None, list.CheckRangeVmas(Base, Base + 8 * P, discontigOk: false));
    }

    [Fact]
    public void Check_range_does_not_see_a_hole_at_the_end_when_a_mapping_lies_above_the_range()
    {
        var list = new VmaList();
        list.Insert(Base, Base + 4 * P, VmFlags.Read);
        list.Insert(Base + 100 * P, Base + 104 * P, VmFlags.Read);

        Assert.Equal(Errno.None, list.CheckRangeVmas(Base, Base + 8 * P, discontigOk: false));
    }

    [Fact]
    public void Check_range_answers_eacces_when_the_first_mapping_is_vm_reserved()
    {
        var list = new VmaList();
        list.Insert(Base, Base + 4 * P, VmFlags.Read | VmFlags.Reserved);

        Assert.Equal(Errno.EACCES, list.CheckRangeVmas(Base, Base + 4 * P, discontigOk: false));
    }

    [Fact]
    public void Check_range_walks_each_mapping_over_its_part_of_the_range_in_order()
    {
        var list = new VmaList();
        list.Insert(Base, Base + 4 * P, VmFlags.Read);
        list.Insert(Base + 4 * P, Base + 8 * P, VmFlags.Read);
        var walked = new List<(ulong, ulong)>();

        var err = list.CheckRange(Base + 2 * P, Base + 6 * P, false, (_, s, e) => { walked.Add((s, e)); return Errno.None; });

        Assert.Equal(Errno.None, err);
        Assert.Equal([(Base + 2 * P, Base + 4 * P), (Base + 4 * P, Base + 6 * P)], walked);
    }

    [Fact]
    public void A_strict_violation_in_the_first_mapping_hides_a_hole_after_it()
    {
        var list = new VmaList();
        list.Insert(Base, Base + 4 * P, VmFlags.Read);
        list.Insert(Base + 6 * P, Base + 8 * P, VmFlags.Read);

        var err = list.CheckRange(Base, Base + 8 * P, false, (_, _, _) => Errno.EIO);

        Assert.Equal(Errno.EIO, err);
    }

    [Fact]
    public void Check_range_walks_strict_always_and_move_only_for_migratable_non_hugetlb_mappings()
    {
        var plain = new Vma(Base, Base + P, 0, VmFlags.Read);
        var locked = new Vma(Base, Base + P, 0, VmFlags.Read | VmFlags.Locked);
        var huge = new Vma(Base, Base + P, 0, VmFlags.Read | VmFlags.Hugetlb);

        Assert.True(VmaList.CheckRangeWalksVma(plain, MpolFlags.Move));
        Assert.False(VmaList.CheckRangeWalksVma(locked, MpolFlags.Move));
        Assert.True(VmaList.CheckRangeWalksVma(locked, MpolFlags.Strict | MpolFlags.Move));
        Assert.False(VmaList.CheckRangeWalksVma(huge, MpolFlags.Strict));
        Assert.False(VmaList.CheckRangeWalksVma(plain, MpolFlags.None));
        Assert.All(new[] { VmFlags.Locked, VmFlags.Io, VmFlags.Reserved, VmFlags.DenyWrite, VmFlags.Shm },
            f => Assert.False(new Vma(Base, Base + P, 0, f).Migratable));
    }

    [Fact]
    public void Fork_copies_the_mappings_deeply_shares_policies_drops_dontcopy_and_clears_locked()
    {
        var list = new VmaList();
        var a = list.Insert(Base, Base + 4 * P, VmFlags.Read | VmFlags.Locked);
        a.Policy = Bind0;
        list.Insert(Base + 8 * P, Base + 12 * P, VmFlags.Read | VmFlags.DontCopy);

        var child = list.Clone();
        child.MbindRange(Base, Base + 2 * P, Interleave01);

        Assert.Equal(2, list.Count);
        Assert.Same(Bind0, list.All[0].Policy);
        Assert.Equal(Base + 4 * P, list.All[0].End);
        Assert.Equal(VmFlags.Read | VmFlags.Locked, list.All[0].Flags);
        Assert.Equal(2, child.Count);
        Assert.Equal([Interleave01, Bind0], child.All.Select(v => v.Policy));
        Assert.Equal(VmFlags.Read, child.All[1].Flags);
    }

    [Fact]
    public void Vm_flags_carry_the_2_6_14_values()
    {
        Assert.Equal(0x1u, (uint)VmFlags.Read);
        Assert.Equal(0x2u, (uint)VmFlags.Write);
        Assert.Equal(0x4u, (uint)VmFlags.Exec);
        Assert.Equal(0x8u, (uint)VmFlags.Shared);
        Assert.Equal(0x400u, (uint)VmFlags.Shm);
        Assert.Equal(0x800u, (uint)VmFlags.DenyWrite);
        Assert.Equal(0x2000u, (uint)VmFlags.Locked);
        Assert.Equal(0x4000u, (uint)VmFlags.Io);
        Assert.Equal(0x80000u, (uint)VmFlags.Reserved);
        Assert.Equal(0x400000u, (uint)VmFlags.Hugetlb);
        Assert.Equal("VM_READ|VM_IO", VmFlagNames.Format(VmFlags.Read | VmFlags.Io));
    }

    [Fact]
    public void Page_align_rounds_up_and_wraps_like_unsigned_arithmetic()
    {
        Assert.Equal(0UL, MmConstants.PageAlign(0));
        Assert.Equal(P, MmConstants.PageAlign(1));
        Assert.Equal(P, MmConstants.PageAlign(P));
        Assert.Equal(0UL, MmConstants.PageAlign(ulong.MaxValue));
    }
}

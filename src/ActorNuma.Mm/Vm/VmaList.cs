namespace ActorNuma.Mm;

/// <summary>One step of check_range's page walk over the part <c>[start, end)</c> of <paramref name="vma"/>; a non-zero
/// errno stops the walk and becomes check_range's result.</summary>
public delegate Errno CheckRangeWalk(Vma vma, ulong start, ulong end);

/// <summary>What the checkers and reports may read of a task's VMAs; only the task changes them.</summary>
public interface IReadOnlyVmaList
{
    IReadOnlyList<Vma> All { get; }
    int Count { get; }
    int MaxMapCount { get; }
    Vma? FindVma(ulong addr);
    Vma? FindVmaIntersection(ulong start, ulong end);
    IEnumerable<Vma> InRange(ulong start, ulong end);
    bool Overlaps(ulong start, ulong end);
}

/// <summary>The VMAs of one <c>mm_struct</c>, sorted by address and never overlapping (<c>mm-&gt;mmap</c>, with the
/// rb-tree's lookups done by binary search). Owned by one task; not thread-safe.</summary>
/// <remarks>Kernel: mm/mmap.c (find_vma, split_vma, do_munmap), mm/mempolicy.c (check_range, mbind_range).
/// Unlike do_mmap_pgoff, <see cref="Insert(ulong, ulong, VmFlags)"/> never merges a new mapping into its neighbour
/// (vma_merge). A merge would only change how many VMAs there are: offsets stay <c>addr &gt;&gt; PAGE_SHIFT</c> and
/// a VMA with a policy never merges with a new mapping (mpol_equal with NULL fails).</remarks>
public sealed class VmaList : IReadOnlyVmaList
{
    private readonly List<Vma> _vmas = new();

    public IReadOnlyList<Vma> All => _vmas;
    public int Count => _vmas.Count;

    /// <summary><c>sysctl_max_map_count</c>: split_vma fails with ENOMEM once the mm has this many VMAs.</summary>
    public int MaxMapCount { get; set; } = MmConstants.DefaultMaxMapCount;

    /// <summary><c>find_vma()</c>: the first VMA with <c>End &gt; addr</c>, which need not contain
    /// <paramref name="addr"/> (the address may lie in the hole below it); null if none.</summary>
    /// <remarks>Kernel: mm/mmap.c find_vma()</remarks>
    public Vma? FindVma(ulong addr)
    {
        var i = FindIndex(addr);
        return i < _vmas.Count ? _vmas[i] : null;
    }

    /// <summary><c>find_vma_intersection()</c>: the first VMA overlapping <c>[start, end)</c>, or null.</summary>
    /// <remarks>Kernel: include/linux/mm.h find_vma_intersection()</remarks>
    public Vma? FindVmaIntersection(ulong start, ulong end)
    {
        var vma = FindVma(start);
        return vma is not null && end <= vma.Start ? null : vma;
    }

    /// <summary>The VMAs overlapping <c>[start, end)</c>, ascending, as a snapshot (safe to change the list while
    /// iterating).</summary>
    public IEnumerable<Vma> InRange(ulong start, ulong end)
    {
        var result = new List<Vma>();
        for (var i = FindIndex(start); i < _vmas.Count && _vmas[i].Start < end; i++)
        {
            result.Add(_vmas[i]);
        }

        return result;
    }

    public bool Overlaps(ulong start, ulong end) => FindVmaIntersection(start, end) is not null;

    /// <summary>Maps a private anonymous region: <c>vm_pgoff = start &gt;&gt; PAGE_SHIFT</c>, no policy. The caller
    /// guarantees page alignment and that nothing is mapped there (see <see cref="Overlaps"/>).</summary>
    /// <remarks>Kernel: mm/mmap.c do_mmap_pgoff() (MAP_PRIVATE anonymous: "pgoff = addr &gt;&gt; PAGE_SHIFT")</remarks>
    public Vma Insert(ulong start, ulong end, VmFlags flags) => Insert(start, end, start >> MmConstants.PageShift, flags);

    /// <summary>Maps a region with an explicit <c>vm_pgoff</c> (for mappings that are not private anonymous).</summary>
    /// <remarks>Kernel: mm/mmap.c vma_link()</remarks>
    public Vma Insert(ulong start, ulong end, ulong pgoff, VmFlags flags)
    {
        var vma = new Vma(start, end, pgoff, flags);
        if (Overlaps(start, end))
        {
            throw new InvalidOperationException($"mapping {start:x}-{end:x} overlaps {FindVmaIntersection(start, end)}");
        }

        _vmas.Insert(FindIndex(start), vma);
        return vma;
    }

    /// <summary><c>split_vma()</c>: cuts <paramref name="vma"/> at <paramref name="addr"/>. With
    /// <paramref name="newBelow"/> the new VMA is the lower part and <paramref name="vma"/> keeps the upper part, whose
    /// <c>vm_pgoff</c> advances; otherwise the new VMA is the upper part with the advanced offset. Both halves share the
    /// policy (mpol_copy makes an equal copy; policies are immutable here). EINVAL for a hugetlb VMA cut off a huge page
    /// boundary, ENOMEM at <see cref="MaxMapCount"/>.</summary>
    /// <remarks>Kernel: mm/mmap.c split_vma()</remarks>
    public Errno SplitVma(Vma vma, ulong addr, bool newBelow)
    {
        var index = IndexOf(vma);
        if (addr <= vma.Start || addr >= vma.End || !MmConstants.IsPageAligned(addr))
        {
            throw new ArgumentOutOfRangeException(nameof(addr), $"split of {vma} at {addr:x}");
        }

        if (vma.IsHugetlb && (addr & (MmConstants.HPageSize - 1)) != 0)
        {
            return Errno.EINVAL;
        }

        if (_vmas.Count >= MaxMapCount)
        {
            return Errno.ENOMEM;
        }

        var created = vma.Copy();
        if (newBelow)
        {
            created.End = addr;
            vma.Pgoff += (addr - created.Start) >> MmConstants.PageShift;
            vma.Start = addr;
            _vmas.Insert(index, created);
        }
        else
        {
            created.Start = addr;
            created.Pgoff += (addr - vma.Start) >> MmConstants.PageShift;
            vma.End = addr;
            _vmas.Insert(index + 1, created);
        }
        return Errno.None;
    }

    /// <summary><c>do_munmap()</c> for a page-aligned <paramref name="start"/> (the end is page-aligned upwards): splits
    /// the VMAs at the edges as split_vma does and removes everything in between. Returns the removed ranges, one per
    /// removed VMA, ascending. Fails (with nothing removed, though a first split may remain, as in the kernel) only
    /// when a split fails.</summary>
    /// <remarks>Kernel: mm/mmap.c do_munmap()</remarks>
    public Errno TryUnmap(ulong start, ulong end, out IReadOnlyList<(ulong Start, ulong End)> removed)
    {
        if (!MmConstants.IsPageAligned(start))
        {
            throw new ArgumentException($"munmap start {start:x} is not page aligned");
        }

        end = MmConstants.PageAlign(end);
        removed = [];
        var vma = FindVma(start);
        if (vma is null || vma.Start >= end)
        {
            return Errno.None;
        }

        if (start > vma.Start)
        {
            var err = SplitVma(vma, start, newBelow: false);
            if (err != Errno.None)
            {
                return err;
            }
        }
        // Does it split the last one?
        var last = FindVma(end);
        if (last is not null && end > last.Start)
        {
            var err = SplitVma(last, end, newBelow: true);
            if (err != Errno.None)
            {
                return err;
            }
        }
        var first = FindIndex(start);
        var count = 0;
        while (first + count < _vmas.Count && _vmas[first + count].Start < end)
        {
            count++;
        }

        removed = _vmas.GetRange(first, count).Select(v => (v.Start, v.End)).ToArray();
        _vmas.RemoveRange(first, count);
        return Errno.None;
    }

    /// <summary><see cref="TryUnmap"/> for callers that leave <see cref="MaxMapCount"/> at its default and map no
    /// hugetlb VMAs, where a split cannot fail.</summary>
    /// <remarks>Kernel: mm/mmap.c do_munmap()</remarks>
    public IReadOnlyList<(ulong Start, ulong End)> Unmap(ulong start, ulong end)
    {
        var err = TryUnmap(start, end, out var removed);
        return err == Errno.None
            ? removed
            : throw new InvalidOperationException($"munmap {start:x}-{end:x} failed with {err} in split_vma");
    }

    /// <summary>The VMA part of <c>check_range()</c>, without the page walk: see
    /// <see cref="CheckRange(ulong, ulong, bool, CheckRangeWalk?)"/>.</summary>
    /// <remarks>Kernel: mm/mempolicy.c check_range()</remarks>
    public Errno CheckRangeVmas(ulong start, ulong end, bool discontigOk) => CheckRange(start, end, discontigOk, null);

    /// <summary><c>check_range()</c>: <c>find_vma(start)</c> NULL → EFAULT; the first VMA VM_RESERVED → EACCES (V2 and
    /// 2.6.16, which skips it with DISCONTIG_OK; 2.6.18 dropped the test); then, for each VMA starting below
    /// <paramref name="end"/>, unless <paramref name="discontigOk"/>: the mm's last VMA ending before
    /// <paramref name="end"/> → EFAULT, a gap after the previous VMA → EFAULT; then <paramref name="walk"/> over the
    /// VMA's part of the range, whose first error ends everything. The VMA checks and the walks interleave as in the
    /// kernel, so a STRICT violation in one VMA hides a hole after it. Two holes go undetected: one before the first VMA
    /// (find_vma returns the first VMA ending above <paramref name="start"/>) and one at the end of the range when some
    /// VMA lies above <paramref name="end"/> (only the mm's last VMA is compared with <paramref name="end"/>).</summary>
    /// <remarks>Kernel: mm/mempolicy.c check_range()</remarks>
    public Errno CheckRange(ulong start, ulong end, bool discontigOk, CheckRangeWalk? walk)
    {
        var i = FindIndex(start);
        if (i >= _vmas.Count)
        {
            return Errno.EFAULT;
        }

        if ((_vmas[i].Flags & VmFlags.Reserved) != 0 && !discontigOk)
        {
            return Errno.EACCES;
        }

        Vma? prev = null;
        for (; i < _vmas.Count && _vmas[i].Start < end; i++)
        {
            var vma = _vmas[i];
            if (!discontigOk)
            {
                if (i == _vmas.Count - 1 && vma.End < end)
                {
                    return Errno.EFAULT;
                }

                if (prev is not null && prev.End < vma.Start)
                {
                    return Errno.EFAULT;
                }
            }
            if (walk is not null)
            {
                if (vma.Start > start)
                {
                    start = vma.Start;
                }

                var err = walk(vma, start, Math.Min(vma.End, end));
                if (err != Errno.None)
                {
                    return err;
                }
            }
            prev = vma;
        }
        return Errno.None;
    }

    /// <summary>Whether check_range walks the pages of <paramref name="vma"/> for these mbind flags: never for hugetlb;
    /// with STRICT always; with MOVE or MOVE_ALL only if <see cref="Vma.Migratable"/>.</summary>
    /// <remarks>Kernel: mm/mempolicy.c check_range() (V2 2/2)</remarks>
    public static bool CheckRangeWalksVma(Vma vma, MpolFlags flags) =>
        !vma.IsHugetlb
        && ((flags & MpolFlags.Strict) != 0 || ((flags & (MpolFlags.Move | MpolFlags.MoveAll)) != 0 && vma.Migratable));

    /// <summary><c>mbind_range()</c>: for each VMA from <c>find_vma(start)</c> that starts below
    /// <paramref name="end"/>, split at <paramref name="start"/> (new VMA below) and at <paramref name="end"/> (new VMA
    /// above), then install <paramref name="policy"/> (null, or a DEFAULT policy, clears the VMA policy). No merging in
    /// 2.6.14–2.6.18. A split failure stops the loop: VMAs already done keep the new policy, as in the kernel.</summary>
    /// <remarks>Kernel: mm/mempolicy.c mbind_range(), policy_vma()</remarks>
    public Errno MbindRange(ulong start, ulong end, MemPolicy? policy)
    {
        if (policy is { Mode: MpolMode.Default })
        {
            policy = null;
        }

        var vma = FindVma(start);
        while (vma is not null && vma.Start < end)
        {
            // The kernel takes vm_next before splitting, so the upper part cut off at `end` is not visited.
            var next = NextOf(vma);
            var err = Errno.None;
            if (vma.Start < start)
            {
                err = SplitVma(vma, start, newBelow: true);
            }

            if (err == Errno.None && vma.End > end)
            {
                err = SplitVma(vma, end, newBelow: false);
            }

            if (err != Errno.None)
            {
                return err;
            }

            vma.Policy = policy;
            vma = next;
        }
        return Errno.None;
    }

    /// <summary>The child's VMA list at fork, as <c>dup_mmap()</c> builds it: every VMA copied with its policy (shared:
    /// mpol_copy yields an equal policy), except VM_DONTCOPY ones; VM_LOCKED is not inherited.</summary>
    /// <remarks>Kernel: kernel/fork.c dup_mmap()</remarks>
    public VmaList Clone()
    {
        var child = new VmaList { MaxMapCount = MaxMapCount };
        foreach (var vma in _vmas.Where(v => (v.Flags & VmFlags.DontCopy) == 0))
        {
            var copy = vma.Copy();
            copy.Flags &= ~VmFlags.Locked;
            child._vmas.Add(copy);
        }
        return child;
    }

    public override string ToString() => string.Join(Environment.NewLine, _vmas);

    /// <summary>The index of the first VMA with <c>End &gt; addr</c> (Count if none).</summary>
    private int FindIndex(ulong addr)
    {
        int lo = 0, hi = _vmas.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_vmas[mid].End > addr)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return lo;
    }

    private int IndexOf(Vma vma)
    {
        var i = FindIndex(vma.Start);
        return i < _vmas.Count && ReferenceEquals(_vmas[i], vma)
            ? i
            : throw new ArgumentException($"{vma} is not in this VMA list", nameof(vma));
    }

    private Vma? NextOf(Vma vma)
    {
        var i = IndexOf(vma) + 1;
        return i < _vmas.Count ? _vmas[i] : null;
    }
}

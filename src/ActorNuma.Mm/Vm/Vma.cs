using System.Globalization;

namespace ActorNuma.Mm;

/// <summary>A <c>vm_area_struct</c>: one mapping of a task, <c>[Start, End)</c>, page aligned. Mutable and owned by
/// the one task whose <see cref="VmaList"/> holds it; only the list moves its bounds, so the list stays sorted.</summary>
/// <remarks>Kernel: include/linux/mm.h struct vm_area_struct (vm_start, vm_end, vm_pgoff, vm_flags, vm_policy)</remarks>
public sealed class Vma
{
    public Vma(ulong start, ulong end, ulong pgoff, VmFlags flags, MemPolicy? policy = null)
    {
        if (!MmConstants.IsPageAligned(start) || !MmConstants.IsPageAligned(end) || end <= start)
        {
            throw new ArgumentException($"a VMA needs page-aligned bounds with start < end, got {start:x}-{end:x}");
        }

        Start = start;
        End = end;
        Pgoff = pgoff;
        Flags = flags;
        Policy = policy;
    }

    /// <summary><c>vm_start</c>: the first address of the mapping.</summary>
    public ulong Start { get; internal set; }

    /// <summary><c>vm_end</c>: the first address after the mapping (exclusive).</summary>
    public ulong End { get; internal set; }

    /// <summary><c>vm_pgoff</c>, in pages. A private anonymous mapping gets <c>addr &gt;&gt; PAGE_SHIFT</c> at mmap, so
    /// <see cref="PageIndexOf"/> is normally the virtual page number; split_vma keeps that true for both halves.</summary>
    /// <remarks>Kernel: mm/mmap.c do_mmap_pgoff() ("Set pgoff according to addr for anon_vma")</remarks>
    public ulong Pgoff { get; internal set; }

    /// <summary><c>vm_flags</c>.</summary>
    public VmFlags Flags { get; set; }

    /// <summary><c>vm_policy</c>: null when the VMA has no policy of its own, which is also what mbind(MPOL_DEFAULT)
    /// installs (mpol_new returns NULL for DEFAULT). Policies are immutable and shared between VMAs.</summary>
    public MemPolicy? Policy { get; set; }

    /// <summary><c>vma_pages()</c>: the mapping's length in pages.</summary>
    /// <remarks>Kernel: include/linux/mm.h vma_pages()</remarks>
    public long Pages => (long)((End - Start) >> MmConstants.PageShift);

    public bool Contains(ulong addr) => addr >= Start && addr < End;

    /// <summary>The page offset the interleave policy uses: <c>vm_pgoff + ((addr - vm_start) &gt;&gt; PAGE_SHIFT)</c>.</summary>
    /// <remarks>Kernel: mm/mempolicy.c alloc_page_vma() (the <c>off</c> passed to offset_il_node)</remarks>
    public ulong PageIndexOf(ulong addr) => Pgoff + ((addr - Start) >> MmConstants.PageShift);

    /// <summary><c>is_vm_hugetlb_page()</c>.</summary>
    /// <remarks>Kernel: include/linux/hugetlb.h is_vm_hugetlb_page()</remarks>
    public bool IsHugetlb => (Flags & VmFlags.Hugetlb) != 0;

    /// <summary>V2's <c>vma_migratable()</c>: false for VM_LOCKED, VM_IO, VM_RESERVED, VM_DENYWRITE or VM_SHM.
    /// (2.6.18 tests VM_LOCKED|VM_IO|VM_HUGETLB|VM_PFNMAP|VM_RESERVED; the emulator never sets VM_PFNMAP, and hugetlb
    /// VMAs are skipped by check_range before this test in every version.)</summary>
    /// <remarks>Kernel: mm/mempolicy.c vma_migratable() (V2 2/2)</remarks>
    public bool Migratable =>
        (Flags & (VmFlags.Locked | VmFlags.Io | VmFlags.Reserved | VmFlags.DenyWrite | VmFlags.Shm)) == 0;

    /// <summary>The numa_maps-style head of the VMA: start address and its own policy.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Start:x8}-{End:x8} pgoff={Pgoff:x} {VmFlagNames.Format(Flags)} {(Policy is null ? "default" : Policy.ToString())}");

    internal Vma Copy() => new(Start, End, Pgoff, Flags, Policy);
}

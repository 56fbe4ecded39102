namespace ActorNuma.Mm;

/// <summary>Page geometry of the emulated x86-64 2.6.14 kernel.</summary>
/// <remarks>Kernel: include/asm-x86_64/page.h PAGE_SHIFT, PAGE_SIZE, PAGE_MASK, PAGE_ALIGN; processor.h TASK_SIZE.</remarks>
public static class MmConstants
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
    /// <summary><c>PAGE_MASK</c>: the bits of an address above the page offset.</summary>
    public const ulong PageMask = ~(PageSize - 1);

    /// <summary><c>HPAGE_SHIFT</c> on x86-64 (2 MiB huge pages); only split_vma's hugetlb alignment check uses it.</summary>
    public const int HPageShift = 21;
    public const ulong HPageSize = 1UL << HPageShift;

    /// <summary><c>TASK_SIZE</c> of a 64-bit task: 0x800000000000 - PAGE_SIZE.</summary>
    public const ulong TaskSize = 0x0000_8000_0000_0000UL - PageSize;

    /// <summary><c>DEFAULT_MAX_MAP_COUNT</c> (include/linux/sched.h), the default of <c>sysctl_max_map_count</c>.</summary>
    public const int DefaultMaxMapCount = 65536;

    /// <summary><c>PAGE_ALIGN(addr)</c>: rounds up to the next page boundary, wrapping like the kernel's unsigned
    /// arithmetic (an address in the last page of the address space aligns to 0).</summary>
    /// <remarks>Kernel: include/asm-x86_64/page.h PAGE_ALIGN()</remarks>
    public static ulong PageAlign(ulong addr) => unchecked(addr + PageSize - 1) & PageMask;

    /// <summary>The virtual page number of an address, <c>addr &gt;&gt; PAGE_SHIFT</c>.</summary>
    public static ulong Vpn(ulong addr) => addr >> PageShift;

    public static bool IsPageAligned(ulong addr) => (addr & ~PageMask) == 0;
}

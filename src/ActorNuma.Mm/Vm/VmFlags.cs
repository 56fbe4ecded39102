namespace ActorNuma.Mm;

/// <summary><c>vm_area_struct.vm_flags</c> with the values of 2.6.14 <c>include/linux/mm.h</c> (checked in the K14 tree).
/// <see cref="Shm"/> is 2.6.14's VM_SHM (0x400), which V2's <c>vma_migratable()</c> tests; 2.6.15 reused that bit for
/// VM_PFNMAP, which is why 2.6.18's vma_migratable names VM_PFNMAP instead.</summary>
[Flags]
public enum VmFlags : uint
{
    None = 0,
    Read = 0x0000_0001,
    Write = 0x0000_0002,
    Exec = 0x0000_0004,
    Shared = 0x0000_0008,
    MayRead = 0x0000_0010,
    MayWrite = 0x0000_0020,
    MayExec = 0x0000_0040,
    MayShare = 0x0000_0080,
    GrowsDown = 0x0000_0100,
    GrowsUp = 0x0000_0200,
    /// <summary>VM_SHM: shared memory area, don't swap out.</summary>
    Shm = 0x0000_0400,
    /// <summary>VM_DENYWRITE: ETXTBSY on write attempts.</summary>
    DenyWrite = 0x0000_0800,
    Executable = 0x0000_1000,
    /// <summary>VM_LOCKED: mlocked; try_to_unmap fails on it.</summary>
    Locked = 0x0000_2000,
    /// <summary>VM_IO: memory-mapped I/O.</summary>
    Io = 0x0000_4000,
    SeqRead = 0x0000_8000,
    RandRead = 0x0001_0000,
    /// <summary>VM_DONTCOPY: not copied to the child on fork.</summary>
    DontCopy = 0x0002_0000,
    DontExpand = 0x0004_0000,
    /// <summary>VM_RESERVED: pages managed in a special way; check_range answers EACCES for it (V2).</summary>
    Reserved = 0x0008_0000,
    Account = 0x0010_0000,
    /// <summary>VM_HUGETLB: huge TLB page VMA; check_range never walks it.</summary>
    Hugetlb = 0x0040_0000,
    Nonlinear = 0x0080_0000,
}

public static class VmFlagNames
{
    /// <summary>The kernel's spelling, for traces and messages: "VM_READ|VM_WRITE".</summary>
    public static string Format(VmFlags flags) =>
        flags == VmFlags.None
            ? "0"
            : string.Join("|", Enum.GetValues<VmFlags>().Where(f => f != VmFlags.None && flags.HasFlag(f))
                .Select(f => "VM_" + f.ToString().ToUpperInvariant()));
}

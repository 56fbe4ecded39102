namespace ActorNuma.Mm;

/// <summary>Page flags with the bit numbers of 2.6.14 <c>include/linux/page-flags.h</c>.</summary>
[Flags]
public enum PageFlags : uint
{
    None = 0,
    Locked = 1u << 0,
    Error = 1u << 1,
    Referenced = 1u << 2,
    Uptodate = 1u << 3,
    Dirty = 1u << 4,
    Lru = 1u << 5,
    Active = 1u << 6,
    Reserved = 1u << 10,
    Private = 1u << 11,
    Writeback = 1u << 12,
    SwapCache = 1u << 15,
    Reclaim = 1u << 17,
    /// <summary>PG_hwpoison (2.6.32+, CONFIG_MEMORY_FAILURE): the frame had a memory error and is retired for good.
    /// 2.6.14 has no such bit; the emulator keeps it after the last 2.6.14 bit (PG_uncached, 19).</summary>
    HwPoison = 1u << 20,
}

public static class PageFlagNames
{
    /// <summary>The kernel's spelling, for traces and messages: "PG_lru|PG_active".</summary>
    public static string Format(PageFlags flags) =>
        flags == PageFlags.None
            ? "0"
            : string.Join("|", Enum.GetValues<PageFlags>().Where(f => f != PageFlags.None && flags.HasFlag(f))
                .Select(f => "PG_" + f.ToString().ToLowerInvariant()));
}

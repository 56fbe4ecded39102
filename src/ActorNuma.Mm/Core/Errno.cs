namespace ActorNuma.Mm;

/// <summary>The errno values the emulated syscalls return, with Linux's numbers (include/asm-generic/errno-base.h; ENOSYS from
/// include/asm-generic/errno.h).</summary>
public enum Errno
{
    None = 0,
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    ECHILD = 10,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    EINVAL = 22,
    ENOSPC = 28,
    ENOSYS = 38,
}

public static class ErrnoParsing
{
    /// <summary>Parses "EIO", "eio" or a number.</summary>
    public static bool TryParse(string text, out Errno errno)
    {
        if (int.TryParse(text, out var n) && Enum.IsDefined(typeof(Errno), n)) { errno = (Errno)n; return true; }
        return Enum.TryParse(text, ignoreCase: true, out errno) && Enum.IsDefined(errno);
    }
}

namespace ActorNuma.Mm;

/// <summary>Which of move_pages' user arrays cannot be read (or, for status, written): the pointer faults on every
/// access.</summary>
public enum MovePagesFault { None, Pages, Nodes, Status }

public static partial class SyscallChecks
{
    /// <summary>The size of 2.6.18's <c>struct page_to_node</c> on a 64-bit kernel (addr, page, node, status).</summary>
    public const ulong PageToNodeSize = 24;

    /// <summary>sys_move_pages' checks before it looks the task up: flags other than MOVE|MOVE_ALL → EINVAL; MOVE_ALL
    /// without CAP_SYS_NICE → EPERM.</summary>
    /// <remarks>Kernel: 2.6.18 mm/migrate.c sys_move_pages()</remarks>
    public static Errno CheckMovePagesFlags(int flags, bool callerHasSysNice)
    {
        if ((flags & ~(int)(MpolFlags.Move | MpolFlags.MoveAll)) != 0)
        {
            return Errno.EINVAL;
        }

        return (flags & (int)MpolFlags.MoveAll) != 0 && !callerHasSysNice ? Errno.EPERM : Errno.None;
    }

    /// <summary>sys_move_pages after the uid test: <c>nr_pages &gt;= ULONG_MAX / sizeof(struct page_to_node) - 1</c> →
    /// E2BIG; then, entry by entry in array order (the first bad entry decides): <c>pages[i]</c> unreadable → EFAULT,
    /// and with a nodes array <c>nodes[i]</c> unreadable → EFAULT, the node not online → ENODEV, the node outside the
    /// target's cpuset (<paramref name="memsAllowed"/>) → EACCES. An entry past the end of a given array is unreadable.
    /// The vmalloc of the control array (ENOMEM) is not modelled: the emulated kernel always has it.</summary>
    /// <remarks>Kernel: 2.6.18 mm/migrate.c sys_move_pages()</remarks>
    public static Errno CheckMovePagesArrays(ulong nrPages, int pagesGiven, IReadOnlyList<int>? nodes, MovePagesFault fault,
        NodeMask online, NodeMask memsAllowed)
    {
        if (nrPages >= ulong.MaxValue / PageToNodeSize - 1)
        {
            return Errno.E2BIG;
        }

        for (ulong i = 0; i < nrPages; i++)
        {
            if (fault == MovePagesFault.Pages || i >= (ulong)pagesGiven)
            {
                return Errno.EFAULT;
            }

            if (nodes is null)
            {
                continue;
            }

            if (fault == MovePagesFault.Nodes || i >= (ulong)nodes.Count)
            {
                return Errno.EFAULT;
            }

            var node = nodes[(int)i];
            if (node < 0 || node >= NodeMask.MaxNumNodes || !online.Contains(node))
            {
                return Errno.ENODEV;
            }

            if (!memsAllowed.Contains(node))
            {
                return Errno.EACCES;
            }
        }
        return Errno.None;
    }
}

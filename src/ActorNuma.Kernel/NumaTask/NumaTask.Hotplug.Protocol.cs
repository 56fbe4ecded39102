namespace ActorNuma.Kernel;

/// <summary>Memory hot-remove and soft memory errors, as a task asks for them: the writes of an administrator's process
/// to sysfs, run in that task's context as the kernel runs them in the writer's.</summary>
public static partial class NumaTask
{
    /// <summary><c>echo offline &gt; /sys/devices/system/memory/memoryN/state</c> for the node's memory (one block per
    /// node): <c>offline_pages()</c> evacuates every page through the profile's migration path. 0, or ENOENT (no such
    /// node), EINVAL (not online), EBUSY (a page that cannot move: the zero page, or pages still in use after the
    /// bounded retries; the node is then online again).</summary>
    public sealed record OfflineNode(int Node) : Syscall;

    /// <summary><c>echo online &gt; .../state</c>: <c>online_pages()</c>. 0, or ENOENT (no such node), EINVAL (not offline).</summary>
    public sealed record OnlineNode(int Node) : Syscall;

    /// <summary>A soft (corrected) ECC error on machine frame <see cref="Pfn"/> of <see cref="Node"/>, handled as
    /// <c>echo &lt;address&gt; &gt; /sys/devices/system/memory/soft_offline_page</c> is: the page moves away with its
    /// contents and the frame is retired for good. 0, or ENXIO (no such frame on that node), EBUSY (already retired, or
    /// still held elsewhere after the bounded retries), EIO (the zero page, which cannot move).</summary>
    public sealed record InjectEcc(int Node, long Pfn) : Syscall;
}

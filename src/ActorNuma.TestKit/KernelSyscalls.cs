using ActorNuma.Kernel;
using ActorNuma.Mm;
using static ActorNuma.Kernel.NumaTask;

namespace ActorNuma.TestKit;

/// <summary>
/// The syscalls a test makes on behalf of a task, each sent as the kernel's public <see cref="NumaTask"/> message and
/// answered with its typed <see cref="SyscallResult"/> (return value and errno). A task runs one syscall at a time, in
/// the order they were sent; calls of different tasks race under the schedule until awaited.
/// </summary>
/// <example><code>var r = await Kernel.Mbind(app, range, MpolMode.Bind, nodes: [1], MpolFlags.Move);
/// Assert.Equal(Errno.None, r.Errno);</code></example>
public sealed class KernelSyscalls
{
    /// <summary>The maxnode every call passes: all 64 node bits are read.</summary>
    public const int MaxNode = NodeMask.MaxNumNodes + 1;

    private readonly EmulatedMachine _machine;

    internal KernelSyscalls(EmulatedMachine machine) => _machine = machine;

    /// <summary>Any syscall message (raw modes and flags, a faulting nodemask, ...), answered with its result.</summary>
    /// <param name="task">The calling task.</param>
    /// <param name="call">The syscall.</param>
    /// <returns>The result.</returns>
    public KernelCall<SyscallResult> Call(TaskHandle task, Syscall call)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(call);
        return _machine.Call(task.Ref, call, $"{call} by {task}", reply => reply as SyscallResult ?? throw _machine.Unexpected(reply, call.ToString()));
    }

    /// <summary><c>mmap(addr, len, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED)</c>.</summary>
    /// <param name="task">The calling task.</param>
    /// <param name="range">Where, and how many pages.</param>
    /// <returns>The result (ret = the address).</returns>
    public KernelCall<SyscallResult> Mmap(TaskHandle task, PageRange range) => Call(task, new NumaTask.Mmap(range.Addr, range.Pages));

    /// <summary><c>munmap(addr, len)</c>.</summary>
    /// <param name="task">The calling task.</param>
    /// <param name="range">The range.</param>
    /// <returns>The result.</returns>
    public KernelCall<SyscallResult> Munmap(TaskHandle task, PageRange range) => Call(task, new NumaTask.Munmap(range.Addr, range.Bytes));

    /// <summary>Stores to (or loads from) every page of the range: faults where needed, checks what each load reads.</summary>
    /// <param name="task">The calling task.</param>
    /// <param name="range">The range.</param>
    /// <param name="write">Stores (default) or loads.</param>
    /// <returns>The result (with the faults taken).</returns>
    public KernelCall<SyscallResult> Touch(TaskHandle task, PageRange range, bool write = true) =>
        Call(task, new NumaTask.Touch(range.Addr, range.Pages, write));

    /// <summary><c>mbind(addr, len, mode, nodes, maxnode, flags)</c>.</summary>
    /// <param name="task">The calling task.</param>
    /// <param name="range">The range.</param>
    /// <param name="mode">The policy.</param>
    /// <param name="nodes">Its nodes (none for MPOL_DEFAULT).</param>
    /// <param name="flags">MPOL_MF_STRICT, MPOL_MF_MOVE, MPOL_MF_MOVE_ALL.</param>
    /// <returns>The result.</returns>
    public KernelCall<SyscallResult> Mbind(TaskHandle task, PageRange range, MpolMode mode, int[]? nodes = null, MpolFlags flags = MpolFlags.None) =>
        Call(task, new NumaTask.Mbind(range.Addr, range.Bytes, (int)mode, Mask(nodes), MaxNode, NodemaskFault: false, (int)flags));

    /// <summary><c>set_mempolicy(mode, nodes, maxnode)</c>.</summary>
    /// <param name="task">The calling task.</param>
    /// <param name="mode">The policy.</param>
    /// <param name="nodes">Its nodes.</param>
    /// <returns>The result.</returns>
    public KernelCall<SyscallResult> SetMempolicy(TaskHandle task, MpolMode mode, int[]? nodes = null) =>
        Call(task, new NumaTask.SetMempolicy((int)mode, Mask(nodes), MaxNode, NodemaskFault: false));

    /// <summary><c>migrate_pages(pid, maxnode, old_nodes, new_nodes)</c> made by <paramref name="caller"/> on
    /// <paramref name="target"/>'s pages (2.6.16; ENOSYS on profiles without it). Ret is the number of pages not moved.</summary>
    /// <param name="caller">The calling task (needs CAP_SYS_NICE or matching uids to move another's pages).</param>
    /// <param name="target">Whose pages.</param>
    /// <param name="from">Old nodes.</param>
    /// <param name="to">New nodes.</param>
    /// <returns>The result (with the migration's statistics).</returns>
    public KernelCall<SyscallResult> MigratePages(TaskHandle caller, TaskHandle target, int[] from, int[] to) =>
        Call(caller, new NumaTask.MigratePages(target.Pid, MaxNode, Mask(from), Mask(to), NodemaskFault: false));

    /// <summary><c>sched_setaffinity</c> to one CPU: the task runs there from now on.</summary>
    /// <param name="task">The calling task.</param>
    /// <param name="cpu">The CPU.</param>
    /// <returns>The result.</returns>
    public KernelCall<SyscallResult> SchedSetaffinity(TaskHandle task, int cpu) => Call(task, new NumaTask.SchedSetaffinity(cpu));

    /// <summary>Evicts every present page of the range through the migration path (the 2005 patchset's "suspend by
    /// swapping out"). Ret is the number of pages not evicted.</summary>
    /// <param name="task">The calling task.</param>
    /// <param name="range">The range.</param>
    /// <returns>The result.</returns>
    public KernelCall<SyscallResult> Swapout(TaskHandle task, PageRange range) => Call(task, new NumaTask.Swapout(range.Addr, range.Pages));

    /// <summary><c>fork()</c>: the child shares the pages copy-on-write; it is known to the machine by
    /// <paramref name="childName"/>.</summary>
    /// <param name="task">The parent.</param>
    /// <param name="childName">The child's name.</param>
    /// <returns>The result and the child.</returns>
    public KernelCall<ForkResult> Fork(TaskHandle task, string childName)
    {
        ArgumentNullException.ThrowIfNull(task);
        var call = new NumaTask.Fork(childName);
        return _machine.Call(task.Ref, call, $"{call} by {task}", reply =>
        {
            var r = reply as SyscallResult ?? throw _machine.Unexpected(reply, "fork");
            var child = r.ChildPid is { } pid && _machine.State.Directory.Task(pid) is { } actor
                ? _machine.Remember(new TaskHandle(pid, childName, actor))
                : null;
            return new ForkResult(r, child);
        });
    }

    /// <summary><c>exit(status)</c>: the task's memory is released; it is a zombie until its parent reaps it.</summary>
    /// <param name="task">The task.</param>
    /// <param name="status">Its exit status.</param>
    /// <returns>The result.</returns>
    public KernelCall<SyscallResult> Exit(TaskHandle task, int status = 0) => Call(task, new NumaTask.Exit(status));

    /// <summary><c>waitpid(pid, &amp;status, nohang ? WNOHANG : 0)</c>.</summary>
    /// <param name="task">The parent.</param>
    /// <param name="child">The child (null: any child, pid -1).</param>
    /// <param name="noHang">WNOHANG.</param>
    /// <returns>The result (ret = the reaped pid, with its wait status).</returns>
    public KernelCall<SyscallResult> Waitpid(TaskHandle task, TaskHandle? child = null, bool noHang = false) =>
        Call(task, new NumaTask.Waitpid(child?.Pid ?? -1, noHang));

    private static NodeMask? Mask(int[]? nodes) => nodes is null ? null : NodeMask.Of(nodes);
}

/// <summary>What fork() returned, and the child it made.</summary>
/// <param name="Result">The syscall's result (ret = the child's pid).</param>
/// <param name="Child">The child, or null when fork failed.</param>
public sealed record ForkResult(SyscallResult Result, TaskHandle? Child);

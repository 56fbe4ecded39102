
namespace ActorNuma.Kernel;

/// <summary>The public protocol of <see cref="KernelRootActor"/>, which boots the machine and creates tasks.</summary>
public static class KernelRoot
{
    /// <summary>Creates a task on a CPU, with or without CAP_SYS_NICE, with a real and an effective uid (the saved uid
    /// is the effective one, as after exec); answered with <see cref="TaskSpawned"/>. Its parent is init, which reaps
    /// it as soon as it exits.</summary>
    public sealed record SpawnTask(string Name, int Cpu, bool SysNice, int Uid = 0, int Euid = 0);

    public sealed record TaskSpawned(int Pid, string Name, IActorRef Task);

    /// <summary>The task could not be created (no such CPU): nothing else changes.</summary>
    public sealed record SpawnRefused(string Name, Errno Errno, string Reason);

    /// <summary>Creates the actor of a task whose state is already built (fork's child).</summary>
    internal sealed record CreateTask(long Token, IActorRef ReplyTo, TaskState State) : IKernelRequest;

    internal sealed record TaskCreated(long Token, int Pid, IActorRef Task) : IKernelReply;

    /// <summary><c>out_of_memory()</c> from an allocation that found nothing even after direct reclaim: the OOM killer
    /// picks the task with the most memory (<c>select_bad_process</c>), kills it, and answers once it has exited.</summary>
    /// <param name="Constrained">The allocation's zonelist leaves out a node with memory (constrained_alloc()'s
    /// CONSTRAINT_MEMORY_POLICY).</param>
    internal sealed record OutOfMemory(long Token, IActorRef ReplyTo, int Pid, bool Constrained = false) : IKernelRequest;

    internal sealed record OomDone(long Token, int Victim) : IKernelReply;

    /// <summary>A task finished exiting (its memory is free), with its wait status: a zombie from now on.</summary>
    internal sealed record TaskExited(int Pid, int Status);

    /// <summary><c>exit_mm()</c>: the exiting task let go of its mm (before its memory is torn down): from now on
    /// <c>get_task_mm()</c> finds none.</summary>
    internal sealed record ExitMm(int Pid);

    /// <summary>A task sleeping in wait4 was killed: its wait ends without reaping (do_wait returns -ERESTARTSYS on a
    /// pending SIGKILL).</summary>
    internal sealed record CancelWait4(int Parent);

    /// <summary><c>find_task_by_pid()</c> and <c>get_task_mm()</c> under tasklist_lock: whether the pid names a task,
    /// whether it still has an mm (a zombie has none), and the ids sys_migrate_pages compares.</summary>
    internal sealed record FindTaskMm(long Token, int Pid) : IKernelRequest;

    internal sealed record TaskMm(long Token, IActorRef? Task, bool HasMm, int Uid, int Suid) : IKernelReply;

    /// <summary><c>do_wait()</c> for <paramref name="Parent"/>: reap a zombie child (<paramref name="Pid"/> -1: any), or
    /// wait for one to exit unless <paramref name="NoHang"/>.</summary>
    internal sealed record Wait4(long Token, IActorRef ReplyTo, int Parent, int Pid, bool NoHang) : IKernelRequest;

    /// <summary>The reaped child's pid and wait status; pid 0 for WNOHANG with no zombie; ECHILD for no such child.</summary>
    internal sealed record Wait4Done(long Token, int Pid, int Status, Errno Errno) : IKernelReply;
}

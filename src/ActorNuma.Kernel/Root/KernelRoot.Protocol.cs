
namespace ActorNuma.Kernel;

/// <summary>The public protocol of <see cref="KernelRootActor"/>, which boots the machine and creates tasks.</summary>
public static class KernelRoot
{
    /// <summary>Creates a task on a CPU, with or without CAP_SYS_NICE; answered with <see cref="TaskSpawned"/>.</summary>
    public sealed record SpawnTask(string Name, int Cpu, bool SysNice);

    public sealed record TaskSpawned(int Pid, string Name, IActorRef Task);

    /// <summary>The task could not be created (no such CPU): nothing else changes.</summary>
    public sealed record SpawnRefused(string Name, Errno Errno, string Reason);

    /// <summary>Creates the actor of a task whose state is already built (fork's child).</summary>
    internal sealed record CreateTask(long Token, IActorRef ReplyTo, TaskState State);

    internal sealed record TaskCreated(long Token, int Pid, IActorRef Task);

    /// <summary><c>out_of_memory()</c> from an allocation that found nothing even after direct reclaim: the OOM killer
    /// picks the task with the most memory (<c>select_bad_process</c>), kills it, and answers once it has exited.</summary>
    internal sealed record OutOfMemory(long Token, IActorRef ReplyTo, int Pid);

    internal sealed record OomDone(long Token, int Victim);

    /// <summary>A task finished exiting (its memory is free).</summary>
    internal sealed record TaskExited(int Pid);
}

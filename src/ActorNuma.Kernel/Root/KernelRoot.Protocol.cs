using Akka.Actor;

namespace ActorNuma.Kernel;

/// <summary>The public protocol of <see cref="KernelRootActor"/>, which boots the machine and creates tasks.</summary>
public static class KernelRoot
{
    /// <summary>Creates a task on a CPU, with or without CAP_SYS_NICE; answered with <see cref="TaskSpawned"/>.</summary>
    public sealed record SpawnTask(string Name, int Cpu, bool SysNice);

    public sealed record TaskSpawned(int Pid, string Name, IActorRef Task);

    /// <summary>Creates the actor of a task whose state is already built (fork's child).</summary>
    internal sealed record CreateTask(long Token, IActorRef ReplyTo, TaskState State);

    internal sealed record TaskCreated(long Token, int Pid, IActorRef Task);
}

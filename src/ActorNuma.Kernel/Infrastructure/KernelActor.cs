namespace ActorNuma.Kernel;

/// <summary>The base of every kernel actor: it tells the machine's <see cref="KernelActivity"/> when the actor starts
/// and ends a message, so a concurrent run can tell a machine at rest from one whose actors are all busy inside long
/// handlers (mailboxes look empty then too).</summary>
public abstract class KernelActor(KernelMachine machine) : UntypedActor
{
    protected KernelMachine Machine { get; } = machine;

    protected override bool AroundReceive(Receive receive, object message)
    {
        Machine.Activity.Enter();
        try
        {
            return base.AroundReceive(receive, message);
        }
        finally
        {
            Machine.Activity.Exit();
        }
    }
}

/// <summary>How many messages kernel actors have started and finished handling. Equal counts that stay equal while
/// every mailbox is empty mean the machine is at rest: the checkers may read it.</summary>
public sealed class KernelActivity
{
    private long _entered;
    private long _exited;

    internal void Enter() => Interlocked.Increment(ref _entered);
    internal void Exit() => Interlocked.Increment(ref _exited);

    /// <summary>Finished is read before started: a handler that starts between the reads makes them differ, never
    /// hides.</summary>
    public (long Started, long Finished) Snapshot()
    {
        var finished = Interlocked.Read(ref _exited);
        var started = Interlocked.Read(ref _entered);
        return (started, finished);
    }
}

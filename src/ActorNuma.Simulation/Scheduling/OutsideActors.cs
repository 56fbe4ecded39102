using Akka.Actor;
using Akka.Actor.Internal;

namespace ActorNuma.Simulation.Scheduling;

/// <summary>
/// Makes the calling thread a thread outside every actor for the length of a run, and gives back what it was after.
/// </summary>
/// <remarks>
/// Akka keeps the actor a thread is running in a thread-static (<see cref="InternalCurrentActorCellKeeper"/>): a
/// <c>Tell</c> without a sender takes it as the sender, and the run's trace and delivery log take it as the actor an
/// event happened in. A mailbox run sets it and restores the old value, so between mailbox runs the runner's thread
/// shows whatever it held before the run; Akka.TestKit leaves its test actor there on the thread that built it, and
/// xUnit runs later tests on the same thread. A deterministic run pumps on its caller's thread, so without this scope
/// the runner's own sends (the driver's start, a checkpoint's answer, a virtual timer that fires between steps) were
/// charged to an earlier test's <c>testActor</c>.
/// </remarks>
public readonly struct OutsideActors : IDisposable
{
    private readonly ActorCell? _previous;

    private OutsideActors(ActorCell? previous) => _previous = previous;

    public static OutsideActors Enter()
    {
        var previous = InternalCurrentActorCellKeeper.Current;
        InternalCurrentActorCellKeeper.Current = null;
        return new OutsideActors(previous);
    }

    public void Dispose() => InternalCurrentActorCellKeeper.Current = _previous;
}

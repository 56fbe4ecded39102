using Akka.Actor;

namespace ActorNuma.Simulation.Run;

/// <summary>The deterministic run loop: the seeded pump plays the timeline on this thread and serves the driver's
/// checkpoints at quiescent points.</summary>
public static partial class ScenarioRunner
{
    internal sealed partial class Execution
    {
        private void PlayDeterministic(IActorRef driver)
        {
            while (true)
            {
                var live = _pump!.RunUntil(() => _progress.Done || _progress.CheckpointRequested, _options.MaxSteps);
                if (!live)
                {
                    Stalled();
                    return;
                }
                if (_progress.CheckpointRequested)
                {
                    _pump.RunUntilIdle(_options.MaxSteps);
                    if (_options.CheckEveryStep)
                    {
                        Checkpoint(final: false);
                    }

                    _progress.CheckpointServed();
                    driver.Tell(new ScenarioDriverActor.CheckpointDone(), ActorRefs.NoSender);
                    continue;
                }
                return;
            }
        }
    }
}

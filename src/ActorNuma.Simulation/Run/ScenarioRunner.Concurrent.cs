using Akka.Actor;

namespace ActorNuma.Simulation.Run;

/// <summary>The concurrent run loop: the kernel actors run on the thread pool and this thread serves the driver's
/// checkpoints, holding timers while the checkers read a machine at rest.</summary>
public static partial class ScenarioRunner
{
    internal sealed partial class Execution
    {
        /// <summary>Serves checkpoints until the driver finishes, or until the machine stops making progress while a step
        /// is outstanding (no kernel message for the stall window, no I/O or timer pending).</summary>
        private void PlayConcurrent(IActorRef driver)
        {
            while (!_progress.Done)
            {
                _progress.Signal.WaitOne(TimeSpan.FromMilliseconds(100));
                if (_progress.CheckpointRequested)
                {
                    if (!Settle())
                    {
                        return;
                    }

                    if (_options.CheckEveryStep)
                    {
                        Checkpoint(final: false);
                    }

                    ResumeTimers();
                    _progress.CheckpointServed();
                    driver.Tell(new ScenarioDriverActor.CheckpointDone(), ActorRefs.NoSender);
                }
                else if (!_progress.Done && _watch.Stalled())
                {
                    Stalled();
                    return;
                }
            }
        }

        /// <summary>After a concurrent checkpoint: held timers fire, late by as long as the checkers took; the stall
        /// window starts again.</summary>
        private void ResumeTimers()
        {
            _machine.TimerLoop?.Resume();
            _watch.Restart();
        }
    }
}

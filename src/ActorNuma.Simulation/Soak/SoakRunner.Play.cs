using Akka.Actor;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Soak;

/// <summary>The soak's two play loops (rounds or free-running under the seed; free-running on real threads), how a run
/// decides to end, and the liveness watch of a concurrent machine.</summary>
public static partial class SoakRunner
{
    private sealed partial class Session
    {
        /// <summary>In rounds: one round at a time, the checkers after each; a metrics row whenever virtual time passes an
        /// interval. Free-running: the tasks run for an interval of virtual time (or until a kernel BUG), then the
        /// driver is asked to pause, and once every syscall in flight is answered the checkers run and a row is
        /// written, as in concurrent mode but with every interleaving drawn from the seed.</summary>
        private string PlayDeterministic()
        {
            var next = TimeSpan.Zero;
            var freeRunning = _play == SoakPlay.FreeRunning;
            while (true)
            {
                bool live;
                var from = Now;
                try { live = _pump!.RunUntil(() => _progress.Paused || _machine.HasBugs, _maxSteps); }
                catch (StepBudgetExhaustedException e) { return Livelocked(e.Message + FrozenClock(from)); }
                if (!live)
                {
                    // Nothing runnable and no timer: the machine is at rest, and what each busy task waits for is the dump.
                    return Stalled($"the soak stalled at round {_progress.Rounds + 1}: nothing runnable, no timer due");
                }

                _pump.RunUntilIdle(_maxSteps);
                if (_progress.Fatal is { } fatal)
                {
                    return Stop("fatal", $"{fatal} (seed {_seed})");
                }

                if (!Checkpoint())
                {
                    return Stop("violation", _violation!);
                }

                if (Now >= next || freeRunning)
                {
                    Sample();
                    next = Now + _soak.Workload.Interval;
                }
                else if (_wall.Elapsed - _lastStatus >= StatusEvery)
                {
                    Report(_metrics.Last is { } last ? last.Interval : 0);
                }

                if (Over() is { } reason)
                {
                    return reason;
                }

                _progress.Resume(untilAsked: freeRunning);
                _driver.Tell(new SoakDriverActor.Resume(), ActorRefs.NoSender);
                if (freeRunning)
                {
                    var until = Now + _soak.Workload.Interval;
                    from = Now;
                    // A busy machine can take far longer than the run's wall duration to pass an interval of virtual
                    // time: the slice also ends when the run must (its duration is over, or Ctrl-C), so every output
                    // is still written in time. It never ends on the wall clock otherwise: where the driver pauses is
                    // part of the schedule, which the seed alone decides.
                    try { _pump!.RunUntil(() => Now >= until || _progress.Paused || _machine.HasBugs || MustEnd(), _maxSteps); }
                    catch (StepBudgetExhaustedException e) { return Livelocked(e.Message + FrozenClock(from)); }
                    _progress.RequestPause();
                }
            }
        }

        /// <summary>The driver runs free for an interval, then is asked to pause; once every syscall in flight is
        /// answered the machine is held at rest (timers paused, every mailbox empty), checked and sampled, and let go
        /// again.</summary>
        private string PlayConcurrent()
        {
            while (true)
            {
                if (!WaitPaused())
                {
                    return _livelock
                        ? Livelocked($"the soak livelocked at round {_progress.Rounds + 1}: kernel messages flow but no syscall was answered for {(_watch.Window * LivelockWindows).TotalSeconds:0.###} s")
                        : Stalled($"the soak stalled at round {_progress.Rounds + 1}: no kernel message for {_watch.Window.TotalSeconds:0.###} s, no I/O or timer pending");
                }

                if (!Settle())
                {
                    return Stalled("the machine stalled before coming to rest");
                }

                if (_progress.Fatal is { } fatal)
                {
                    return Stop("fatal", $"{fatal} (seed {_seed})");
                }

                if (!Checkpoint())
                {
                    return Stop("violation", _violation!);
                }

                Sample();
                if (Over() is { } reason)
                {
                    return reason;
                }

                ResumeTimers();
                _progress.Resume(untilAsked: true);
                _driver.Tell(new SoakDriverActor.Resume(), ActorRefs.NoSender);
                var left = Remaining();
                var wait = left < _soak.Workload.Interval ? left : _soak.Workload.Interval;
                _options.Cancel.WaitHandle.WaitOne(wait < TimeSpan.Zero ? TimeSpan.Zero : wait);
                _progress.RequestPause();
            }
        }

        private TimeSpan Remaining() => (_options.Duration ?? TimeSpan.MaxValue) == TimeSpan.MaxValue
            ? TimeSpan.FromDays(1)
            : _options.Duration!.Value - _wall.Elapsed;

        /// <summary>Waits for the driver to pause. False on a stall (no kernel message for the stall window) or a
        /// livelock (kernel messages flowing, but no syscall answered for <see cref="LivelockWindows"/> stall windows:
        /// with every task issuing syscalls back to back, some task answers within seconds unless the kernel loops).
        /// <see cref="_livelock"/> says which.</summary>
        private bool WaitPaused()
        {
            _watch.Restart();
            var syscalls = _progress.Syscalls;
            var since = _wall.Elapsed;
            while (!_progress.PausedSignal.WaitOne(TimeSpan.FromMilliseconds(100)))
            {
                if (_watch.Stalled())
                {
                    return false;
                }

                if (_progress.Syscalls != syscalls)
                {
                    (syscalls, since) = (_progress.Syscalls, _wall.Elapsed);
                }
                else if (_wall.Elapsed - since >= _watch.Window * LivelockWindows)
                {
                    _livelock = true;
                    return false;
                }
            }

            return true;
        }

        private const int LivelockWindows = 3;
        private bool _livelock;

        /// <summary>Why a step budget can run out with no kernel at fault: with no step cost, virtual time moves only when
        /// nothing is runnable, so a task whose syscalls never wait on a timer (a direct migration needs no I/O) runs at
        /// one instant for ever, and every other task's I/O completion waits behind it. Empty when time moved.</summary>
        private string FrozenClock(TimeSpan from) => _pump!.StepCost == TimeSpan.Zero && Now == from
            ? $"; virtual time stood still at {Now.TotalMilliseconds:0.###} ms through the whole budget: with " +
              "actornuma.run.step-cost = 0 time moves only when nothing is runnable, and some task's syscalls never wait " +
              "on a timer; set a step cost (e.g. 2us) so that the others' I/O completes while it runs"
            : "";

        /// <summary>The run must end now (Ctrl-C, or its wall duration is over), checked between steps; <see cref="Over"/>
        /// then names the reason at the checkpoint that follows. Refreshes the status line while a slice runs long.</summary>
        private bool MustEnd()
        {
            if ((++_mustEndCalls & 0x3FF) != 0)
            {
                return false;
            }

            if (_wall.Elapsed - _lastStatus >= StatusEvery)
            {
                Report(_metrics.Last is { } last ? last.Interval : 0);
            }

            return _options.Cancel.IsCancellationRequested || (_options.Duration is { } d && _wall.Elapsed >= d);
        }

        private static readonly TimeSpan StatusEvery = TimeSpan.FromSeconds(1);
        private long _mustEndCalls;

        private string? Over()
        {
            if (_options.Cancel.IsCancellationRequested)
            {
                return "interrupted";
            }

            if (_options.MaxMemoryBytes is { } max && _wall.Elapsed - _lastMemoryCheck >= TimeSpan.FromMilliseconds(500))
            {
                _lastMemoryCheck = _wall.Elapsed;
                var ws = WorkingSet();
                if (ws >= max)
                {
                    _stopMessage = $"--max-memory {Mib(max)}: the process reached {Mib(ws)} of memory after " +
                                   $"{_wall.Elapsed.TotalSeconds:0.#} s; stopped with every output written";
                    return "max-memory";
                }
            }
            if (_options.Duration is { } d && _wall.Elapsed >= d)
            {
                return "duration";
            }

            if (_pump is not null && _options.VirtualDuration is { } v && Now >= v)
            {
                return "virtual-duration";
            }

            return null;
        }
    }
}

using System.Diagnostics;
using Akka.Actor;
using ActorNuma.Kernel;
using ActorNuma.Simulation.Checkers;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Soak;

/// <summary>Runs a soak: boots the machine, lets <see cref="SoakDriverActor"/> play (in rounds in deterministic mode,
/// free-running in concurrent mode), checks the machine at rest (after every round in deterministic mode, at every
/// metrics interval in concurrent mode), lets reaped tasks go, streams metrics, and stops at the first violation, at the
/// duration, at --max-memory, or when cancelled.</summary>
public static class SoakRunner
{
    /// <summary>The seed line and every derived parameter, the workload's last.</summary>
    public static IReadOnlyList<string> DerivedParameters(LoadedSoak soak, SoakOptions o)
    {
        var w = soak.Workload;
        var lines = ScenarioRunner.DerivedParameters(soak.AsScenario(), new RunOptions { Seed = o.Seed, Mode = o.Mode });
        var weights = string.Join(",", w.Weights.Select(x => $"{SoakWorkload.WeightKeys.First(k => k.Op == x.Op).Key}:{x.Weight}"));
        return [.. lines, $"soak_tasks={w.Tasks} working_set_pages={w.WorkingSetPages} touch_pages={w.TouchPages} " +
                          $"write_percent={w.WritePercent} hot_percent={w.HotPercent} move_pages={w.MovePages} " +
                          $"child_rounds={w.ChildRounds} interval={w.Interval.TotalMilliseconds}ms weights={weights} " +
                          $"play={(PlayOf(soak, o) == SoakPlay.Rounds ? "rounds" : "free-running")}"];
    }

    /// <summary>How the soak plays its tasks in its mode: <c>auto</c> is rounds in deterministic mode, free-running in
    /// concurrent mode; rounds in concurrent mode is refused (<see cref="ScenarioException"/>, one line).</summary>
    public static SoakPlay PlayOf(LoadedSoak soak, SoakOptions options)
    {
        var mode = options.Mode ?? soak.Machine.Run.Mode;
        var play = options.Play ?? soak.Workload.Play ?? (mode == RunMode.Deterministic ? SoakPlay.Rounds : SoakPlay.FreeRunning);
        return mode == RunMode.Concurrent && play == SoakPlay.Rounds
            ? throw new ScenarioException($"actornuma.soak.play: expected free-running or auto in concurrent mode (a concurrent soak checks at rest between intervals, not rounds), got rounds in {soak.Source}")
            : play;
    }

    public static SoakResult Run(LoadedSoak soak, SoakOptions options)
    {
        using var outside = OutsideActors.Enter();
        var m = soak.Machine;
        var seed = options.Seed ?? m.Run.Seed;
        var mode = options.Mode ?? m.Run.Mode;
        var play = PlayOf(soak, options);
        var system = ScenarioRunner.CreateSystem(mode, seed, m.LogLevel);
        Session? session = null;
        try
        {
            session = new Session(system, mode, play, seed, soak, options);
            return session.Play();
        }
        finally
        {
            if (mode == RunMode.Deterministic)
            {
                DeterministicPump.Terminate(system);
            }
            else
            {
                system.Terminate().Wait(TimeSpan.FromSeconds(10));
            }

            session?.Dispose();
        }
    }

    private sealed class Session : IDisposable
    {
        private readonly ActorSystem _system;
        private readonly RunMode _mode;
        private readonly SoakPlay _play;
        private readonly int _seed;
        private readonly LoadedSoak _soak;
        private readonly SoakOptions _options;
        private readonly DeterministicPump? _pump;
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private readonly KernelMachine _machine;
        private readonly ProgressWatch _watch;
        private readonly SoakProgress _progress = new();
        private readonly SoakMetrics _metrics;
        private readonly TraceTail _tail;
        private readonly long _maxSteps;
        private IActorRef _driver = ActorRefs.Nobody;
        private string? _violation;
        private string? _dump;
        private string? _stopMessage;
        private long _checks;
        private long _peakWorkingSet;
        private long? _workingSetAtOneMinute;
        private long _roundsSampled = -1;
        private long _forgotten;
        private TimeSpan _lastStatus;
        private long _lastStatusEvents;
        private TimeSpan _lastMemoryCheck;

        public Session(ActorSystem system, RunMode mode, SoakPlay play, int seed, LoadedSoak soak, SoakOptions options)
        {
            _system = system;
            _mode = mode;
            _play = play;
            _seed = seed;
            _soak = soak;
            _options = options;
            _maxSteps = options.MaxStepsPerRound ?? soak.Workload.MaxStepsPerRound;
            _pump = mode == RunMode.Deterministic ? DeterministicPump.For(system) : null;
            if (_pump is not null)
            {
                _pump.StepCost = soak.Machine.Run.StepCost;
            }
            // Nothing of the trace is kept (it is still hashed) but a fixed ring of its last events: an hours-long soak
            // must not grow with its events, and a violation's dump shows what touched the pages it names.
            var trace = new KernelTrace(_pump is not null ? () => _pump.Scheduler.Elapsed : () => _wall.Elapsed, keep: 0);
            trace.Log = Logging.TraceSink(Logging.Of(system), soak.Machine.LogLevel);
            trace.Tail = _tail = new TraceTail(options.TraceTailChars);
            _machine = new KernelMachine(ScenarioRunner.Settings(soak.Machine), trace);
            if (_pump is null)
            {
                _machine.StartTimerLoop();
            }

            _watch = new ProgressWatch(_machine.Activity, options.StallTimeout ?? soak.Workload.StallTimeout, () => _wall.Elapsed, _machine.TimerLoop);
            _metrics = new SoakMetrics(options.OutDir, _machine.Topology.Nodes);
        }

        /// <summary>The clock of the mode: virtual time on the pump, wall time concurrently.</summary>
        private TimeSpan Now => _pump?.Scheduler.Elapsed ?? _wall.Elapsed;

        public SoakResult Play()
        {
            Spawn(KernelRootActor.Props(_machine), "kernel");
            if (Settle())
            {
                ResumeTimers();
            }

            _driver = Spawn(SoakDriverActor.Props(_machine, _soak.Workload, _seed, _progress, freeRunning: _play == SoakPlay.FreeRunning), "soak");
            _driver.Tell(new SoakDriverActor.Start(), ActorRefs.NoSender);
            var reason = _pump is not null ? PlayDeterministic() : PlayConcurrent();
            return Result(reason);
        }

        private IActorRef Spawn(Props props, string name)
        {
            var actor = _system.ActorOf(props, name);
            DeterministicPump.AwaitStarted(actor);
            return actor;
        }

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

        private static string Mib(long bytes) => $"{bytes / (1 << 20)} MiB";

        private long WorkingSet()
        {
            var ws = Environment.WorkingSet;
            _peakWorkingSet = Math.Max(_peakWorkingSet, ws);
            return ws;
        }

        /// <summary>A machine that stopped making progress. A kernel BUG that stopped an actor (the usual cause: the
        /// messages it would have answered are lost) is the finding, with its dump: nothing has run for the whole stall
        /// window (concurrent) or nothing is runnable (deterministic), so the machine's state holds still while it is
        /// read.</summary>
        private string Stalled(string why)
        {
            if (_machine.Bugs.FirstOrDefault() is not { } bug)
            {
                // No BUG: what each task still in a syscall waits for is the finding.
                Dump($"liveness: {why} (seed {_seed})", busyTasks: true);
                return "stalled";
            }

            Dump($"{bug} (seed {_seed}, after round {_progress.Rounds}, wall time {Now.TotalSeconds:0.###} s; then {why})");
            return "violation";
        }

        /// <summary>A machine whose actors keep each other busy without answering any syscall (or, deterministic, without
        /// reaching the pause within the step budget). It cannot be held at rest, so its frames and page tables are not read; the dump names the busy tasks and the trace's last
        /// events, which show the loop.</summary>
        private string Livelocked(string why)
        {
            var violation = _machine.Bugs.FirstOrDefault() is { } bug ? $"{bug} (seed {_seed}; then {why})" : $"liveness: {why} (seed {_seed})";
            _violation = violation;
            var busy = _machine.Tasks.Where(t => t.Busy is not null).Select(t => $"  task {t.Pid} ({t.Name}) busy={t.Busy}");
            var tail = _tail.Lines();
            _dump = string.Join("\n", [$"SOAK VIOLATION (seed {_seed})", $"checker: {violation}",
                "the machine is still running: its frames and page tables cannot be read without racing it", "",
                "tasks in a syscall:", .. busy, "", $"last kernel events ({Math.Min(tail.Count, 200)} of the {tail.Count} the trace's tail keeps):",
                .. tail.TakeLast(200).Select(l => "  " + l), ""]);
            File.WriteAllText(Path.Combine(_options.OutDir, SoakOutputs.ViolationFile), _dump);
            return "stalled";
        }

        /// <summary>Keeps the first violation, and prints its dump to violation.txt.</summary>
        private void Dump(string violation, bool busyTasks = false)
        {
            _violation = violation;
            _dump = SoakViolationDump.Write(_machine, violation, _seed, _tail.Lines(), deterministic: _pump is not null,
                freeRunning: _play == SoakPlay.FreeRunning, busyTasks: busyTasks);
            File.WriteAllText(Path.Combine(_options.OutDir, SoakOutputs.ViolationFile), _dump);
        }

        private string Stop(string reason, string violation)
        {
            _violation ??= violation;
            return reason;
        }

        private bool Settle()
        {
            if (_pump is not null) { _pump.RunUntilIdle(_maxSteps); return true; }
            return Quiescence.HoldAtRest(_machine, _watch);
        }

        private void ResumeTimers()
        {
            _machine.TimerLoop?.Resume();
            _watch.Restart();
        }

        /// <summary>Kernel BUGs and every checker; false (and the violation and its dump kept) at the first finding.
        /// Then the tasks the driver is done with and the task list has reaped are let go: their actors stop (no
        /// request can be on its way to them at rest) and the machine drops their records.</summary>
        private bool Checkpoint()
        {
            _checks++;
            var found = _machine.Bugs.Concat(InvariantCheckers.RunAll(_machine)).FirstOrDefault();
            if (found is not null)
            {
                Dump($"{found} (seed {_seed}, after round {_progress.Rounds}, {(_pump is null ? "wall" : "virtual")} time {Now.TotalSeconds:0.###} s)");
                return false;
            }
            ForgetReaped();
            return true;
        }

        private void ForgetReaped()
        {
            foreach (var (pid, task) in _progress.TakeGone())
            {
                if (_machine.Forget(pid))
                {
                    _system.Stop(task);
                    _forgotten++;
                }
                else if (_machine.Tasks.Any(t => t.Pid == pid))
                {
                    _progress.PutBackGone(pid, task);
                }
            }
        }

        private void Sample()
        {
            _roundsSampled = _progress.Rounds;
            var s = _metrics.Sample(_machine, Now, _progress.Rounds, _progress.Syscalls);
            var ws = WorkingSet();
            if (_workingSetAtOneMinute is null && _wall.Elapsed >= TimeSpan.FromMinutes(1))
            {
                _workingSetAtOneMinute = ws;
            }

            _metrics.SampleProcess(s.Interval, Now, _wall.Elapsed, ws, _machine.Tasks.Count);
            Report(s.Interval);
        }

        private void Report(int interval)
        {
            if (_options.Status is not { } status)
            {
                return;
            }

            var v = KernelStats.Vmstat(_machine);
            var events = v["pgfault"] + v["emu_migrate_evicted"];
            var wall = _wall.Elapsed;
            var span = (wall - _lastStatus).TotalSeconds;
            var rate = span > 0 ? (events - _lastStatusEvents) / span : 0;
            (_lastStatus, _lastStatusEvents) = (wall, events);
            TimeSpan? remaining = _options.Duration is { } d ? d - wall : _options.VirtualDuration is { } vd ? vd - Now : null;
            status(new SoakStatus
            {
                Mode = _mode.ToString().ToLowerInvariant(),
                Elapsed = wall,
                Remaining = remaining,
                VirtualRemaining = _options.Duration is null && _options.VirtualDuration is not null,
                MachineTime = Now,
                EventsPerSecond = rate,
                Faults = v["pgfault"],
                Migrated = v["emu_migrate_evicted"],
                SwapIn = v["pswpin"],
                SwapOut = v["pswpout"],
                KswapdRuns = v["pageoutrun"],
                FreePerNode = _machine.Nodes.Select(n => n.Memory.FreePages).ToArray(),
                Watermarks = _machine.Settings.WatermarksOf(0),
                SwapUsed = _machine.Swap is { } sw ? sw.Map.TotalSwapPages - sw.Map.NrSwapPages : 0,
                Violations = _violation is null ? 0 : 1,
                Rounds = _progress.Rounds,
                Checks = _checks,
                WorkingSetBytes = Environment.WorkingSet,
                Tasks = _machine.Tasks.Count,
            });
        }

        private SoakResult Result(string reason)
        {
            // A last row for the rounds since the last one, unless a concurrent machine stalled: it is not at rest,
            // and reading it would race its actors.
            var atRest = _pump is not null || (reason != "stalled" && _machine.Bugs.Count == 0);
            if (atRest && _progress.Rounds != _roundsSampled)
            {
                Sample();
            }

            var vmstat = KernelStats.Vmstat(_machine);
            var s = _machine.Settings;
            return new SoakResult
            {
                Seed = _seed,
                Mode = _mode.ToString().ToLowerInvariant(),
                Profile = _machine.Profile.Name,
                Source = _soak.Source,
                StopReason = reason,
                Violation = _violation,
                ViolationDump = _dump,
                StopMessage = _stopMessage,
                Rounds = _progress.Rounds,
                Syscalls = _progress.Syscalls,
                Messages = _machine.Activity.Snapshot().Finished,
                Checks = _checks,
                Wall = _wall.Elapsed,
                VirtualTime = _pump?.Scheduler.Elapsed ?? _wall.Elapsed,
                Events = vmstat["pgfault"] + vmstat["emu_migrate_evicted"],
                Vmstat = vmstat,
                NodeVmstat = KernelStats.PerNode(_machine),
                Errnos = _progress.Errnos,
                Calls = _progress.Calls,
                DerivedParameters = DerivedParameters(_soak, _options with { Seed = _seed, Mode = _mode }),
                MetricsRows = _metrics.Rows,
                PeakWorkingSetBytes = _peakWorkingSet,
                MbindMove = _progress.MbindMove,
                MigratePages = _progress.MigratePages,
                Device = $"swap_slots={s.SwapSlots} write_latency={s.SwapWriteLatency.TotalMicroseconds}us " +
                         $"read_latency={s.SwapReadLatency.TotalMicroseconds}us queue_depth={s.SwapQueueDepth}",
                WorkingSetAtOneMinuteBytes = _workingSetAtOneMinute,
                WorkingSetAtEndBytes = Environment.WorkingSet,
                GcPause = GC.GetTotalPauseDuration(),
                GcCollections = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)],
                TaskRecords = _machine.Tasks.Count,
                TasksForgotten = _forgotten,
            };
        }

        public void Dispose()
        {
            _metrics.Dispose();
            _machine.TimerLoop?.Dispose();
        }
    }
}

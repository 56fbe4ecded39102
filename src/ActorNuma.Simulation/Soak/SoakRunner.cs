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
public static partial class SoakRunner
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
            Logging.Flush(system, TimeSpan.FromSeconds(10));
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

    private sealed partial class Session : IDisposable
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

        private static string Mib(long bytes) => $"{bytes / (1 << 20)} MiB";

        private long WorkingSet()
        {
            var ws = Environment.WorkingSet;
            _peakWorkingSet = Math.Max(_peakWorkingSet, ws);
            return ws;
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

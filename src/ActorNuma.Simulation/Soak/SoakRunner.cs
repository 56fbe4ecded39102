using System.Diagnostics;
using Akka.Actor;
using ActorNuma.Kernel;
using ActorNuma.Simulation.Checkers;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Soak;

/// <summary>How long and how to soak, over what the workload file says.</summary>
public sealed record SoakOptions
{
    public int? Seed { get; init; }
    public RunMode? Mode { get; init; }
    /// <summary>Stop after this much wall time (either mode).</summary>
    public TimeSpan? Duration { get; init; }
    /// <summary>Stop after this much virtual time (deterministic mode only): the same seed then stops at the same round.</summary>
    public TimeSpan? VirtualDuration { get; init; }
    /// <summary>The directory the outputs go to; it must exist and be writable (<see cref="SoakOutputs.Prepare"/>).</summary>
    public required string OutDir { get; init; }
    /// <summary>Stops the soak at the next checkpoint (Ctrl-C); the outputs are still written.</summary>
    public CancellationToken Cancel { get; init; }
    /// <summary>Progress lines, one per metrics row.</summary>
    public Action<string>? Progress { get; init; }
    /// <summary>Deterministic mode: scheduler steps one round may take before it counts as a liveness violation.</summary>
    public long MaxStepsPerRound { get; init; } = 50_000_000;
    /// <summary>Concurrent mode: no kernel message for this long with work pending is a stall.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>How a soak ended and what it did.</summary>
public sealed record SoakResult
{
    public required int Seed { get; init; }
    public required string Mode { get; init; }
    public required string Profile { get; init; }
    public required string Source { get; init; }
    /// <summary>duration, virtual-duration, interrupted, violation, stalled or fatal.</summary>
    public required string StopReason { get; init; }
    /// <summary>The first checker violation, kernel BUG, stall or driver error; null for a clean soak.</summary>
    public string? Violation { get; init; }
    public required long Rounds { get; init; }
    public required long Syscalls { get; init; }
    public required long Messages { get; init; }
    public required long Checks { get; init; }
    public required TimeSpan Wall { get; init; }
    public required TimeSpan VirtualTime { get; init; }
    /// <summary>Page faults plus migrated pages over the soak.</summary>
    public required long Events { get; init; }
    public double EventsPerSecond => Wall.TotalSeconds > 0 ? Events / Wall.TotalSeconds : 0;
    public double MessagesPerSecond => Wall.TotalSeconds > 0 ? Messages / Wall.TotalSeconds : 0;
    public required IReadOnlyDictionary<string, long> Vmstat { get; init; }
    public required IReadOnlyDictionary<string, SortedDictionary<string, long>> NodeVmstat { get; init; }
    public required IReadOnlyDictionary<string, long> Errnos { get; init; }
    public required IReadOnlyList<string> DerivedParameters { get; init; }
    public required int MetricsRows { get; init; }
    public required long PeakWorkingSetBytes { get; init; }
    public int ExitCode => Violation is null ? 0 : 3;
}

/// <summary>Runs a soak: boots the machine, lets <see cref="SoakDriverActor"/> play rounds, checks the machine at rest
/// (after every round in deterministic mode, at every metrics interval in concurrent mode), streams metrics, and stops
/// at the first violation, at the duration, or when cancelled.</summary>
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
                          $"child_rounds={w.ChildRounds} interval={w.Interval.TotalMilliseconds}ms weights={weights}"];
    }

    public static SoakResult Run(LoadedSoak soak, SoakOptions options)
    {
        var m = soak.Machine;
        var seed = options.Seed ?? m.Run.Seed;
        var mode = options.Mode ?? m.Run.Mode;
        var system = ScenarioRunner.CreateSystem(mode, seed, m.LogLevel);
        Session? session = null;
        try
        {
            session = new Session(system, mode, seed, soak, options);
            return session.Play();
        }
        finally
        {
            if (mode == RunMode.Deterministic) DeterministicPump.Terminate(system);
            else system.Terminate().Wait(TimeSpan.FromSeconds(10));
            session?.Dispose();
        }
    }

    private sealed class Session : IDisposable
    {
        private readonly ActorSystem _system;
        private readonly RunMode _mode;
        private readonly int _seed;
        private readonly LoadedSoak _soak;
        private readonly SoakOptions _options;
        private readonly DeterministicPump? _pump;
        private readonly Stopwatch _wall = Stopwatch.StartNew();
        private readonly KernelMachine _machine;
        private readonly ProgressWatch _watch;
        private readonly SoakProgress _progress = new();
        private readonly SoakMetrics _metrics;
        private IActorRef _driver = ActorRefs.Nobody;
        private string? _violation;
        private long _checks;
        private long _peakWorkingSet;
        private long _roundsSampled = -1;

        public Session(ActorSystem system, RunMode mode, int seed, LoadedSoak soak, SoakOptions options)
        {
            _system = system;
            _mode = mode;
            _seed = seed;
            _soak = soak;
            _options = options;
            _pump = mode == RunMode.Deterministic ? DeterministicPump.For(system) : null;
            // Nothing of the trace is kept (it is still hashed): an hours-long soak must not grow with its events.
            var trace = new KernelTrace(_pump is not null ? () => _pump.Scheduler.Elapsed : () => _wall.Elapsed, keep: 0);
            trace.Log = Logging.TraceSink(Logging.Of(system), soak.Machine.LogLevel);
            _machine = new KernelMachine(ScenarioRunner.Settings(soak.Machine), trace);
            if (_pump is null) _machine.StartTimerLoop();
            _watch = new ProgressWatch(_machine.Activity, options.StallTimeout, () => _wall.Elapsed, _machine.TimerLoop);
            _metrics = new SoakMetrics(options.OutDir, _machine.Topology.Nodes);
        }

        /// <summary>The clock of the mode: virtual time on the pump, wall time concurrently.</summary>
        private TimeSpan Now => _pump?.Scheduler.Elapsed ?? _wall.Elapsed;

        public SoakResult Play()
        {
            Spawn(KernelRootActor.Props(_machine), "kernel");
            if (Settle()) ResumeTimers();
            _driver = Spawn(SoakDriverActor.Props(_machine, _soak.Workload, _seed, _progress), "soak");
            _driver.Tell(new SoakDriverActor.Start());
            var reason = _pump is not null ? PlayDeterministic() : PlayConcurrent();
            return Result(reason);
        }

        private IActorRef Spawn(Props props, string name)
        {
            var actor = _system.ActorOf(props, name);
            DeterministicPump.AwaitStarted(actor);
            return actor;
        }

        /// <summary>One round at a time, the checkers after each; a metrics row whenever virtual time passes an
        /// interval.</summary>
        private string PlayDeterministic()
        {
            var next = TimeSpan.Zero;
            while (true)
            {
                bool live;
                try { live = _pump!.RunUntil(() => _progress.Paused, _options.MaxStepsPerRound); }
                catch (StepBudgetExhaustedException e) { return Stop("stalled", $"liveness: {e.Message}"); }
                if (!live) return Stop("stalled", $"liveness: the soak stalled at round {_progress.Rounds + 1}: nothing runnable, no timer due (seed {_seed})");
                _pump.RunUntilIdle(_options.MaxStepsPerRound);
                if (_progress.Fatal is { } fatal) return Stop("fatal", $"{fatal} (seed {_seed})");
                if (!Checkpoint()) return Stop("violation", _violation!);
                if (Now >= next)
                {
                    Sample();
                    next = Now + _soak.Workload.Interval;
                }
                if (Over() is { } reason) return reason;
                _progress.Resume(untilAsked: false);
                _driver.Tell(new SoakDriverActor.Resume());
            }
        }

        /// <summary>The driver runs free for an interval, then is asked to pause; once its round is done the machine is
        /// held at rest (timers paused, every mailbox empty), checked and sampled, and let go again.</summary>
        private string PlayConcurrent()
        {
            while (true)
            {
                if (!WaitPaused()) return Stop("stalled", $"liveness: the soak stalled at round {_progress.Rounds + 1}: no kernel message for {_watch.Window.TotalSeconds:0.###} s, no I/O or timer pending (seed {_seed})");
                if (!Settle()) return Stop("stalled", $"liveness: the machine stalled before coming to rest (seed {_seed})");
                if (_progress.Fatal is { } fatal) return Stop("fatal", $"{fatal} (seed {_seed})");
                if (!Checkpoint()) return Stop("violation", _violation!);
                Sample();
                if (Over() is { } reason) return reason;
                ResumeTimers();
                _progress.Resume(untilAsked: true);
                _driver.Tell(new SoakDriverActor.Resume());
                var left = Remaining();
                var wait = left < _soak.Workload.Interval ? left : _soak.Workload.Interval;
                _options.Cancel.WaitHandle.WaitOne(wait < TimeSpan.Zero ? TimeSpan.Zero : wait);
                _progress.RequestPause();
            }
        }

        private TimeSpan Remaining() => (_options.Duration ?? TimeSpan.MaxValue) == TimeSpan.MaxValue
            ? TimeSpan.FromDays(1)
            : _options.Duration!.Value - _wall.Elapsed;

        private bool WaitPaused()
        {
            _watch.Restart();
            while (!_progress.PausedSignal.WaitOne(TimeSpan.FromMilliseconds(100)))
                if (_watch.Stalled()) return false;
            return true;
        }

        private string? Over()
        {
            if (_options.Cancel.IsCancellationRequested) return "interrupted";
            if (_options.Duration is { } d && _wall.Elapsed >= d) return "duration";
            if (_pump is not null && _options.VirtualDuration is { } v && Now >= v) return "virtual-duration";
            return null;
        }

        private string Stop(string reason, string violation)
        {
            _violation ??= violation;
            return reason;
        }

        private bool Settle()
        {
            if (_pump is not null) { _pump.RunUntilIdle(_options.MaxStepsPerRound); return true; }
            return Quiescence.HoldAtRest(_machine, _watch);
        }

        private void ResumeTimers()
        {
            _machine.TimerLoop?.Resume();
            _watch.Restart();
        }

        /// <summary>Kernel BUGs and every checker; false (and the violation kept) at the first finding.</summary>
        private bool Checkpoint()
        {
            _checks++;
            var found = _machine.Bugs.Concat(InvariantCheckers.RunAll(_machine)).FirstOrDefault();
            if (found is null) return true;
            _violation = $"{found} (seed {_seed}, after round {_progress.Rounds}, {(_pump is null ? "wall" : "virtual")} time {Now.TotalSeconds:0.###} s)";
            return false;
        }

        private void Sample()
        {
            _roundsSampled = _progress.Rounds;
            var s = _metrics.Sample(_machine, Now, _progress.Rounds, _progress.Syscalls);
            _peakWorkingSet = Math.Max(_peakWorkingSet, Environment.WorkingSet);
            var free = string.Join(",", _machine.Nodes.Select(n => n.Memory.FreePages));
            var events = s["pgfault"] + s["migrated"];
            _options.Progress?.Invoke(
                $"soak interval={s.Interval} time={Now.TotalSeconds:0.###}s wall={_wall.Elapsed.TotalSeconds:0.#}s rounds={_progress.Rounds} " +
                $"faults+migrated={events} pswpin={s["pswpin"]} pswpout={s["pswpout"]} pgscan_kswapd={s["pgscan_kswapd"]} " +
                $"free={free} swap_used={s["swap_used"]} checks={_checks} violations={(_violation is null ? 0 : 1)}");
        }

        private SoakResult Result(string reason)
        {
            // A last row for the rounds since the last one, unless a concurrent machine stalled: it is not at rest,
            // and reading it would race its actors.
            var atRest = _pump is not null || reason != "stalled";
            if (atRest && _progress.Rounds != _roundsSampled) Sample();
            var vmstat = KernelStats.Vmstat(_machine);
            return new SoakResult
            {
                Seed = _seed,
                Mode = _mode.ToString().ToLowerInvariant(),
                Profile = _machine.Profile.Name,
                Source = _soak.Source,
                StopReason = reason,
                Violation = _violation,
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
                DerivedParameters = DerivedParameters(_soak, _options with { Seed = _seed, Mode = _mode }),
                MetricsRows = _metrics.Rows,
                PeakWorkingSetBytes = _peakWorkingSet,
            };
        }

        public void Dispose()
        {
            _metrics.Dispose();
            _machine.TimerLoop?.Dispose();
        }
    }
}

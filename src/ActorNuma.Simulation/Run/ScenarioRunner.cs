using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Run;

/// <summary>How to run a scenario, over what its file says.</summary>
public sealed record RunOptions
{
    public int? Seed { get; init; }
    public RunMode? Mode { get; init; }
    /// <summary>Run the checkers at every quiescent point between steps (else only at the end).</summary>
    public bool CheckEveryStep { get; init; } = true;
    /// <summary>Bound on scheduler steps in deterministic mode.</summary>
    public long MaxSteps { get; init; } = 2_000_000_000;
    /// <summary>Concurrent mode's liveness: a run whose kernel actors handle no message for this long, while a step is
    /// outstanding or the machine is not at rest and no device completion or kernel timer is pending, is reported as
    /// stalled (<see cref="ProgressWatch"/>). There is no bound on a run that keeps making progress.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Overrides the scenario's kernel settings (used by benchmarks: batch sizes).</summary>
    public Func<KernelSettings, KernelSettings>? Tune { get; init; }
    /// <summary>How many trace events the report keeps in memory (all are hashed).</summary>
    public int TraceKeep { get; init; } = 100_000;
    /// <summary>Initial capacity of the trace's hash buffers (small for the short machines of an exploration).</summary>
    public int TraceBufferChars { get; init; } = KernelTrace.DefaultBufferChars;
    /// <summary>Runs at the end, while the machine is still up (used by the memory benchmark).</summary>
    public Action<KernelMachine>? AtEnd { get; init; }
    /// <summary>Bytes the machine may need (<see cref="MemoryEstimate"/>); null: <see cref="MemoryEstimate.DefaultLimit"/>.</summary>
    public long? MaxMemory { get; init; }
    /// <summary>Deterministic mode: chooses the next mailbox instead of the uniform choice from the seed (explore's
    /// strategies; a strategy object serves one run).</summary>
    public IScheduleStrategy? Strategy { get; init; }
}

/// <summary>Boots a machine from a scenario, plays the timeline, checks the invariants at every quiescent point, and
/// returns the report. One ActorSystem per run: a run is cheap to reset because nothing outlives it.</summary>
public static class ScenarioRunner
{
    public static KernelSettings Settings(MachineConfig m) => new()
    {
        Topology = m.Topology,
        Profile = m.Profile,
        SwapSlots = m.Swap.Slots,
        SwapWriteLatency = m.Swap.WriteLatency,
        MigrateCopyLatency = m.Swap.CopyLatency,
        SwapReadLatency = m.Swap.ReadLatency,
        SwapQueueDepth = m.Swap.QueueDepth,
        PageCluster = m.Swap.PageCluster,
        KswapdEnabled = m.Kswapd.Enabled,
        Swappiness = m.Kswapd.Swappiness,
        MinFreeKbytes = m.Kswapd.MinFreeKbytes,
    };

    /// <summary>The seed and every parameter derived from the scenario, one greppable key=value line each: the seed line
    /// first, then the kernel profile, topology, watermarks and swap.</summary>
    public static IReadOnlyList<string> DerivedParameters(LoadedScenario scenario, RunOptions options)
    {
        var m = scenario.Machine;
        var s = Tune(Settings(m), options);
        var t = s.Topology;
        var wm = s.WatermarksOf(0);
        var zonelists = Zonelists.BuildAll(t);
        return
        [
            $"seed={options.Seed ?? m.Run.Seed} mode={(options.Mode ?? m.Run.Mode).ToString().ToLowerInvariant()} scenario={scenario.Scenario.Name} source={scenario.Source}",
            $"profile={s.Profile.Name} isolate_drain={KernelProfileConfig.DrainName(s.Profile.IsolateDrain)} " +
            $"isolate_list_order={s.Profile.IsolateListOrder.ToString().ToLowerInvariant()} " +
            $"migrate_pages_syscall={On(s.Profile.MigratePagesSyscall)} drain_all_before_walk={On(s.Profile.DrainAllBeforeWalk)} " +
            $"putback_drops_reference={On(s.Profile.PutbackDropsReference)} putback_through_pagevec={On(s.Profile.PutbackThroughPagevec)} " +
            $"valid_mbind_flags={KernelProfileConfig.MbindFlagNames(s.Profile.ValidMbindFlags)} move_shared_pages={On(s.Profile.MoveSharedPages)} " +
            $"enodev_without_swap={On(s.Profile.EnodevWithoutSwap)} warn_on_isolate_failure={On(s.Profile.WarnOnIsolateFailure)}",
            $"nodes={t.Nodes} cpus={t.Cpus} cpus_per_node={t.CpusPerNode} pages_per_node={t.PagesPerNode} " +
            $"distances={string.Join(";", t.Distances.Select(r => string.Join(",", r)))}",
            $"min_free_kbytes={s.EffectiveMinFreeKbytes} pages_min={wm.PagesMin} pages_low={wm.PagesLow} pages_high={wm.PagesHigh} " +
            $"zonelists={string.Join(" ", zonelists.Select((z, i) => $"{i}:[{string.Join(",", z)}]"))}",
            $"swap_slots={s.SwapSlots} write_latency={s.SwapWriteLatency.TotalMicroseconds}us read_latency={s.SwapReadLatency.TotalMicroseconds}us queue_depth={s.SwapQueueDepth} " +
            $"page_cluster={s.EffectivePageCluster} kswapd={On(s.KswapdEnabled)} swappiness={s.Swappiness} pagevec_size={Pagevec.PagevecSize} fault_batch={s.FaultBatch} migrate_batch={s.MigrateBatch}",
        ];
    }

    private static string On(bool b) => b ? "on" : "off";

    private static KernelSettings Tune(KernelSettings s, RunOptions o) => o.Tune?.Invoke(s) ?? s;

    /// <exception cref="ScenarioException">The machine needs more memory than <see cref="RunOptions.MaxMemory"/>.</exception>
    public static RunReport Run(LoadedScenario scenario, RunOptions? options = null)
    {
        options ??= new RunOptions();
        MemoryEstimate.CheckFits(scenario, options.MaxMemory ?? MemoryEstimate.DefaultLimit);
        var m = scenario.Machine;
        var seed = options.Seed ?? m.Run.Seed;
        var mode = options.Mode ?? m.Run.Mode;
        var settings = Tune(Settings(m), options);
        var system = CreateSystem(mode, seed, m.LogLevel);
        Execution? run = null;
        try
        {
            run = new Execution(system, mode, seed, settings, scenario, options);
            return run.Play();
        }
        finally
        {
            if (mode == RunMode.Deterministic) DeterministicPump.Terminate(system);
            else system.Terminate().Wait(TimeSpan.FromSeconds(10));
            run?.Machine.TimerLoop?.Dispose();
        }
    }

    /// <summary>The actor system a run plays in (an explore worker keeps one for many schedules).</summary>
    internal static ActorSystem CreateSystem(RunMode mode, int seed, string logLevel)
    {
        var config = (mode == RunMode.Deterministic ? DeterministicConfig.Create(seed) : DeterministicConfig.Concurrent())
            .WithFallback(Logging.AkkaConfig(logLevel))
            // The kernel root is a top-level actor: if it ever fails, stop the machine (the run then reports it) rather
            // than let the /user guardian restart it, which would reboot the machine under its tasks.
            .WithFallback(ConfigurationFactory.ParseString("akka.actor.guardian-supervisor-strategy = \"Akka.Actor.StoppingSupervisorStrategy\""));
        Logging.EnsureSerilog();
        return ActorSystem.Create("actornuma", config);
    }

    /// <summary>One run in progress.</summary>
    internal sealed class Execution
    {
        private readonly ActorSystem _system;
        private readonly RunMode _mode;
        private readonly int _seed;
        private readonly LoadedScenario _scenario;
        private readonly RunOptions _options;
        private readonly DeterministicPump? _pump;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly KernelMachine _machine;
        private readonly RunProgress _progress = new();
        private readonly List<string> _violations = new();
        private readonly ProgressWatch _watch;
        private bool _stalled;
        private long _checks;

        private readonly Func<Props, string, IActorRef> _spawn;

        /// <param name="spawn">Creates the top-level actors (kernel, driver) and returns them started; by default as
        /// children of the /user guardian (an explore worker has a parent of its own for them).</param>
        public Execution(ActorSystem system, RunMode mode, int seed, KernelSettings settings, LoadedScenario scenario,
            RunOptions options, Func<Props, string, IActorRef>? spawn = null)
        {
            _spawn = spawn ?? ((props, name) =>
            {
                var actor = system.ActorOf(props, name);
                DeterministicPump.AwaitStarted(actor);
                return actor;
            });
            _system = system;
            _mode = mode;
            _seed = seed;
            _scenario = scenario;
            _options = options;
            _pump = mode == RunMode.Deterministic ? DeterministicPump.For(system) : null;
            if (_pump is not null && options.Strategy is { } strategy) _pump.StartSchedule(seed, strategy);
            var trace = new KernelTrace(_pump is not null ? () => _pump.Scheduler.Elapsed : () => _clock.Elapsed, options.TraceKeep, options.TraceBufferChars);
            trace.Log = Logging.TraceSink(scenario.Machine.LogLevel);
            _machine = new KernelMachine(settings, trace);
            // Concurrent mode: kernel timers (device completions above all) fire on the wall clock at their due time,
            // not at Akka's next scheduler tick; deterministic mode keeps them on virtual time.
            if (_pump is null) _machine.StartTimerLoop();
            _watch = new ProgressWatch(_machine.Activity, options.StallTimeout, () => _clock.Elapsed, _machine.TimerLoop);
        }

        public KernelMachine Machine => _machine;

        public RunReport Play()
        {
            PlayTimeline();
            return BuildReport();
        }

        /// <summary>The kernel root and the driver, once <see cref="PlayTimeline"/> has started them.</summary>
        public IReadOnlyList<IActorRef> TopLevelActors { get; private set; } = [];

        public IReadOnlyList<StepResult> Results => _progress.Results;
        public long SchedulerSteps => _pump?.Steps ?? 0;

        /// <summary>Boots the machine, plays every step and runs the final checkpoint; the machine stays up.</summary>
        public void PlayTimeline()
        {
            var root = _spawn(KernelRootActor.Props(_machine), "kernel");
            TopLevelActors = [root];
            Settle();
            ResumeTimers();
            var driver = _spawn(ScenarioDriverActor.Props(_machine, _scenario.Scenario, _progress), "driver");
            TopLevelActors = [root, driver];
            driver.Tell(new ScenarioDriverActor.Start());
            WithinBudget(() =>
            {
                if (_pump is not null) PlayDeterministic(driver);
                else PlayConcurrent(driver);
                if (Settle()) Checkpoint(final: true);
            });
            _options.AtEnd?.Invoke(_machine);
        }

        /// <summary>Every checker finding, kernel BUG and fatal driver error of the run, as the report lists them.</summary>
        public IReadOnlyList<string> FinalViolations()
        {
            CollectBugs();
            if (_progress.Fatal is { } fatal && !_violations.Contains(fatal)) _violations.Add(fatal);
            return _violations;
        }

        /// <summary>Set once the deterministic pump spent <see cref="RunOptions.MaxSteps"/> with work left: the machine
        /// is still busy, so it is neither settled, checked nor asked for numa_maps again.</summary>
        private bool _exhausted;

        /// <summary>Runs <paramref name="part"/> unless the step budget is spent; spending it is a liveness violation
        /// (exit 3) that ends the run with the report so far, rather than an exception out of the runner.</summary>
        private void WithinBudget(Action part)
        {
            if (_exhausted) return;
            try
            {
                part();
            }
            catch (StepBudgetExhaustedException e)
            {
                _exhausted = true;
                _violations.Add($"liveness: {e.Message} (step {_progress.CurrentStep})");
            }
        }

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
                    if (_options.CheckEveryStep) Checkpoint(final: false);
                    _progress.CheckpointServed();
                    driver.Tell(new ScenarioDriverActor.CheckpointDone());
                    continue;
                }
                return;
            }
        }

        /// <summary>Serves checkpoints until the driver finishes, or until the machine stops making progress while a step
        /// is outstanding (no kernel message for the stall window, no I/O or timer pending).</summary>
        private void PlayConcurrent(IActorRef driver)
        {
            while (!_progress.Done)
            {
                _progress.Signal.WaitOne(TimeSpan.FromMilliseconds(100));
                if (_progress.CheckpointRequested)
                {
                    if (!Settle()) return;
                    if (_options.CheckEveryStep) Checkpoint(final: false);
                    ResumeTimers();
                    _progress.CheckpointServed();
                    driver.Tell(new ScenarioDriverActor.CheckpointDone());
                }
                else if (!_progress.Done && _watch.Stalled())
                {
                    Stalled();
                    return;
                }
            }
        }

        private void Stalled()
        {
            _stalled = true;
            var busy = _machine.Tasks.Where(t => t.Busy is not null).Select(t => $"task {t.Pid} in {t.Busy} waiting for {t.PendingReplies} replies");
            var why = _pump is not null
                ? "nothing runnable, no timer due"
                : $"no kernel message for {_watch.Window.TotalSeconds:0.###} s, no I/O or timer pending";
            _violations.Add($"liveness: the run stalled at step {_progress.CurrentStep}: {why}, " +
                            $"steps still outstanding (seed {_seed}; {string.Join("; ", busy)})");
        }

        /// <summary>Lets every message in flight land: the deterministic pump runs until idle (without moving time);
        /// the concurrent machine's timers are held (<see cref="KernelTimerLoop.Pause"/>: I/O stays in flight, as on
        /// the pump) and it is polled until it is at rest (<see cref="Quiescence"/>), for as long as it makes progress.
        /// False when a concurrent machine stalls before it comes to rest: that is a liveness violation, and its state
        /// must not be checked. Timers stay held until <see cref="ResumeTimers"/>.</summary>
        private bool Settle()
        {
            if (_pump is not null) { _pump.RunUntilIdle(_options.MaxSteps); return true; }
            if (_stalled) return false;
            if (Quiescence.HoldAtRest(_machine, _watch)) return true;
            _stalled = true;
            _violations.Add($"liveness: the machine stalled before coming to rest: no kernel message for " +
                            $"{_watch.Window.TotalSeconds:0.###} s, no I/O or timer pending (step {_progress.CurrentStep}, " +
                            $"seed {_seed}); its invariants were not checked");
            return false;
        }

        /// <summary>After a concurrent checkpoint: held timers fire, late by as long as the checkers took; the stall
        /// window starts again.</summary>
        private void ResumeTimers()
        {
            _machine.TimerLoop?.Resume();
            _watch.Restart();
        }

        /// <summary>Kernel BUGs become violations (once each), whether or not the machine could be checked.</summary>
        private void CollectBugs()
        {
            foreach (var bug in _machine.Bugs)
                if (!_violations.Any(x => x.StartsWith(bug, StringComparison.Ordinal)))
                    _violations.Add($"{bug} (seed {_seed}, step {_progress.CurrentStep})");
        }

        private void Checkpoint(bool final)
        {
            _checks++;
            CollectBugs();
            foreach (var v in InvariantCheckers.RunAll(_machine))
            {
                var message = $"{v} (seed {_seed}, {(final ? "end of run" : $"after step {_progress.CurrentStep}")})";
                if (!_violations.Any(x => x.StartsWith(v, StringComparison.Ordinal))) _violations.Add(message);
            }
        }

        /// <summary>numa_maps of every live task, asked of all tasks at once. A task that crashed never answers: the
        /// deterministic pump finds nothing left to run and its map is left out at once; a concurrent run gives all
        /// tasks together one <see cref="NumaMapsTimeout"/>, not one each.</summary>
        private SortedDictionary<string, IReadOnlyList<string>> CollectNumaMaps()
        {
            var asks = new List<(string Name, Task<NumaTask.NumaMapsReport> Ask)>();
            foreach (var task in _machine.Tasks.Where(t => !t.Exited))
                if (_machine.Directory.Task(task.Pid) is { } r)
                    asks.Add((task.Name, r.Ask<NumaTask.NumaMapsReport>(new NumaTask.GetNumaMaps())));
            if (_pump is not null) _pump.RunUntil(() => asks.All(a => a.Ask.IsCompleted), _options.MaxSteps);
            else Task.WaitAll(asks.Select(a => (Task)a.Ask).ToArray(), NumaMapsTimeout);
            var maps = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var (name, ask) in asks)
                if (ask.IsCompletedSuccessfully) maps[name] = ask.Result.Lines;
            return maps;
        }

        private static readonly TimeSpan NumaMapsTimeout = TimeSpan.FromSeconds(30);

        private RunReport BuildReport()
        {
            var maps = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            WithinBudget(() => maps = CollectNumaMaps());
            WithinBudget(() => Settle());
            FinalViolations();
            return new RunReport
            {
                Scenario = _scenario.Scenario.Name,
                Source = _scenario.Source,
                Seed = _seed,
                Mode = _mode.ToString().ToLowerInvariant(),
                Profile = _machine.Profile.Name,
                Steps = _progress.Results,
                Vmstat = KernelStats.Vmstat(_machine),
                Numastat = KernelStats.Numastat(_machine),
                NodeVmstat = KernelStats.PerNode(_machine),
                NumaMaps = maps,
                Checks = _checks,
                Violations = _violations,
                Warnings = _machine.Trace.Warnings(),
                TraceEvents = _machine.Trace.Events,
                TraceSha256 = _machine.Trace.Sha256(),
                Trace = _machine.Trace.Snapshot(),
                SchedulerSteps = _pump?.Steps ?? 0,
                VirtualTime = _pump?.Scheduler.Elapsed ?? _clock.Elapsed,
                DerivedParameters = DerivedParameters(_scenario, _options with { Seed = _seed, Mode = _mode }),
            };
        }
    }
}

using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using ActorNuma.Kernel;
using ActorNuma.Simulation.Checkers;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Run;

/// <summary>Boots a machine from a scenario, plays the timeline, checks the invariants at every quiescent point, and
/// returns the report. One ActorSystem per run: a run is cheap to reset because nothing outlives it.</summary>
public static partial class ScenarioRunner
{
    /// <exception cref="ScenarioException">The machine needs more memory than <see cref="RunOptions.MaxMemory"/>.</exception>
    public static RunReport Run(LoadedScenario scenario, RunOptions? options = null)
    {
        options ??= new RunOptions();
        using var outside = OutsideActors.Enter();
        MemoryEstimate.CheckFits(scenario, options.MaxMemory ?? MemoryEstimate.DefaultLimit);
        var m = scenario.Machine;
        var seed = options.Seed ?? m.Run.Seed;
        var mode = options.Mode ?? m.Run.Mode;
        var settings = Tune(Settings(m), options);
        var system = CreateSystem(mode, seed, m.LogLevel, options.Deliveries is null ? null : Explore.DeliveryLog.MailboxConfig, options.Logger);
        options.Deliveries?.Attach(system);
        Execution? run = null;
        try
        {
            run = new Execution(system, mode, seed, settings, scenario, options);
            return run.Play();
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

            run?.Machine.TimerLoop?.Dispose();
        }
    }

    /// <summary>The actor system a run plays in (an explore worker keeps one for many schedules).</summary>
    /// <param name="over">Config layered over the mode's (replay's tracing mailbox).</param>
    internal static ActorSystem CreateSystem(RunMode mode, int seed, string logLevel, Config? over = null, Serilog.ILogger? logger = null)
    {
        var modeConfig = mode == RunMode.Deterministic ? DeterministicConfig.Create(seed) : DeterministicConfig.Concurrent();
        var config = (over is null ? modeConfig : over.WithFallback(modeConfig))
            // The kernel root is a top-level actor: if it ever fails, stop the machine (the run then reports it) rather
            // than let the /user guardian restart it, which would reboot the machine under its tasks.
            .WithFallback(ConfigurationFactory.ParseString("akka.actor.guardian-supervisor-strategy = \"Akka.Actor.StoppingSupervisorStrategy\""));
        return Logging.CreateSystem("actornuma", config, logLevel, logger);
    }

    /// <summary>One run in progress.</summary>
    internal sealed partial class Execution
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
            if (_pump is not null)
            {
                _pump.StepCost = scenario.Machine.Run.StepCost;
            }

            if (_pump is not null && options.Strategy is { } strategy)
            {
                _pump.StartSchedule(seed, strategy);
            }

            var trace = new KernelTrace(_pump is not null ? () => _pump.Scheduler.Elapsed : () => _clock.Elapsed, options.TraceKeep, options.TraceBufferChars);
            if (_pump is not null)
            {
                options.Deliveries?.Bind(_pump, trace);
            }

            trace.Log = Logging.TraceSink(Logging.Of(system), scenario.Machine.LogLevel);
            _machine = new KernelMachine(settings, trace) { Allocation = options.Allocation };
            // Concurrent mode: kernel timers (device completions above all) fire on the wall clock at their due time,
            // not at Akka's next scheduler tick; deterministic mode keeps them on virtual time.
            if (_pump is null)
            {
                _machine.StartTimerLoop();
            }

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
            driver.Tell(new ScenarioDriverActor.Start(), ActorRefs.NoSender);
            WithinBudget(() =>
            {
                if (_pump is not null)
                {
                    PlayDeterministic(driver);
                }
                else
                {
                    PlayConcurrent(driver);
                }

                if (Settle())
                {
                    Checkpoint(final: true);
                }
            });
            _options.AtEnd?.Invoke(_machine);
        }

        /// <summary>Every checker finding, kernel BUG and fatal driver error of the run, as the report lists them.</summary>
        public IReadOnlyList<string> FinalViolations()
        {
            CollectBugs();
            if (_progress.Fatal is { } fatal && !_violations.Contains(fatal))
            {
                _violations.Add(fatal);
            }

            return _violations;
        }

        /// <summary>Set once the deterministic pump spent <see cref="RunOptions.MaxSteps"/> with work left: the machine
        /// is still busy, so it is neither settled, checked nor asked for numa_maps again.</summary>
        private bool _exhausted;

        /// <summary>Runs <paramref name="part"/> unless the step budget is spent; spending it is a liveness violation
        /// (exit 3) that ends the run with the report so far, rather than an exception out of the runner.</summary>
        private void WithinBudget(Action part)
        {
            if (_exhausted)
            {
                return;
            }

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
            if (_stalled)
            {
                return false;
            }

            if (Quiescence.HoldAtRest(_machine, _watch))
            {
                return true;
            }

            _stalled = true;
            _violations.Add($"liveness: the machine stalled before coming to rest: no kernel message for " +
                            $"{_watch.Window.TotalSeconds:0.###} s, no I/O or timer pending (step {_progress.CurrentStep}, " +
                            $"seed {_seed}); its invariants were not checked");
            return false;
        }

        /// <summary>Kernel BUGs become violations (once each), whether or not the machine could be checked.</summary>
        private void CollectBugs()
        {
            foreach (var bug in _machine.Bugs)
            {
                if (!_violations.Any(x => x.StartsWith(bug, StringComparison.Ordinal)))
                {
                    _violations.Add($"{bug} (seed {_seed}, step {_progress.CurrentStep})");
                }
            }
        }

        private void Checkpoint(bool final)
        {
            _checks++;
            CollectBugs();
            foreach (var v in InvariantCheckers.RunAll(_machine))
            {
                var message = $"{v} (seed {_seed}, {(final ? "end of run" : $"after step {_progress.CurrentStep}")})";
                if (!_violations.Any(x => x.StartsWith(v, StringComparison.Ordinal)))
                {
                    _violations.Add(message);
                }
            }
        }
    }
}

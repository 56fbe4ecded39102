using Akka.Actor;
using ActorNuma.Kernel;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Explore;

/// <summary>
/// Runs one scenario under schedule after schedule in one deterministic actor system. Creating and terminating an
/// actor system costs several milliseconds (Akka parses its reference config again on every create), far more than a
/// race scenario's few thousand messages; so the worker keeps its system, and per schedule only reseeds the executor,
/// resets the virtual clock and boots a fresh machine, which it stops again afterwards.
/// </summary>
/// <remarks>
/// The machine is rebuilt rather than reset in place: its state lives in the kernel actors, and resetting them would
/// need a reset message in every kernel protocol. Booting one costs a few actor creations and the frame arrays.
/// Reuse is invisible: between schedules no kernel mailbox is runnable and no timer pending, the top-level actors
/// start with only their own first mailbox run in the ready list, as under the /user guardian of a fresh system
/// (<see cref="TopLevelHost"/>), and nothing in a trace names an actor path. A worker is used from one thread at a time.
/// </remarks>
public sealed class ExploreWorker : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly IScheduleStrategy Teardown = new FirstRunnable();

    private readonly LoadedScenario _scenario;
    private readonly RunOptions _options;
    private readonly KernelSettings _settings;
    private ActorSystem _system;
    private DeterministicPump _pump;
    private TopLevelHost _host;

    public ExploreWorker(LoadedScenario scenario)
    {
        _scenario = scenario;
        // Explore keeps no trace events in memory (they are all hashed) and runs the checkers after every step.
        _options = new RunOptions { Mode = RunMode.Deterministic, TraceKeep = 0, TraceBufferChars = 4096, CheckEveryStep = true };
        _settings = ScenarioRunner.Settings(scenario.Machine);
        (_system, _pump, _host) = Boot(scenario.Machine.Run.Seed);
    }

    /// <summary>Runs the schedule that <paramref name="strategy"/> chooses, named by <paramref name="seed"/>.</summary>
    public ScheduleResult Run(int seed, CountingStrategy strategy)
    {
        using var outside = OutsideActors.Enter();
        var options = _options with { Seed = seed, Strategy = strategy };
        var run = new ScenarioRunner.Execution(_system, RunMode.Deterministic, seed, _settings, _scenario, options, _host.Spawn);
        try
        {
            run.PlayTimeline();
            var violations = run.FinalViolations();
            var steps = run.Results;
            var facts = new ScheduleFacts(steps, violations, run.Machine.Trace.Warnings().Count,
                ScheduleOutcome.Describe(steps, run.Machine, violations));
            var properties = _scenario.Scenario.Properties;
            var failures = steps.Where(s => !s.Ok).Select(s => $"step {s.Index} ({s.Op}): {s.Message}")
                .Concat(violations).Concat(PropertyCheck.Failures(properties, facts)).ToArray();
            return new ScheduleResult(seed, facts.Outcome, run.Machine.Trace.Sha256(), failures, run.SchedulerSteps,
                strategy.Deviations, PropertyCheck.Sometimes(properties, facts));
        }
        finally
        {
            StopMachine(run);
        }
    }

    /// <summary>Stops the schedule's machine; a system that cannot be brought back to idle is replaced, so that the
    /// next schedule still starts from a clean one.</summary>
    private void StopMachine(ScenarioRunner.Execution run)
    {
        try
        {
            // The machine's shutdown is not part of the schedule: it runs under a strategy of its own, so that the
            // schedule's strategy (a bounded search records every choice) sees only the scenario's steps.
            _pump.StartSchedule(0, Teardown);
            _pump.StopAndDrain(run.TopLevelActors, StopTimeout);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException)
        {
            DeterministicPump.Terminate(_system);
            (_system, _pump, _host) = Boot(_scenario.Machine.Run.Seed);
        }
    }

    /// <summary>Akka's log at ERROR: a kernel WARN_ON that fires in most schedules would otherwise be thousands of log
    /// lines a second through the logger actor; every warning is still in the trace and so in the hash.</summary>
    private (ActorSystem, DeterministicPump, TopLevelHost) Boot(int seed)
    {
        var system = ScenarioRunner.CreateSystem(RunMode.Deterministic, seed, "ERROR");
        return (system, DeterministicPump.For(system), new TopLevelHost(system));
    }

    public void Dispose() => DeterministicPump.Terminate(_system);

    /// <summary>Runs the oldest runnable mailbox: a stateless choice for the shutdown between schedules.</summary>
    private sealed class FirstRunnable : IScheduleStrategy
    {
        public int Choose(IReadOnlyList<Akka.Dispatch.IRunnable> runnable, long step) => 0;
    }
}

using Akka.Actor;
using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Run;

/// <summary>Building a run's full report: numa_maps asked of every live task, the counters, the trace and its hash.
/// Explore keeps only a lean result per schedule and builds this on replay.</summary>
public static partial class ScenarioRunner
{
    internal sealed partial class Execution
    {
        /// <summary>numa_maps of every live task, asked of all tasks at once. A task that crashed never answers: the
        /// deterministic pump finds nothing left to run and its map is left out at once; a concurrent run gives all
        /// tasks together one <see cref="NumaMapsTimeout"/>, not one each.</summary>
        private SortedDictionary<string, IReadOnlyList<string>> CollectNumaMaps()
        {
            var asks = new List<(string Name, Task<NumaTask.NumaMapsReport> Ask)>();
            foreach (var task in _machine.Tasks.Where(t => !t.Exited))
            {
                if (_machine.Directory.Task(task.Pid) is { } r)
                {
                    asks.Add((task.Name, r.Ask<NumaTask.NumaMapsReport>(new NumaTask.GetNumaMaps())));
                }
            }

            if (_pump is not null)
            {
                _pump.RunUntil(() => asks.All(a => a.Ask.IsCompleted), _options.MaxSteps);
            }
            else
            {
                Task.WaitAll(asks.Select(a => (Task)a.Ask).ToArray(), NumaMapsTimeout);
            }

            var maps = new SortedDictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var (name, ask) in asks)
            {
                if (ask.IsCompletedSuccessfully)
                {
                    maps[name] = ask.Result.Lines;
                }
            }

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
                RetiredFrames = KernelStats.RetiredFrames(_machine),
                OfflineNodes = KernelStats.OfflineNodes(_machine),
            };
        }
    }
}

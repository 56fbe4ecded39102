namespace ActorNuma.Simulation.Soak;

/// <summary>What a soak reports when it stops on a finding: a stall, a livelock or a checker's violation, with the dump
/// of the state involved.</summary>
public static partial class SoakRunner
{
    private sealed partial class Session
    {
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
    }
}

namespace ActorNuma.Simulation.Explore;

/// <summary>
/// What one schedule of an exploration tells, and nothing more: the outcome it reached, its trace hash, and why it
/// failed if it did. The full report is built only when a schedule is replayed.
/// </summary>
/// <param name="Seed">The seed that replays the schedule under the same strategy.</param>
/// <param name="Outcome">The schedule's answer to the experiment (<see cref="ScheduleOutcome"/>).</param>
/// <param name="TraceSha256">The hash a replay's report shows as <c>trace.sha256</c>.</param>
/// <param name="Failures">Failed expectations, checker violations, kernel BUGs and failed properties, one line each.</param>
/// <param name="SchedulerSteps">Mailbox runs of the schedule (the length PCT's bound is stated in).</param>
/// <param name="Deviations">How often the schedule departed from the default schedule (<see cref="CountingStrategy"/>).</param>
/// <param name="SometimesHeld">For each of the scenario's <c>sometimes</c> properties, whether it held here.</param>
public sealed record ScheduleResult(
    int Seed, string Outcome, string TraceSha256, IReadOnlyList<string> Failures, long SchedulerSteps, int Deviations,
    IReadOnlyList<bool> SometimesHeld)
{
    public bool Failed => Failures.Count > 0;
}

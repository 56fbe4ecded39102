using ActorNuma.Mm;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Explore;

/// <summary>What a finished schedule is judged on: its step results, its checker findings (and kernel BUGs), how many
/// kernel warnings fired, and its outcome line.</summary>
public sealed record ScheduleFacts(IReadOnlyList<StepResult> Steps, IReadOnlyList<string> Violations, int Warnings, string Outcome);

/// <summary>Evaluates a scenario's <see cref="ScenarioProperties"/> on one schedule.</summary>
public static class PropertyCheck
{
    /// <summary>One line per <c>always</c> property that does not hold, and one if the outcome is not among the
    /// allowed <c>outcomes</c> (when the scenario lists any).</summary>
    public static IEnumerable<string> Failures(ScenarioProperties properties, ScheduleFacts facts)
    {
        foreach (var p in properties.Always)
        {
            if (!Holds(p, facts))
            {
                yield return $"property always \"{p.Text}\" does not hold";
            }
        }

        if (properties.Outcomes.Count > 0 && !properties.Outcomes.Any(o => o.Matches(facts.Outcome)))
        {
            yield return $"outcome not allowed by the scenario's outcomes: {facts.Outcome}";
        }
    }

    /// <summary>For each <c>sometimes</c> property in order, whether it holds in this schedule.</summary>
    public static bool[] Sometimes(ScenarioProperties properties, ScheduleFacts facts) =>
        properties.Sometimes.Select(p => Holds(p, facts)).ToArray();

    public static bool Holds(PropertySpec p, ScheduleFacts facts)
    {
        var step = p.Step >= 0 ? facts.Steps.FirstOrDefault(s => s.Index == p.Step) : null;
        return p.Kind switch
        {
            PropertyKind.NoCheckerViolation => facts.Violations.Count == 0,
            PropertyKind.NoKernelWarning => facts.Warnings == 0,
            PropertyKind.CheckerFires => facts.Violations.Any(v => ScheduleOutcome.Kind(v) == p.Name),
            PropertyKind.StepOk => step is { Ok: true },
            PropertyKind.StepFailed => step is not { Ok: true },
            PropertyKind.StepErrno => step is not null && (long)(step.Errno ?? Errno.None) == p.Value,
            PropertyKind.StepRet => step?.Ret == p.Value,
            _ => throw new ArgumentOutOfRangeException(nameof(p), p.Kind, "no such property kind"),
        };
    }
}

using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>A deterministic run that spends its scheduler-step budget ends with a liveness violation (exit 3) and the
/// report so far, not an exception out of the runner.</summary>
[Trait("kind", "scenario")]
public sealed class StepBudgetTests
{
    [Fact(Timeout = 60_000)]
    public async Task A_run_over_its_step_budget_is_a_liveness_violation_naming_the_seed()
    {
        var scenario = ScenarioLoader.LoadDefault();

        var report = await Task.Run(() => ScenarioRunner.Run(scenario, new RunOptions { Seed = 4, MaxSteps = 10 }));

        Assert.Equal(3, report.ExitCode);
        var violation = Assert.Single(report.Violations, v => v.StartsWith("liveness: ", StringComparison.Ordinal));
        Assert.Contains("seed 4", violation);
        Assert.Contains("10 steps", violation);
    }
}

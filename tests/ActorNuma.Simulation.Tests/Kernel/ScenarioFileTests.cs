namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>The scenario files themselves: each, in subfolders too, opens with a comment saying what it covers. That each
/// runs clean is <see cref="EveryScenarioTests"/>' (deterministic, at the seed it names and many more) and
/// <c>EveryScenarioConcurrentTests</c>' (concurrent mode).</summary>
[Trait("kind", "scenario")]
public sealed class ScenarioFileTests
{
    [Theory]
    [MemberData(nameof(EveryScenarioTests.Files), MemberType = typeof(EveryScenarioTests))]
    public void Every_scenario_file_opens_with_a_comment_on_what_it_covers(string file)
    {
        var first = File.ReadLines(ScenarioRun.PathOf(file)).FirstOrDefault() ?? "";

        Assert.StartsWith("# ", first);
    }
}

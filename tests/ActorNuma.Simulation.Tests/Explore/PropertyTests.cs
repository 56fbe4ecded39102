using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Tests.Scenarios;

namespace ActorNuma.Simulation.Tests.Explore;

/// <summary>Scenario-level properties and allowed outcomes: how they are written, and how explore judges schedules by
/// them. Assertions are relative to the test race's own exploration, not to pinned seeds.</summary>
[Trait("kind", "race")]
public sealed class PropertyTests
{
    private static string WithProperties(string block) =>
        TestRaces.MoveVsChildWrites.Replace("  steps = [", block + "\n  steps = [", StringComparison.Ordinal);

    private static ExploreSummary Explore(string text) =>
        Explorer.Explore(TestRaces.Load(text), new ExploreOptions { Seeds = Enumerable.Range(1, 200).ToArray(), Workers = 2 });

    [Fact]
    public void Properties_and_outcomes_are_read_in_the_order_written()
    {
        var p = TestRaces.Load(WithProperties("""
            properties { always = [ "no-checker-violation", "step 4 ret 0" ], sometimes = [ "step 4 errno EIO", "checker pte", "step 7 failed" ] }
            outcomes = [ "* | a:sw=4 c:n1=4" ]
            """)).Scenario.Properties;

        Assert.Equal([PropertyKind.NoCheckerViolation, PropertyKind.StepRet], p.Always.Select(a => a.Kind));
        Assert.Equal(0, p.Always[1].Value);
        Assert.Equal([PropertyKind.StepErrno, PropertyKind.CheckerFires, PropertyKind.StepFailed], p.Sometimes.Select(a => a.Kind));
        Assert.Equal(5, p.Sometimes[0].Value);
        Assert.Equal("pte", p.Sometimes[1].Name);
        Assert.True(p.Outcomes[0].Matches("0=268435456 4=0 | a:sw=4 c:n1=4"));
        Assert.False(p.Outcomes[0].Matches("0=268435456 4=0 | a:sw=4 c:n1=4 | pte"));
    }

    [Theory]
    [InlineData("properties { always = [ \"step 99 ok\" ] }", "scenario.properties.always[0]")]
    [InlineData("properties { always = [ \"step 1 errno EWHAT\" ] }", "scenario.properties.always[0]")]
    [InlineData("properties { sometimes = [ \"eventually\" ] }", "scenario.properties.sometimes[0]")]
    [InlineData("properties { never = [ ] }", "scenario.properties")]
    [InlineData("outcomes = [ { a = 1 } ]", "scenario.outcomes[0]")]
    public void A_bad_property_is_rejected_naming_its_key_path(string block, string path)
    {
        var message = Assert.Throws<ScenarioException>(() => TestRaces.Load(WithProperties(block))).Message;

        Assert.Contains(path, message);
    }

    [Fact]
    public void An_always_property_fails_exactly_the_schedules_in_which_it_does_not_hold()
    {
        var plain = Explore(TestRaces.MoveVsChildWrites);
        var judged = Explore(WithProperties("properties { always = [ \"step 8 ok\" ] }"));

        Assert.NotEmpty(plain.Failing);
        Assert.Equal(plain.Failing.Select(r => r.Seed), judged.Failing.Select(r => r.Seed));
        Assert.All(judged.Failing, r => Assert.Contains("property always \"step 8 ok\" does not hold", r.Failures));
    }

    [Fact]
    public void Outcomes_outside_the_allowed_list_fail_and_the_allowed_one_passes()
    {
        var plain = Explore(TestRaces.MoveVsChildWrites);
        var common = plain.Outcomes[0];
        var judged = Explore(WithProperties($"outcomes = [ \"{common.Outcome}\" ]"));

        Assert.Equal(plain.Results.Count - common.Count, judged.Failing.Count);
        Assert.All(judged.Failing, r => Assert.NotEqual(common.Outcome, r.Outcome));
    }

    [Fact]
    public void A_sometimes_property_that_held_in_no_schedule_fails_the_exploration_and_one_that_held_does_not()
    {
        var summary = Explore(WithProperties("properties { sometimes = [ \"step 4 errno EIO\", \"step 7 ok\" ] }"));

        Assert.Equal(["step 4 errno EIO"], summary.NeverHeld);
        Assert.True(summary.Failed);
    }
}

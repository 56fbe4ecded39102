namespace ActorNuma.Simulation.Tests.Reclaim;

/// <summary>Every kswapd-*.conf and reclaim-*.conf runs clean (each expectation it states holds, no checker fires)
/// under the seed its own run block names, which for the races is the seed that shows the race.</summary>
[Trait("kind", "scenario")]
public sealed class ReclaimScenarioFileTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        var dir = Path.GetDirectoryName(ReclaimRun.PathOf("kswapd-pressure.conf"))!;
        foreach (var path in Directory.GetFiles(dir, "*.conf").Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith("kswapd-", StringComparison.Ordinal) || name.StartsWith("reclaim-", StringComparison.Ordinal))
            {
                data.Add(name);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_reclaim_scenario_file_runs_clean_under_the_seed_it_names(string file)
    {
        var scenario = ReclaimRun.Load(file);

        scenario.Run(scenario.Machine.Run.Seed).AssertClean();
    }
}

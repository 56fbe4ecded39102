namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>The scenario files themselves: each opens with a comment saying what it covers, and each of this suite's
/// runs clean (every expectation it states holds, no checker fires) under the profile and seed it names.</summary>
[Trait("kind", "scenario")]
public sealed class ScenarioFileTests
{
    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var path in Directory.GetFiles(Path.Combine(ScenarioRun.RepoRoot, "hocon", "scenarios"), "*.conf").Order(StringComparer.Ordinal))
            data.Add(Path.GetFileName(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_scenario_file_opens_with_a_comment_on_what_it_covers(string file)
    {
        var first = File.ReadLines(ScenarioRun.PathOf(file)).FirstOrDefault() ?? "";

        Assert.StartsWith("# ", first);
    }

    /// <summary>The files of this suite (issues 2 and 3). Others' scenarios (kswapd, reclaim) have their own tests, and
    /// one may rightly show a checker firing.</summary>
    public static TheoryData<string> SuiteFiles() =>
    [
        "default.conf",
        "ltp-get-mempolicy01.conf", "ltp-get-mempolicy02.conf", "ltp-mbind01-2.6.14.conf", "ltp-mbind01.conf",
        "ltp-mbind02.conf", "ltp-mbind03.conf", "ltp-mbind04.conf", "ltp-migrate-pages01.conf", "ltp-migrate-pages02.conf",
        "ltp-set-mempolicy01.conf", "ltp-set-mempolicy02.conf",
        "migrate-move-over-a-hole.conf", "migrate-other-cpu-pagevec.conf", "migrate-own-pagevec.conf", "migrate-placement-lost.conf",
        "migrate-shared-pages.conf", "migrate-swap-too-small.conf", "migrate-without-swap.conf",
        "race-mbind-move-vs-shared-touch.conf", "race-two-movers-shared-pages.conf", "race-two-tasks-fault-same-node.conf",
        "swapin-readahead-placement.conf", "zero-page-in-the-walk.conf",
    ];

    [Theory]
    [MemberData(nameof(SuiteFiles))]
    public void Every_scenario_file_of_the_suite_runs_clean_under_the_profile_and_seed_it_names(string file)
    {
        var scenario = ScenarioRun.Load(file);

        var report = scenario.Run(scenario.Machine.Run.Seed);

        report.AssertClean();
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Loads the scenario files of <c>hocon/scenarios/</c> (found from the test binary by walking up to the folder
/// that holds ActorNuma.sln), runs them deterministically under a named seed, optionally under another kernel profile,
/// and reads the report back in the terms the tests assert on.</summary>
internal static partial class ScenarioRun
{
    private static readonly Lazy<string> Root = new(FindRepoRoot);

    /// <summary>The folder holding ActorNuma.sln.</summary>
    public static string RepoRoot => Root.Value;

    public static string PathOf(string file) => Path.Combine(RepoRoot, "hocon", "scenarios", file);

    public static LoadedScenario Load(string file) => ScenarioLoader.LoadFile(PathOf(file));

    /// <summary>The same scenario on the same machine under another kernel profile (one of KernelProfile.All by name, or
    /// <c>2.6.16-swap</c>: 2.6.16 with <c>direct-via-swap-cache = off</c>).</summary>
    public static LoadedScenario UnderProfile(this LoadedScenario scenario, string profile) =>
        scenario with
        {
            Machine = scenario.Machine with
            {
                Profile = MigrationComparison.Profile(profile) ?? throw new ArgumentException($"no kernel profile named {profile}", nameof(profile)),
            },
        };

    /// <summary>Runs in deterministic mode under <paramref name="seed"/>.</summary>
    public static RunReport Run(this LoadedScenario scenario, int seed, Action<KernelMachine>? atEnd = null) =>
        ScenarioRunner.Run(scenario, new RunOptions { Seed = seed, Mode = RunMode.Deterministic, AtEnd = atEnd });

    public static RunReport RunFile(string file, int seed, string? profile = null, Action<KernelMachine>? atEnd = null)
    {
        var scenario = Load(file);
        if (profile is not null)
        {
            scenario = scenario.UnderProfile(profile);
        }

        return scenario.Run(seed, atEnd);
    }

    public static RunReport RunText(string hocon, int seed, string? profile = null, Action<KernelMachine>? atEnd = null)
    {
        var scenario = ScenarioLoader.Parse(hocon, "inline.conf");
        if (profile is not null)
        {
            scenario = scenario.UnderProfile(profile);
        }

        return scenario.Run(seed, atEnd);
    }

    // ---- reading the report ---------------------------------------------------------------------------------------

    public static StepResult Step(this RunReport report, int index) =>
        report.Steps.SingleOrDefault(s => s.Index == index)
        ?? throw new Xunit.Sdk.XunitException($"step {index} has no result\n{Describe(report)}");

    /// <summary>Every expectation the scenario states held and no checker fired.</summary>
    public static void AssertClean(this RunReport report)
    {
        var failed = report.Steps.Where(s => !s.Ok).ToList();
        if (failed.Count == 0 && report.Violations.Count == 0)
        {
            return;
        }

        throw new Xunit.Sdk.XunitException($"the run was not clean\n{Describe(report)}");
    }

    /// <summary>Every expectation the scenario states held (checkers not looked at).</summary>
    public static void AssertExpectationsHeld(this RunReport report)
    {
        if (report.ExpectationsHeld)
        {
            return;
        }

        throw new Xunit.Sdk.XunitException($"an expectation failed\n{Describe(report)}");
    }

    /// <summary>A syscall step returned <paramref name="ret"/> with no errno.</summary>
    public static void AssertReturned(this RunReport report, int index, long ret)
    {
        var s = report.Step(index);
        if (s.Ret == ret && s.Errno is null or Errno.None)
        {
            return;
        }

        throw new Xunit.Sdk.XunitException($"step {index} ({s.Op}) returned {s.Ret} errno {s.Errno}, expected {ret}\n{Describe(report)}");
    }

    /// <summary>A syscall step failed with -1 and <paramref name="errno"/>.</summary>
    public static void AssertFailed(this RunReport report, int index, Errno errno)
    {
        var s = report.Step(index);
        if (s.Ret == -1 && s.Errno == errno)
        {
            return;
        }

        throw new Xunit.Sdk.XunitException($"step {index} ({s.Op}) returned {s.Ret} errno {s.Errno}, expected -1 {errno}\n{Describe(report)}");
    }

    /// <summary>What a syscall step reported beyond ret and errno (every member null when it reported nothing).</summary>
    public static SyscallValue Syscall(this RunReport report, int index) =>
        report.Step(index).Value as SyscallValue ?? new SyscallValue();

    /// <summary>What an expect-pages step saw.</summary>
    public static PageCounts PageCounts(this RunReport report, int index) =>
        report.Step(index).Value as PageCounts
        ?? throw new Xunit.Sdk.XunitException($"step {index} ({report.Step(index).Op}) is not an expect-pages step\n{Describe(report)}");

    /// <summary>What an expect-pages step saw: present pages per node (nodes without pages read 0) and swapped-out pages.</summary>
    public static (long[] PerNode, long Swapped) Pages(this RunReport report, int index, int nodes)
    {
        var counts = report.PageCounts(index);
        var perNode = new long[nodes];
        foreach (var (node, count) in counts.Nodes ?? new Dictionary<string, long>())
        {
            perNode[int.Parse(node, CultureInfo.InvariantCulture)] = count;
        }

        return (perNode, counts.Swapped ?? 0);
    }

    /// <summary>Asserts an expect-pages step saw exactly these per-node counts and this many swapped-out pages.</summary>
    public static void AssertPages(this RunReport report, int index, long[] perNode, long swapped)
    {
        var (got, sw) = report.Pages(index, perNode.Length);
        if (got.SequenceEqual(perNode) && sw == swapped)
        {
            return;
        }

        throw new Xunit.Sdk.XunitException(
            $"step {index}: pages per node [{string.Join(",", got)}] swapped {sw}, expected [{string.Join(",", perNode)}] swapped {swapped}\n{Describe(report)}");
    }

    /// <summary>A field of the migration statistics a MOVE step reported, by its report name (scanned, isolated,
    /// evicted, failed, put_back, ...).</summary>
    public static long Migration(this RunReport report, int index, string field)
    {
        foreach (var (name, value) in report.Syscall(index).Migration?.Fields() ?? [])
        {
            if (name == field)
            {
                return value;
            }
        }

        throw new Xunit.Sdk.XunitException($"step {index} ({report.Step(index).Op}) reported no migration field {field}\n{Describe(report)}");
    }

    /// <summary>The pfns the page-refcount checker named.</summary>
    public static IReadOnlySet<int> RefcountViolationPfns(this RunReport report) =>
        report.Violations.Select(v => RefcountPfn().Match(v)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToHashSet();

    /// <summary>The pfn each present page of <c>[addr, addr + pages)</c> of a task maps, read at the end of the run.</summary>
    public static int[] MappedPfns(KernelMachine machine, string task, ulong addr, int pages)
    {
        var t = machine.Tasks.Single(x => x.Name == task);
        var first = addr >> MmConstants.PageShift;
        return Enumerable.Range(0, pages).Select(k => t.PageTable.Get(first + (ulong)k))
            .Where(p => p.IsPresent).Select(p => p.Pfn).ToArray();
    }

    /// <summary>Steps, violations and warnings, for failure messages.</summary>
    public static string Describe(RunReport report)
    {
        var lines = new List<string> { $"scenario {report.Scenario} profile {report.Profile} seed {report.Seed}" };
        foreach (var s in report.Steps)
        {
            lines.Add($"  [{s.Index}] {s.Task} {s.Op} ret={s.Ret} errno={s.Errno} ok={s.Ok}{(s.Message is null ? "" : " " + s.Message)}" +
                      (s.Value is null ? "" : " " + JsonSerializer.Serialize(s.Value, ReportJsonContext.Default.StepValue)));
        }

        lines.AddRange(report.Violations.Select(v => "  violation: " + v));
        lines.AddRange(report.Warnings.Select(w => $"  warning: {w.Site} pfn {w.Pfn} {w.Message}"));
        return string.Join("\n", lines);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "ActorNuma.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no ActorNuma.sln above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex(@"^page-refcount: pfn (\d+) ")]
    private static partial Regex RefcountPfn();
}

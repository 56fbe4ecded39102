using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Run;

/// <summary>One scenario under one kernel profile, measured for the seed's comparison of swap-based against direct
/// migration: A (time: the run's virtual time with the configured swap and copy latencies, and the swap I/O behind it),
/// B (swap space: the most slots in use at once, and the pages migration left behind), C (placement: present pages of
/// policy-bearing VMAs against what their policy asks, interleave pages against their offset node, pages not resident).</summary>
public sealed record ComparisonRow(
    string Profile, TimeSpan VirtualTime, long Pswpout, long Pswpin, int PeakSwapSlots, long PagesLeftBehind, long Faults,
    long MajorFaults, long PlacedPages, long Misplaced, long InterleavePages, long InterleaveOffNode, long NotResident,
    bool ExpectationsHeld, int Violations)
{
    /// <summary>How the profile moves a page (<see cref="MigrationComparison.FormOf"/>).</summary>
    public string Form { get; init; } = "";
}

public static class MigrationComparison
{
    /// <summary>The profiles compared when none are named: the seed (V2 on 2.6.14-rc4-mm1), 2.6.16 and 2.6.18.</summary>
    public static readonly string[] DefaultProfiles = ["2.6.14-v2", "2.6.16", "2.6.18"];

    /// <summary>A profile by name; <c>2.6.14-v2</c> names V2, the seed, which was posted against 2.6.14-rc4-mm1, and
    /// <c>2.6.16-swap</c> is 2.6.16 with <c>direct-via-swap-cache = off</c> (every page evicted and faulted back).</summary>
    public static KernelProfile? Profile(string name) =>
        string.Equals(name, "2.6.16-swap", StringComparison.OrdinalIgnoreCase)
            ? KernelProfile.Linux2616 with { DirectViaSwapCache = false }
            : KernelProfile.ByName(string.Equals(name, "2.6.14-v2", StringComparison.OrdinalIgnoreCase) ? "v2" : name);

    /// <summary>The migration form of a profile: "swap" (evicted through swap, placed by the fault that brings it back:
    /// V1, V2, 2.6.16 with <c>direct-via-swap-cache = off</c>), "swap-cache copy" (2.6.16: a swap slot each, the page
    /// copied to a new page allocated beforehand, no I/O) or "migration entries" (2.6.18: no swap).</summary>
    public static string FormOf(KernelProfile profile) =>
        profile.DirectMigration ? "migration entries" : profile.DirectViaSwapCache ? "swap-cache copy" : "swap";

    /// <summary>Runs the scenario deterministically under each profile with <paramref name="seed"/>.</summary>
    public static IReadOnlyList<ComparisonRow> Run(LoadedScenario scenario, IReadOnlyList<string> profiles, int seed) =>
        profiles.Select(name => RunOne(scenario, name, seed)).ToList();

    private static ComparisonRow RunOne(LoadedScenario scenario, string name, int seed)
    {
        var profile = Profile(name) ?? throw new ArgumentException($"no kernel profile named {name}", nameof(name));
        var loaded = scenario with { Machine = scenario.Machine with { Profile = profile } };
        Placement placement = default;
        var peak = 0;
        var report = ScenarioRunner.Run(loaded, new RunOptions
        {
            Seed = seed,
            Mode = RunMode.Deterministic,
            AtEnd = machine =>
            {
                placement = Measure(machine);
                peak = machine.Swap?.Map.PeakUsed ?? 0;
            },
        });
        var leftBehind = report.Steps.Sum(s => (long)((s.Value as SyscallValue)?.Migration?.Failed ?? 0));
        return new ComparisonRow(name, report.VirtualTime, report.Vmstat.GetValueOrDefault("pswpout"),
            report.Vmstat.GetValueOrDefault("pswpin"), peak, leftBehind, report.Vmstat.GetValueOrDefault("pgfault"),
            report.Vmstat.GetValueOrDefault("pgmajfault"), placement.Placed, placement.Misplaced, placement.Interleave,
            placement.InterleaveOff, placement.NotResident, report.ExpectationsHeld, report.Violations.Count)
        {
            Form = FormOf(profile),
        };
    }

    private readonly record struct Placement(long Placed, long Misplaced, long Interleave, long InterleaveOff, long NotResident);

    /// <summary>Every page of a VMA whose effective policy (the VMA's, else the task's) is BIND, PREFERRED or INTERLEAVE:
    /// a present page is misplaced when BIND's mask lacks its node, PREFERRED names another node, or INTERLEAVE's
    /// <c>offset_il_node</c> of its page offset is another node (the nodeset-relative position the seed's disadvantage C
    /// is about); a swapped-out page is not resident.</summary>
    private static Placement Measure(KernelMachine machine)
    {
        long placed = 0, misplaced = 0, interleave = 0, off = 0, notResident = 0;
        foreach (var task in machine.Tasks)
        {
            foreach (var vma in task.Vmas.All)
            {
                var policy = vma.Policy ?? task.Policy;
                if (policy is null || policy.Mode == MpolMode.Default)
                {
                    continue;
                }

                foreach (var (vpn, pte) in task.PageTable.Range(vma.Start >> MmConstants.PageShift, vma.End >> MmConstants.PageShift))
                {
                    if (pte.IsSwap) { notResident++; continue; }
                    if (!pte.IsPresent || pte.Pfn == machine.Topology.ZeroPfn)
                    {
                        continue;
                    }

                    var node = machine.Topology.PfnToNid(pte.Pfn);
                    placed++;
                    var ok = policy.Mode switch
                    {
                        MpolMode.Bind => policy.Nodes.Contains(node),
                        MpolMode.Preferred => policy.PreferredNode < 0 || policy.PreferredNode == node,
                        _ => PolicyAllocation.OffsetIlNode(policy, vma.PageIndexOf(vpn << MmConstants.PageShift)) == node,
                    };
                    if (policy.Mode == MpolMode.Interleave)
                    {
                        interleave++;
                        if (!ok)
                        {
                            off++;
                        }
                    }
                    if (!ok)
                    {
                        misplaced++;
                    }
                }
            }
        }

        return new Placement(placed, misplaced, interleave, off, notResident);
    }
}

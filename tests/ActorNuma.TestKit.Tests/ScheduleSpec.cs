using ActorNuma.Mm;
using Xunit.Abstractions;

namespace ActorNuma.TestKit.Tests;

/// <summary>A seed names a schedule: the same seed replays the same run, step for step; other seeds explore others.</summary>
public sealed class ScheduleSpec(ITestOutputHelper output) : KernelTestKit(output)
{
    private static readonly PageRange Range = PageRange.At(0x10000000, 16);

    /// <summary>Two tasks race: one touches its pages while the other moves them with migrate_pages.</summary>
    private async Task<(string Hash, long Steps)> Race(KernelSchedule schedule)
    {
        var machine = Boot(m => m.Profile(KernelProfile.Linux2616).FaultBatch(1).Task("app", cpu: 0).Task("numad", cpu: 2, sysNice: true), schedule);
        var (app, numad) = (machine.Task("app"), machine.Task("numad"));
        await Kernel.Mmap(app, Range);
        await Kernel.Touch(app, Range);
        var touch = Kernel.Touch(app, Range, write: false);
        var move = Kernel.MigratePages(numad, app, from: [0], to: [1]);
        (await move).ShouldSucceed("migrate_pages");
        (await touch).ShouldSucceed("touch");
        machine.Settle();
        machine.AssertCheckersClean();
        return (machine.State.Trace.Sha256(), machine.Steps);
    }

    [Fact]
    public async Task The_same_seed_replays_the_same_trace()
    {
        var first = await Race(new KernelSchedule(11));
        var again = await Race(new KernelSchedule(11));
        Assert.Equal(first, again);
    }

    [Fact]
    public async Task Different_seeds_explore_different_interleavings()
    {
        var hashes = new HashSet<string>();
        for (var seed = 1; seed <= 8; seed++)
        {
            hashes.Add((await Race(new KernelSchedule(seed))).Hash);
        }

        Assert.True(hashes.Count > 1, "eight seeds gave one interleaving");
    }

    [Fact]
    public async Task Pct_schedules_replay_too()
    {
        var pct = new KernelSchedule(3, ScheduleStrategy.Pct, PctDepth: 2, PctSteps: 200);
        Assert.Equal(await Race(pct), await Race(pct));
        Assert.Equal("seed 3, strategy pct (depth 2, steps 200)", pct.ToString());
    }

    [KernelTheory, Seeds(4, 6)]
    public void A_kernel_theory_case_boots_under_its_seed(int seed)
    {
        Assert.Equal(new KernelSchedule(seed), KernelSchedule.Current);
        Assert.Equal(seed, Boot().Schedule.Seed);
    }

    [KernelTheory(Strategy = ScheduleStrategy.Pct, PctDepth = 2, PctSteps = 500), Seeds(9)]
    public void A_pct_kernel_theory_carries_its_strategy(int seed) =>
        Assert.Equal(new KernelSchedule(seed, ScheduleStrategy.Pct, 2, 500), Boot().Schedule);

    [Fact]
    public void The_seeds_variable_overrides_the_range()
    {
        Assert.Null(SeedsAttribute.Override(null));
        Assert.Equal([17], SeedsAttribute.Override("17")!);
        Assert.Equal([1, 2, 3, 9], SeedsAttribute.Override("1-3, 9")!);
        var e = Assert.Throws<ArgumentException>(() => SeedsAttribute.Override("1-x"));
        Assert.Equal("ACTORNUMA_SEEDS='1-x': '1-x' is not a seed or a range like 1-50", e.Message);
    }

    [Fact]
    public void Seeds_enumerates_its_range_as_rows()
    {
        var rows = new SeedsAttribute(3, 5).GetData(typeof(ScheduleSpec).GetMethod(nameof(The_seeds_variable_overrides_the_range))!);
        Assert.Equal([3, 4, 5], rows.Select(r => (int)r.Single()));
    }
}

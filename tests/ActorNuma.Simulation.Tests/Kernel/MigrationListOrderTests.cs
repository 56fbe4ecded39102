using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>The order of the migration list decides which pages get swap slots when swap is short: V1/V2
/// isolate_lru_page adds at the head (the highest addresses go first), 2.6.16 migrate_page_add at the tail.</summary>
[Trait("kind", "scenario")]
public sealed class MigrationListOrderTests
{
    private const string File = "migrate-list-order.conf";

    [Theory]
    [InlineData("v2")]
    [InlineData("v2-fixed")]
    public void V2_puts_isolated_pages_at_the_head_so_the_highest_addresses_get_the_slots(string profile)
    {
        var report = ScenarioRun.RunFile(File, seed: 1, profile: profile);

        report.AssertExpectationsHeld();
        report.AssertPages(3, [8, 0], swapped: 0);      // pages 0..7 stay on node 0
        report.AssertPages(4, [0, 0], swapped: 8);      // pages 8..15 went out
    }

    [Fact]
    public void V1_also_leaves_the_two_pages_of_its_own_pagevec_and_gives_the_slots_to_the_next_highest()
    {
        var report = ScenarioRun.RunFile(File, seed: 1, profile: "v1");

        Assert.Equal(2, report.Migration(2, "isolate_fail_pagevec"));
        report.AssertPages(3, [6, 0], swapped: 2);      // 0..5 stay, 6 and 7 went out
        report.AssertPages(4, [2, 0], swapped: 6);      // 8..13 went out, 14 and 15 never left the pagevec
    }

    [Fact]
    public void In_2_6_16_the_list_keeps_address_order_so_the_lowest_addresses_get_the_slots()
    {
        var report = ScenarioRun.RunFile(File, seed: 1, profile: "2.6.16-swap");

        report.AssertPages(3, [0, 0], swapped: 8);
        report.AssertPages(4, [8, 0], swapped: 0);
        Assert.Empty(report.Violations);
    }

    [Theory]
    [InlineData("head", new long[] { 8, 0 }, 0L)]
    [InlineData("tail", new long[] { 0, 0 }, 8L)]
    public void The_switch_isolate_list_order_decides_it_under_any_profile(string order, long[] lowHalf, long lowSwapped)
    {
        var text = System.IO.File.ReadAllText(ScenarioRun.PathOf(File))
            .Replace("kernel { profile = v2-fixed }", $"kernel {{ profile = v2-fixed, isolate-list-order = {order} }}");

        var report = ScenarioRun.RunText(text, seed: 3);

        report.AssertPages(3, lowHalf, lowSwapped);
        Assert.Equal(8, report.Migration(2, "evicted"));
    }

    [Fact]
    public void The_profiles_mirror_the_kernels_list_add()
    {
        Assert.Equal(IsolateListOrder.Head, KernelProfile.V1.IsolateListOrder);
        Assert.Equal(IsolateListOrder.Head, KernelProfile.V2.IsolateListOrder);
        Assert.Equal(IsolateListOrder.Head, KernelProfile.V2Fixed.IsolateListOrder);
        Assert.Equal(IsolateListOrder.Tail, KernelProfile.Linux2616.IsolateListOrder);
    }
}

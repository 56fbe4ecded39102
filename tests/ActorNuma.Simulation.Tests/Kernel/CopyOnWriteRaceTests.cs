namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>do_wp_page re-checks pte_same() after its copy: a migration's try_to_unmap that turned the PTE into a swap
/// entry meanwhile makes the copy back out and the store fault again.</summary>
[Trait("kind", "race")]
public sealed class CopyOnWriteRaceTests
{
    [Fact]
    public void A_copy_whose_pte_was_unmapped_meanwhile_is_released_and_the_store_faults_again()
    {
        var report = ScenarioRun.RunFile("race-cow-copy-vs-migration-unmap.conf", seed: 76);

        report.AssertClean();
        Assert.Equal(5L, report.Syscall(5).Faults);        // four stores, one of them twice
        report.AssertPages(8, [0, 4], swapped: 0);
        report.AssertPages(10, [0, 4], swapped: 0);     // a read its own data back: the data checker is clean
    }

    [Fact]
    public void No_interleaving_of_the_copy_and_the_unmap_breaks_the_machine()
    {
        for (var seed = 1; seed <= 200; seed++)
        {
            var report = ScenarioRun.RunFile("race-cow-copy-vs-migration-unmap.conf", seed);
            Assert.True(report.Violations.Count == 0, $"seed {seed}\n{ScenarioRun.Describe(report)}");
            report.AssertReturned(5, 4);
        }
    }
}

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>The seed's disadvantage C: a page evicted by migration comes back where the policy in force at its next
/// fault puts it, so nodeset-relative placement is lost.</summary>
[Trait("kind", "scenario")]
public sealed class PlacementTests
{
    [Fact]
    public void Pages_come_back_under_the_policy_of_the_fault_and_lose_their_relative_placement()
    {
        var report = ScenarioRun.RunFile("migrate-placement-lost.conf", seed: 1, profile: "2.6.16-swap");

        report.AssertClean();
        // Interleaved 8/8 over {0,1}; after BIND {2,3} with MOVE all 16 on node 2, none on node 3.
        report.AssertPages(3, [8, 8, 0, 0], swapped: 0);
        report.AssertPages(7, [0, 0, 16, 0], swapped: 0);
        // First touch 8/8 on nodes 0 and 1; migrate_pages {0,1} -> {2,3}: all 16 on node 2.
        report.AssertPages(12, [8, 8, 0, 0], swapped: 0);
        report.AssertPages(17, [0, 0, 16, 0], swapped: 0);
        // Evicted toward node 3, faulted back under INTERLEAVE {2,3}.
        report.AssertPages(23, [0, 0, 8, 8], swapped: 0);
        // MOVE does not re-balance pages already on an allowed node.
        report.AssertPages(28, [16, 0, 0, 0], swapped: 0);
        Assert.Equal(0, report.Migration(27, "scanned"));
    }

    [Fact]
    public void Under_v2_fixed_mbind_loses_placement_the_same_way_and_migrate_pages_does_not_exist_yet()
    {
        var report = ScenarioRun.RunFile("migrate-placement-lost.conf", seed: 1, profile: "v2-fixed");

        report.AssertPages(3, [8, 8, 0, 0], swapped: 0);
        report.AssertPages(7, [0, 0, 16, 0], swapped: 0);
        report.AssertFailed(14, Mm.Errno.ENOSYS);
        report.AssertPages(15, [8, 8, 0, 0], swapped: 0);
        report.AssertPages(23, [0, 0, 8, 8], swapped: 0);
        Assert.Empty(report.Violations);
    }

    [Fact]
    public void Swap_in_readahead_reads_a_migrated_page_past_its_vma_under_the_task_policy_and_it_lands_on_the_wrong_node()
    {
        var report = ScenarioRun.RunFile("swapin-readahead-placement.conf", seed: 1);

        report.AssertClean();
        // B is bound to node 1, yet its page came back on node 0 (read ahead at B + PAGE_SIZE, in the hole before C).
        report.AssertPages(11, [1, 0], swapped: 0);
        Assert.Equal("bind", report.Syscall(12).Mode);
        // A's page, read ahead with B's address, is on node 1 and A's own fault was a swap-cache hit.
        report.AssertPages(14, [0, 1], swapped: 0);
        Assert.Equal(["10000000 bind=1 anon=1 swapcache=1 N1=1", "10100000 bind=1 anon=1 swapcache=1 N0=1", "10200000 bind=1"], report.NumaMaps["t"]);
    }
    /// <summary>numa_maps counts a VMA larger than one DescribePages request (8192 pages) in full, and splits its pages
    /// by node: 20000 interleaved pages, then the upper half bound to node 1 (its node-0 pages evicted).</summary>
    [Fact]
    public void Numa_maps_counts_every_page_of_a_vma_larger_than_one_describe_request()
    {
        var report = ScenarioRun.RunText("""
            actornuma {
              topology { nodes = 2, cpus-per-node = 1, pages-per-node = 16384 }
              swap { slots = 12000, write-latency = 0us, read-latency = 0us }
              kernel { profile = v2-fixed }
              kswapd { enabled = off }
            }
            scenario {
              name = big-numa-maps
              tasks = [ { name = t, cpu = 0 } ]
              steps = [
                { task = t, op = mmap, addr = "0x100000000", pages = 20000 }
                { task = t, op = mbind, addr = "0x100000000", pages = 20000, mode = interleave, nodes = [0, 1] }
                { task = t, op = touch, addr = "0x100000000", pages = 20000, write = on }
                { task = t, op = mbind, addr = "0x102710000", pages = 10000, mode = bind, nodes = [1], flags = [move] }
              ]
            }
            """, seed: 1);

        report.AssertClean();
        Assert.Equal(0, report.Step(3).Ret);
        Assert.Equal(5000, report.Migration(3, "evicted"));
        // The upper half's pages already on node 1 stay; the 8 still in the CPU's lru_add_active pagevec are not
        // PG_active yet. (The same lines as the implementation that described every page in one request.)
        Assert.Equal(["100000000 interleave=0-1 anon=10000 dirty=10000 N0=5000 N1=5000",
            "102710000 bind=1 anon=5000 dirty=5000 active=4992 N1=5000"], report.NumaMaps["t"]);
    }
}

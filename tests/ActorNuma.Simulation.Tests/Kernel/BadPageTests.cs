using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>Soft ECC errors (inject-ecc: 2.6.33 soft_offline_page through the profile's migration path): the page moves
/// away intact, the frame is retired for good, held pages are retried, and the argument errors.</summary>
[Trait("kind", "scenario")]
public sealed class BadPageTests
{
    [Theory]
    [InlineData("ecc-retire-page.conf")]
    [InlineData("ecc-retire-page-2.6.18.conf")]
    [InlineData("ecc-held-page-retry.conf")]
    public void The_bad_page_scenarios_hold_every_expectation_with_no_checker_firing(string file) =>
        ScenarioRun.RunFile(file, seed: 1).AssertClean();

    [Fact]
    public void An_error_on_a_page_in_use_swaps_it_out_retires_its_frame_and_the_page_comes_back_elsewhere()
    {
        int[] mapped = [];
        var report = ScenarioRun.RunFile("ecc-retire-page.conf", seed: 1, atEnd: m => mapped = ScenarioRun.MappedPfns(m, "a", 0x10000000, 4));

        report.AssertReturned(3, 0);
        report.AssertPages(4, [0, 3], swapped: 1);
        report.AssertFailed(5, Errno.EBUSY);              // already retired
        report.AssertReturned(6, 0);                      // a free frame
        report.AssertFailed(7, Errno.EIO);                // the zero page
        report.AssertFailed(8, Errno.ENXIO);              // pfn 1024 is not node 0's
        Assert.Equal([new RetiredFrame(1, 1024), new RetiredFrame(1, 2000)], report.RetiredFrames);
        Assert.Equal(4, mapped.Length);
        Assert.DoesNotContain(1024, mapped);
        Assert.Empty(report.Violations);                  // the data checker saw a's values come back
    }

    [Fact]
    public void A_page_still_in_a_pagevec_is_drained_first_and_moves_on_the_first_try()
    {
        var report = ScenarioRun.RunFile("ecc-retire-page.conf", seed: 1);

        Assert.Contains(report.Trace, e => e.Name == "soft_offline_page" && e.Fields.Contains("pfn=1024 state=InUse where=pagevec(cpu 2)", StringComparison.Ordinal));
        Assert.Contains(report.Trace, e => e.Name == "memory_failure" && e.Fields.Contains("pfn=1024 rc=0 tries=1", StringComparison.Ordinal));
        Assert.DoesNotContain(report.Trace, e => e.Name == "soft_offline_retry");
    }

    [Fact]
    public void In_the_direct_form_the_page_moves_to_another_frame_of_its_node_without_a_fault()
    {
        int[] mapped = [];
        var report = ScenarioRun.RunFile("ecc-retire-page-2.6.18.conf", seed: 1, atEnd: m => mapped = ScenarioRun.MappedPfns(m, "a", 0x10000000, 4));

        report.AssertReturned(2, 0);
        Assert.Equal([new RetiredFrame(1, 1025)], report.RetiredFrames);
        Assert.DoesNotContain(1025, mapped);
        Assert.All(mapped, pfn => Assert.InRange(pfn, 1024, 2047));
        Assert.Equal(0, report.Vmstat["pgmajfault"]);
    }

    [Fact]
    public void A_page_isolated_by_another_migration_is_retried_until_its_holder_frees_it()
    {
        var report = ScenarioRun.RunFile("ecc-held-page-retry.conf", seed: 1);

        report.AssertReturned(4, 0);
        var retries = report.Trace.Where(e => e.Name == "soft_offline_retry").ToList();
        Assert.Equal(2, retries.Count);
        Assert.All(retries, e => Assert.Contains("where=isolated(migration),PG_locked|PG_writeback", e.Fields, StringComparison.Ordinal));
        Assert.Contains(report.Trace, e => e.Name == "memory_failure" && e.Fields.Contains("rc=0 tries=3 where=retired", StringComparison.Ordinal));
        Assert.Equal([new RetiredFrame(1, 1024)], report.RetiredFrames);
        Assert.Equal(4, report.Vmstat["pswpin"]);         // every page, the one on the bad frame too, came back from swap
    }

    [Fact]
    public void A_page_held_longer_than_the_retries_is_ebusy_and_its_frame_is_freed_normally_later()
    {
        // The write of a's only page takes 2 s; soft_offline_page gives up after its retries (5 waits of 100 ms).
        const string hocon = """
            actornuma { topology { nodes = 2, cpus-per-node = 2, pages-per-node = 256 }, swap { slots = 8, page-cluster = 0, write-latency = 2s }, kernel { profile = "2.6.16" } }
            scenario {
              name = held
              tasks = [ { name = a, cpu = 2 }, { name = admin, cpu = 0 } ]
              steps = [
                { task = a, op = mmap, addr = "0x10000000", pages = 1 }
                { task = a, op = touch, addr = "0x10000000", pages = 1, write = on }
                { task = a, op = swapout, addr = "0x10000000", pages = 1, async = on }
                { op = advance, time = 1ms }
                { task = admin, op = inject-ecc, node = 1, pfn = 256 }
                { op = wait }
                { op = expect-pages, task = a, addr = "0x10000000", pages = 1, nodes { }, swapped = 1 }
              ]
            }
            """;
        var place = FramePlace.Retired;
        var report = ScenarioRun.RunText(hocon, seed: 1, atEnd: m => place = m.Nodes[1].Memory.Place(0));

        report.AssertClean();
        report.AssertFailed(4, Errno.EBUSY);
        Assert.Contains(report.Trace, e => e.Name == "memory_failure" && e.Fields.Contains($"rc=-EBUSY tries={NumaTaskActor.SoftOfflineRetries + 1}", StringComparison.Ordinal));
        Assert.Null(report.RetiredFrames);
        Assert.Equal(FramePlace.Free, place);             // a's swapout freed it afterwards, to the free list
    }

    [Fact]
    public void A_retired_frame_is_never_allocated_again_even_when_the_node_runs_short()
    {
        // 64 frames on node 1; two retired (one free, one in use); then a BIND to node 1 takes every frame it can get.
        const string hocon = """
            actornuma { topology { nodes = 2, cpus-per-node = 2, pages-per-node = 64 }, swap { slots = 128, page-cluster = 0 }, kernel { profile = "2.6.18" } }
            scenario {
              name = never
              tasks = [ { name = a, cpu = 2 }, { name = admin, cpu = 0 } ]
              steps = [
                { task = a, op = mmap, addr = "0x10000000", pages = 2 }
                { task = a, op = touch, addr = "0x10000000", pages = 2, write = on }
                { task = admin, op = inject-ecc, node = 1, pfn = 64, expect { ret = 0 } }
                { task = admin, op = inject-ecc, node = 1, pfn = 100, expect { ret = 0 } }
                { task = a, op = mmap, addr = "0x20000000", pages = 40 }
                { task = a, op = mbind, addr = "0x20000000", pages = 40, mode = bind, nodes = [1], expect { ret = 0 } }
                { task = a, op = touch, addr = "0x20000000", pages = 40, write = on }
                { task = a, op = munmap, addr = "0x20000000", pages = 40 }
                { task = a, op = mmap, addr = "0x30000000", pages = 40 }
                { task = a, op = mbind, addr = "0x30000000", pages = 40, mode = bind, nodes = [1], expect { ret = 0 } }
                { task = a, op = touch, addr = "0x30000000", pages = 40, write = on }
              ]
            }
            """;
        int[] mapped = [];
        var (free, inUse, retired) = (-1, -1, -1);
        var report = ScenarioRun.RunText(hocon, seed: 2, atEnd: m =>
        {
            mapped = ScenarioRun.MappedPfns(m, "a", 0x30000000, 40);
            var node = m.Nodes[1].Memory;
            free = node.FreePages;
            inUse = Enumerable.Range(0, node.Pages).Count(i => node.Place(i) is not (FramePlace.Free or FramePlace.Retired));
            retired = Enumerable.Range(0, node.Pages).Count(i => node.Place(i) == FramePlace.Retired);
        });

        report.AssertClean();
        Assert.Equal([new RetiredFrame(1, 64), new RetiredFrame(1, 100)], report.RetiredFrames);
        Assert.DoesNotContain(64, mapped);
        Assert.DoesNotContain(100, mapped);
        Assert.Equal(40, mapped.Length);
        // The free count never includes them: the node's 64 frames are free, in use, or one of the 2 retired.
        Assert.Equal(2, retired);
        Assert.Equal(64 - 2 - inUse, free);
    }

    [Theory]
    [InlineData(1, 5000, "ENXIO")]
    [InlineData(1, -1, "ENXIO")]
    [InlineData(1, 3, "ENXIO")]
    [InlineData(9, 3, "ENXIO")]
    public void Bad_frame_arguments_get_enxio(int node, long pfn, string errno)
    {
        var hocon = $$"""
            actornuma { topology { nodes = 2, cpus-per-node = 2, pages-per-node = 256 } }
            scenario {
              name = args
              tasks = [ { name = admin, cpu = 0 } ]
              steps = [ { task = admin, op = inject-ecc, node = {{node}}, pfn = {{pfn}} } ]
            }
            """;
        var report = ScenarioRun.RunText(hocon, seed: 1);

        report.AssertFailed(0, Enum.Parse<Errno>(errno));
        Assert.Null(report.RetiredFrames);
    }
}

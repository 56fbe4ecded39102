using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>2.6.16's direct migration through the swap cache (mm/vmscan.c migrate_pages(), mm/mempolicy.c
/// migrate_pages_to(); Lameter's "Direct Migration V9") against its swap form (<c>direct-via-swap-cache = off</c>), on
/// <c>migrate-swap-cache-2.6.16.conf</c>.</summary>
[Trait("kind", "scenario")]
public sealed class SwapCacheMigrationTests
{
    private const string File = "migrate-swap-cache-2.6.16.conf";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void Pages_are_copied_to_their_target_node_with_one_slot_at_a_time_no_swap_io_and_no_fault_back(int seed)
    {
        var peak = -1;
        var report = ScenarioRun.RunFile(File, seed, atEnd: machine => peak = machine.Swap!.Map.PeakUsed);

        report.AssertClean();
        Assert.Equal("2.6.16", report.Profile);
        Assert.Equal(32, report.Migration(3, "evicted"));
        Assert.Equal(1, report.Migration(3, "passes"));
        report.AssertPages(4, [0, 32, 0], swapped: 0);
        report.AssertPages(7, [0, 0, 32], swapped: 0);
        // add_to_swap for each page, but the slot is freed (remove_from_swap) before the next page takes one.
        Assert.Equal(1, peak);
        Assert.Equal(report.Vmstat["emu_swap_total"], report.Vmstat["emu_swap_free"]);
        Assert.Equal((0L, 0L, 0L, 0L), (report.Vmstat["pswpout"], report.Vmstat["pswpin"], report.Vmstat["pgpgout"], report.Vmstat["pgmajfault"]));
    }

    [Fact]
    public void Interleave_targets_are_paired_from_the_tail_of_the_new_pages_so_each_page_gets_its_neighbours_node()
    {
        var report = ScenarioRun.RunFile(File, seed: 1);

        report.AssertPages(13, [0, 4, 4], swapped: 0);
        Assert.Equal(2, report.Syscall(14).Node);   // offset 0 asks for node 1; it got the page allocated for offset 7
        Assert.Equal(1, report.Syscall(15).Node);
        var under2618 = ScenarioRun.RunFile(File, seed: 1, profile: "2.6.18");
        Assert.Equal((1, 2), (under2618.Syscall(14).Node, under2618.Syscall(15).Node));
    }

    [Fact]
    public void With_the_switch_off_2_6_16_evicts_through_swap_and_four_slots_take_only_four_pages()
    {
        var peak = -1;
        var report = ScenarioRun.RunFile(File, seed: 1, profile: "2.6.16-swap", atEnd: machine => peak = machine.Swap!.Map.PeakUsed);

        Assert.Empty(report.Violations);
        report.AssertReturned(3, 0);
        Assert.Equal(4, report.Migration(3, "evicted"));
        Assert.Equal(28, report.Migration(3, "failed"));
        report.AssertPages(4, [28, 0, 0], swapped: 4);
        Assert.Equal(4, peak);
        Assert.True(report.Vmstat["pswpout"] >= 4);
    }

    [Theory]
    [InlineData(257, 1)]
    [InlineData(258, 2)]
    [InlineData(600, 3)]
    public void Migrate_pages_to_allocates_257_targets_a_chunk_and_runs_migrate_pages_once_per_chunk(int pages, int passes)
    {
        var text = $$"""
            actornuma {
              topology { nodes = 2, cpus-per-node = 1, pages-per-node = 2048 }
              swap { slots = 8 }
              kernel { profile = "2.6.16" }
            }
            scenario {
              name = "chunks"
              tasks = [ { name = t, cpu = 0 } ]
              steps = [
                { task = t, op = mmap, addr = "0x10000000", pages = {{pages}} }
                { task = t, op = touch, addr = "0x10000000", pages = {{pages}}, write = on }
                { task = t, op = mbind, addr = "0x10000000", pages = {{pages}}, mode = bind, nodes = [1], flags = [move], expect { ret = 0 } }
                { op = expect-pages, task = t, addr = "0x10000000", pages = {{pages}}, nodes { "0" = 0, "1" = {{pages}} }, swapped = 0 }
              ]
            }
            """;

        var report = ScenarioRun.RunText(text, seed: 1);

        report.AssertClean();
        Assert.Equal(pages, report.Migration(2, "evicted"));
        // One pass per chunk: every page moves at its first try, and a new chunk starts when the last one ran out.
        Assert.Equal(passes, report.Migration(2, "passes"));
        Assert.Equal(0, report.Vmstat["pswpout"]);
    }
}

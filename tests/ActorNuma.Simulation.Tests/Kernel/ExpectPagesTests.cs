namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>expect-pages: the nodes it lists are exhaustive for present pages, and swapcache counts the range's present
/// pages that are in the swap cache.</summary>
[Trait("kind", "scenario")]
public sealed class ExpectPagesTests
{
    private static string Scenario(string expect) => $$"""
        actornuma {
          topology { nodes = 2, cpus-per-node = 1, pages-per-node = 1024 }
          swap { slots = 64 }
          kernel { profile = v2-fixed }
        }
        scenario {
          name = "expect-pages"
          tasks = [ { name = a, cpu = 0 } ]
          steps = [
            { task = a, op = mmap, addr = "0x10000000", pages = 4 }
            { task = a, op = touch, addr = "0x10000000", pages = 4, write = on }
            {{expect}}
          ]
        }
        """;

    [Fact]
    public void An_empty_node_list_means_no_page_is_present()
    {
        var report = ScenarioRun.RunText(Scenario("""{ op = expect-pages, task = a, addr = "0x10000000", pages = 4, nodes { } }"""), seed: 1);

        var step = report.Step(2);
        Assert.False(step.Ok);
        Assert.Equal("node 0 has 4 pages, expected 0 (not listed)", step.Message);
    }

    [Fact]
    public void A_present_page_on_a_node_not_listed_fails_the_step()
    {
        var report = ScenarioRun.RunText(Scenario("""{ op = expect-pages, task = a, addr = "0x10000000", pages = 4, nodes { "1" = 0 } }"""), seed: 1);

        Assert.Equal("node 0 has 4 pages, expected 0 (not listed)", report.Step(2).Message);
    }

    [Fact]
    public void Listing_every_node_with_pages_holds()
    {
        var report = ScenarioRun.RunText(Scenario("""{ op = expect-pages, task = a, addr = "0x10000000", pages = 4, nodes { "0" = 4 }, swapped = 0, swapcache = 0 }"""), seed: 1);

        report.AssertClean();
        Assert.Equal(0L, report.PageCounts(2).Swapcache);
    }

    [Fact]
    public void Swapcache_counts_present_pages_that_are_in_the_swap_cache()
    {
        var steps = """
            { task = a, op = swapout, addr = "0x10000000", pages = 4 }
            { task = a, op = touch, addr = "0x10000000", pages = 4 }
            { op = expect-pages, task = a, addr = "0x10000000", pages = 4, nodes { "0" = 4 }, swapcache = 3 }
            """;

        var report = ScenarioRun.RunText(Scenario(steps), seed: 1);

        // swap is far from half full, so every page swapped back in keeps its slot and stays in the swap cache.
        Assert.Equal("4 pages in the swap cache, expected 3", report.Step(4).Message);
        Assert.Equal(4L, report.PageCounts(4).Swapcache);
    }

    [Fact]
    public void A_range_of_3_times_10_to_the_10_pages_is_counted_from_the_page_table_not_page_by_page()
    {
        var report = ScenarioRun.RunText(Scenario("""{ op = expect-pages, task = a, addr = "0x10000000", pages = 30000000000, nodes { "0" = 4 }, swapped = 0 }"""), seed: 1);

        report.AssertClean();
        Assert.Equal(30_000_000_000L - 4, report.PageCounts(2).NotPresent);
    }
}

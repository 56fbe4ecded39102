using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Explore;

/// <summary>Small scenarios with a known race, written for the explore tests so that their assertions do not hang on
/// the scenario files of hocon/scenarios.</summary>
internal static class TestRaces
{
    /// <summary>Two nodes of two CPUs and 256 pages, a little swap, the V2 patchset.</summary>
    private const string Machine = """
        actornuma {
          topology { nodes = 2, cpus-per-node = 2, pages-per-node = 256 }
          swap { slots = 64 }
          kernel { profile = v2 }
          run { mode = deterministic, seed = 1 }
        }

        """;

    /// <summary>A task and its forked child share 4 copy-on-write pages; the parent moves them to node 1 through swap
    /// (MPOL_MF_MOVE) while the child writes them. Most interleavings end with the parent's pages in swap and the
    /// child's copies on node 1 after one fault a page for each task, which is what the last step claims; in a few the
    /// child's store faults twice (the race of <see cref="CowCopyVsSwapoutPass"/>) and the claim fails.</summary>
    public static readonly string MoveVsChildWrites = MoveVsChild(4, "test race: mbind MOVE vs the child's writes");

    /// <summary>The child's copy-on-write fault against a swapout pass of the parent's migration, over 8 pages: a race
    /// of depth 2. The child's store must read its PTE (present, read-only) and ask node 1 for the copy <em>before</em>
    /// the pass's try_to_unmap replaces that PTE with a swap entry, and its do_wp_page must re-check the PTE
    /// <em>after</em> it: then the copy is released (<c>!pte_same</c>) and the store faults again (do_swap_page finds
    /// the page still in the swap cache; a still reaches it through the slot, so do_wp_page copies once more), one
    /// fault more than the last step's claim allows:
    /// <code>
    ///   task c (CPU 2)                           node 0: swapout_pages (task a's mbind)
    ///   do_wp_page: pte present, read-only
    ///     alloc_page_vma on node 1 ...
    ///                                            add_to_swap, try_to_unmap: c's pte = swp entry
    ///     copy done: !pte_same, release the copy
    ///   do_swap_page: lookup_swap_cache hit
    ///   do_wp_page: can_share_swap_page no, copy
    /// </code>
    /// A uniform random schedule rarely keeps node 1's allocation waiting through a whole pass; pct does whenever it
    /// gives node 1 the lowest priority.</summary>
    public static readonly string CowCopyVsSwapoutPass = MoveVsChild(8, "test race: the child's copy-on-write fault vs a swapout pass");

    private static string MoveVsChild(int pages, string name) => Machine + $$"""
        scenario {
          name = "{{name}}"
          tasks = [ { name = a, cpu = 0, caps = [sys_nice] } ]
          steps = [
            { task = a, op = mmap, addr = "0x10000000", pages = {{pages}} }
            { task = a, op = touch, addr = "0x10000000", pages = {{pages}}, write = on }
            { task = a, op = fork, child = c }
            { task = c, op = sched_setaffinity, cpu = 2 }
            { task = a, op = mbind, addr = "0x10000000", pages = {{pages}}, mode = bind, nodes = [1], flags = [move], async = on, expect { ret = 0 } }
            { task = c, op = touch, addr = "0x10000000", pages = {{pages}}, write = on, async = on }
            { op = wait }
            { op = expect-pages, task = a, addr = "0x10000000", pages = {{pages}}, swapped = {{pages}} }
            { op = expect-vmstat, pgfault = {{2 * pages}} }
          ]
        }
        """;

    /// <summary>A task and its forked child both move their 2 shared pages to node 1 at once. V2 fires
    /// WARN_ON(rc == 0) in check_pte_range when isolate_lru_page finds a page the other task isolated; the scenario
    /// claims, wrongly, that no kernel warning fires, so schedules in which the two walks overlap fail.</summary>
    public const string TwoMoversNoWarning = Machine + """
        scenario {
          name = "test race: two movers of shared pages, no warning claimed"
          tasks = [ { name = a, cpu = 0, caps = [sys_nice] } ]
          properties { always = [ "no-kernel-warning" ] }
          steps = [
            { task = a, op = mmap, addr = "0x10000000", pages = 2 }
            { task = a, op = touch, addr = "0x10000000", pages = 2, write = on }
            { task = a, op = fork, child = c }
            { task = c, op = sched_setaffinity, cpu = 2 }
            { task = a, op = mbind, addr = "0x10000000", pages = 2, mode = bind, nodes = [1], flags = [move], async = on, expect { ret = 0 } }
            { task = c, op = mbind, addr = "0x10000000", pages = 2, mode = bind, nodes = [1], flags = [move], async = on, expect { ret = 0 } }
            { op = wait }
          ]
        }
        """;

    public static LoadedScenario Load(string text) => ScenarioLoader.Parse(text, "test-race.conf");

    /// <summary>Writes the scenario to <paramref name="dir"/> for the command-line tests.</summary>
    public static string Write(string dir, string text, string name = "test-race.conf")
    {
        var path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }
}

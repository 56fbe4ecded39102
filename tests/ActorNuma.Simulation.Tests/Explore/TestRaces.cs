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
    /// child's copies on node 1, after 8 faults, which is what the last step claims; in a few, swapout_pages'
    /// try_to_unmap turns the child's PTE into a swap entry while its do_wp_page copies, the copy backs out
    /// (<c>!pte_same</c>) and the store faults again: 9 faults, and the claim fails.</summary>
    public const string MoveVsChildWrites = Machine + """
        scenario {
          name = "test race: mbind MOVE vs the child's writes"
          tasks = [ { name = a, cpu = 0, caps = [sys_nice] } ]
          steps = [
            { task = a, op = mmap, addr = "0x10000000", pages = 4 }
            { task = a, op = touch, addr = "0x10000000", pages = 4, write = on }
            { task = a, op = fork, child = c }
            { task = c, op = sched_setaffinity, cpu = 2 }
            { task = a, op = mbind, addr = "0x10000000", pages = 4, mode = bind, nodes = [1], flags = [move], async = on, expect { ret = 0 } }
            { task = c, op = touch, addr = "0x10000000", pages = 4, write = on, async = on }
            { op = wait }
            { op = expect-pages, task = a, addr = "0x10000000", pages = 4, swapped = 4 }
            { op = expect-vmstat, pgfault = 8 }
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

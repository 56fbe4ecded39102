using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>mmap lengths the address space cannot hold come back as the kernel's errno, at once, and leave the task
/// usable: nothing is mapped, no BUG, no checker finding.</summary>
[Trait("kind", "scenario")]
public sealed class MmapLimitTests
{
    private static string Scenario(string mmap) => $$"""
        actornuma {
          topology { nodes = 2, cpus-per-node = 1, pages-per-node = 256 }
          swap { slots = 64 }
        }
        scenario {
          name = mmap-limits
          tasks = [ { name = a, cpu = 0 } ]
          steps = [
            { task = a, op = mmap, addr = "0x10000000", {{mmap}} }
            { task = a, op = mmap, addr = "0x10000000", pages = 4, expect { ret = 268435456 } }
            { task = a, op = touch, addr = "0x10000000", pages = 4, write = on }
          ]
        }
        """;

    [Theory(Timeout = 60_000)]
    [InlineData("pages = 2251799813685248")]   // 2^51 pages: len 2^63 > TASK_SIZE
    [InlineData("len = \"0xFFFFFFFFFFFFFFFF\"")] // PAGE_ALIGN wraps to 0
    [InlineData("pages = 34359738368")]        // 2^35 pages: exactly 2^47 bytes, one page more than TASK_SIZE
    public async Task An_mmap_longer_than_task_size_is_ENOMEM_and_the_task_goes_on(string length)
    {
        var report = await Task.Run(() => ScenarioRun.RunText(Scenario(length), seed: 1));

        report.AssertFailed(0, Errno.ENOMEM);
        report.AssertReturned(1, 0x10000000);
        report.AssertReturned(2, 4);
        report.AssertClean();
    }

    [Fact(Timeout = 60_000)]
    public async Task A_fixed_mmap_that_would_end_beyond_task_size_is_ENOMEM()
    {
        var text = Scenario("pages = 1").Replace("addr = \"0x10000000\", pages = 1", "addr = \"0x7ffffffff000\", pages = 1");
        var report = await Task.Run(() => ScenarioRun.RunText(text, seed: 1));

        report.AssertFailed(0, Errno.ENOMEM);
        report.AssertClean();
    }
}

using ActorNuma.Kernel;
using ActorNuma.Mm;
using Xunit.Abstractions;

namespace ActorNuma.TestKit.Tests;

/// <summary>The README's first test, word for word: mbind(MPOL_MF_MOVE) evicts the pages, and the next touch faults them
/// back on the bound node.</summary>
public sealed class FirstSpec(ITestOutputHelper output) : KernelTestKit(output)
{
    [Fact]
    public async Task Mbind_move_puts_the_pages_on_node_1()
    {
        var machine = Boot(m => m.Task("app", cpu: 0));
        var app = machine.Task("app");
        var range = PageRange.At(0x10000000, 16);

        await Kernel.Mmap(app, range);
        await Kernel.Touch(app, range);
        machine.AssertPages(app, range, node0: 16);

        var mbind = await Kernel.Mbind(app, range, MpolMode.Bind, nodes: [1], MpolFlags.Move);
        Assert.Equal(Errno.None, mbind.Errno);
        await Kernel.Touch(app, range);

        machine.AssertPages(app, range, node1: 16);
        machine.AssertNumaMaps(app, "bind=1", "N1=16");
        machine.AssertVmstat(("pswpout", 16), ("pswpin", 16));
        machine.AssertCheckersClean();
    }
}

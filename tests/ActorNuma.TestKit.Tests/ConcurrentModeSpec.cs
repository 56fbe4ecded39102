using ActorNuma.Kernel;
using ActorNuma.Mm;
using Xunit.Abstractions;

namespace ActorNuma.TestKit.Tests;

/// <summary>The same test body on real threads and real time: calls are awaited asynchronously, assertions read the
/// machine once it is at rest.</summary>
public sealed class ConcurrentModeSpec(ITestOutputHelper output) : KernelTestKit(output, KernelTestMode.Concurrent)
{
    [Fact]
    public async Task Mbind_move_puts_the_pages_on_node_1_on_real_threads()
    {
        var machine = Boot(m => m.Task("app", cpu: 0).Swap(slots: 64, write: TimeSpan.FromMicroseconds(50), read: TimeSpan.FromMicroseconds(50)));
        Assert.False(machine.IsDeterministic);
        var app = machine.Task("app");
        var range = PageRange.At(0x10000000, 16);
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(PageSwappedOut));

        await Kernel.Mmap(app, range);
        await Kernel.Touch(app, range);
        (await Kernel.Mbind(app, range, MpolMode.Bind, nodes: [1], MpolFlags.Move)).ShouldSucceed("mbind");
        await Kernel.Touch(app, range);

        machine.AssertPages(app, range, node1: 16);
        Assert.Equal(16, Enumerable.Range(0, 16).Select(_ => events.ExpectMsg<PageSwappedOut>().Pfn).Distinct().Count());
        machine.AssertCheckersClean();
        Assert.Throws<InvalidOperationException>(() => machine.Advance(TimeSpan.FromMilliseconds(1)));
    }
}

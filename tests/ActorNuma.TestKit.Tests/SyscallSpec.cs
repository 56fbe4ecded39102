using ActorNuma.Kernel;
using ActorNuma.Mm;
using Xunit.Abstractions;

namespace ActorNuma.TestKit.Tests;

/// <summary>The typed syscalls reach the kernel's tasks and come back with their results.</summary>
public sealed class SyscallSpec(ITestOutputHelper output) : KernelTestKit(output)
{
    private static readonly PageRange Range = PageRange.At(0x10000000, 8);

    [Fact]
    public async Task Fork_exit_and_waitpid_make_and_reap_a_child()
    {
        var lifecycle = CreateTestProbe();
        Sys.EventStream.Subscribe(lifecycle.Ref, typeof(TaskForked));
        Sys.EventStream.Subscribe(lifecycle.Ref, typeof(TaskExited));
        var machine = Boot(m => m.Task("parent", cpu: 0));
        var parent = machine.Task("parent");
        await Kernel.Mmap(parent, Range);
        await Kernel.Touch(parent, Range);

        var fork = await Kernel.Fork(parent, "child");
        var child = Assert.IsType<TaskHandle>(fork.Child);
        Assert.Equal(child.Pid, fork.Result.Ret);
        Assert.Same(child, machine.Task("child"));
        // The child writes its copy-on-write pages: each gets a copy of its own.
        (await Kernel.Touch(child, Range)).ShouldSucceed("touch");
        machine.AssertPages(child, Range, node0: 8);
        (await Kernel.Exit(child, status: 3)).ShouldSucceed("exit");
        var reaped = (await Kernel.Waitpid(parent, child)).ShouldSucceed("waitpid");

        Assert.Equal(child.Pid, reaped.Ret);
        Assert.Equal(3 << 8, reaped.WaitStatus);
        Assert.Equal((parent.Pid, child.Pid, "child"), lifecycle.ExpectMsg<TaskForked>() is var f ? (f.Parent, f.Child, f.Name) : default);
        Assert.Equal((child.Pid, false), lifecycle.ExpectMsg<TaskExited>() is var x ? (x.Task, x.OomKilled) : default);
        (await Kernel.Waitpid(parent, child)).ShouldFailWith(Errno.ECHILD, "a second waitpid");
        machine.AssertCheckersClean();
    }

    [Fact]
    public async Task Set_mempolicy_places_the_next_faults()
    {
        var machine = Boot(m => m.Task("app", cpu: 0));
        var app = machine.Task("app");
        (await Kernel.SetMempolicy(app, MpolMode.Interleave, nodes: [0, 1])).ShouldSucceed("set_mempolicy");
        await Kernel.Mmap(app, Range);
        await Kernel.Touch(app, Range);
        machine.AssertPages(app, Range, node0: 4, node1: 4);
        (await Kernel.SetMempolicy(app, MpolMode.Bind, nodes: [5])).ShouldFailWith(Errno.EINVAL, "bind to an offline node");
    }

    [Fact]
    public async Task Swapout_evicts_a_range_and_a_touch_brings_it_back()
    {
        var machine = Boot(m => m.Task("app", cpu: 2));
        var app = machine.Task("app");
        await Kernel.Mmap(app, Range);
        await Kernel.Touch(app, Range);
        (await Kernel.Swapout(app, Range)).ShouldSucceed("swapout");
        machine.AssertPages(app, Range, swapped: 8);
        await Kernel.Touch(app, Range, write: false);
        machine.AssertPages(app, Range, node1: 8, swapped: 0);
        machine.AssertVmstat(("pswpout", 8), ("pswpin", 8));
    }
}

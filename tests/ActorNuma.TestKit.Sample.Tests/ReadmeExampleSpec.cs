using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.TestKit;
using Akka.Actor;
using Xunit.Abstractions;

namespace ActorNuma.TestKit.Sample;

/// <summary>Your actor: moves a task's pages between nodes with migrate_pages, made by its own daemon task.</summary>
public sealed class Mover : ReceiveActor
{
    public sealed record Move(int Pid, int From, int To);

    private IActorRef _replyTo = ActorRefs.Nobody;

    public Mover(IActorRef daemon)
    {
        Receive<Move>(m =>
        {
            _replyTo = Sender;
            // Tell, not Ask: an Ask's continuation would run off the seeded executor.
            daemon.Tell(new NumaTask.MigratePages(m.Pid, 65, NodeMask.Of(m.From), NodeMask.Of(m.To), NodemaskFault: false));
        });
        Receive<NumaTask.SyscallResult>(r => _replyTo.Tell(r));
    }
}

public sealed class MoverSpec(ITestOutputHelper output) : KernelTestKit(output)
{
    [KernelTheory, Seeds(1, 50)]
    public async Task Mover_moves_the_pages_of_a_task_that_keeps_touching_them(int seed)
    {
        var machine = Boot(m => m.Profile(KernelProfile.Linux2616)
            .Task("app", cpu: 2).Task("numad", cpu: 0, sysNice: true));
        var (app, numad) = (machine.Task("app"), machine.Task("numad"));
        var range = PageRange.At(0x10000000, 16);
        await Kernel.Mmap(app, range);
        await Kernel.Mbind(app, range, MpolMode.Bind, nodes: [0]);
        await Kernel.Touch(app, range);
        await Kernel.Mbind(app, range, MpolMode.Default);

        var migrations = CreateTestProbe();
        Sys.EventStream.Subscribe(migrations.Ref, typeof(PagesMigrated));
        var mover = machine.ActorOf(Props.Create(() => new Mover(numad.Ref)), "mover");

        var touch = Kernel.Touch(app, range);          // races the move under the seed's schedule
        var result = await machine.Ask<NumaTask.SyscallResult>(mover, new Mover.Move(app.Pid, From: 0, To: 1));
        await touch;
        await Kernel.Touch(app, range);

        Assert.Equal(Errno.None, result.Errno);
        Assert.Equal(seed, machine.Schedule.Seed);
        migrations.ExpectMsg<PagesMigrated>(e => e.Reason == "migrate_pages" && e.Task == app.Pid);
        machine.AssertPages(app, range, node1: 16);
        machine.AssertCheckersClean();
    }
}

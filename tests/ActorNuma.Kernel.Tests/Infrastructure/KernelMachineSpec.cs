using ActorNuma.Kernel.Tests.Support;

namespace ActorNuma.Kernel.Tests.Infrastructure;

/// <summary>The machine's read-only window: every actor that registers is in it, however their constructors interleave.</summary>
public sealed class KernelMachineSpec
{
    /// <remarks>Regression: each registration rebuilt the sorted task list from its own view of the dictionary, so a
    /// registration that published last could drop a task registered at the same time; in concurrent runs the PTE
    /// checker then reported every page of the dropped task as mapped by no PTE. Without the lock this fails within a
    /// few rounds on two cores; with it no interleaving can lose a task.</remarks>
    [Fact]
    public void Tasks_registered_at_the_same_time_from_many_threads_are_all_listed()
    {
        const int Threads = 4;
        for (var round = 0; round < 300; round++)
        {
            var machine = new KernelMachine(SmallMachine.Settings(), new KernelTrace(() => TimeSpan.Zero));
            using var start = new Barrier(Threads);
            var workers = Enumerable.Range(0, Threads).Select(k => new Thread(() =>
            {
                start.SignalAndWait();
                machine.Register(new TaskState(machine.AllocPid(), $"t{k}"));
            })).ToArray();
            foreach (var w in workers)
            {
                w.Start();
            }

            foreach (var w in workers)
            {
                w.Join();
            }

            Assert.Equal(Enumerable.Range(1, Threads), machine.Tasks.Select(t => t.Pid));
        }
    }
}

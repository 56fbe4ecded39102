using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Checkers;

/// <summary>The walk the PTE-reading checkers share: every PTE page of every task that has not exited, in pid order
/// and, within a task, in ascending address order (<see cref="ActorNuma.Mm.IReadOnlyPageTable.PtePages"/>), so a
/// checker reports what it finds in the order a walk entry by entry would.</summary>
internal static class LivePtePages
{
    public static IEnumerable<(TaskState Task, ulong FirstVpn, ReadOnlyMemory<ulong> Ptes)> Of(KernelMachine machine)
    {
        foreach (var task in machine.Tasks)
        {
            if (task.Exited)
            {
                continue;
            }

            foreach (var (first, ptes) in task.PageTable.PtePages())
            {
                yield return (task, first, ptes);
            }
        }
    }
}

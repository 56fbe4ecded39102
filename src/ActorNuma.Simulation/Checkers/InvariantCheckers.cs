using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Checkers;

/// <summary>One invariant the kernel must keep, checked against the machine's state at a quiescent point. Checkers
/// only read; they never change what they look at, and they do not care how the run is driven.</summary>
public interface IInvariantChecker
{
    string Name { get; }
    void Check(KernelMachine machine, ICollection<string> violations);
}

/// <summary>The checkers every run uses.</summary>
public static class InvariantCheckers
{
    public static IReadOnlyList<IInvariantChecker> All { get; } =
    [
        new FramePlacementChecker(),
        new LruFlagsChecker(),
        new PageRefcountChecker(),
        new SwapAccountingChecker(),
        new PteChecker(),
        new DataChecker(),
        new MemoryHotplugChecker(),
    ];

    /// <summary>Runs every checker; returns the violations, each prefixed with the checker's name.</summary>
    public static List<string> RunAll(KernelMachine machine)
    {
        var violations = new List<string>();
        var found = new List<string>();
        foreach (var checker in All)
        {
            found.Clear();
            checker.Check(machine, found);
            foreach (var v in found)
            {
                violations.Add($"{checker.Name}: {v}");
            }
        }
        return violations;
    }
}

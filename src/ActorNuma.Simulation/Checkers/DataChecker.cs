using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Checkers;

/// <summary>Every read returned the last value its task wrote (recorded by the tasks as they read).</summary>
public sealed class DataChecker : IInvariantChecker
{
    public string Name => "data";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        foreach (var v in machine.DataViolations)
        {
            violations.Add(v);
        }
    }
}

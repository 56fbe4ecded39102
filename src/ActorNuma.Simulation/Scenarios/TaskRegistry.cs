namespace ActorNuma.Simulation.Scenarios;

/// <summary>The task names a step may use so far: those of <c>scenario.tasks</c>, then each fork child from the
/// step that forks it on.</summary>
internal sealed class TaskRegistry
{
    private readonly List<string> _names = [];

    public bool Contains(string name) => _names.Contains(name, StringComparer.Ordinal);

    /// <summary>Reads a name for a new task and registers it. A name may not be a number, because
    /// <c>migrate_pages</c> takes its <c>pid</c> as a task name or a number.</summary>
    public string ReadNewName(ConfigNode node)
    {
        var name = node.ReadString("a task name such as a");
        if (node.TryParseInteger(out _))
        {
            throw node.Error("a task name that is not a number");
        }

        if (Contains(name))
        {
            throw node.Error("a name no other task has");
        }

        _names.Add(name);
        return name;
    }

    /// <summary>Reads the name of a task that exists at this step.</summary>
    public string ReadKnownName(ConfigNode node)
    {
        var expected = $"a task declared in scenario.tasks or forked by an earlier step ({Describe()})";
        var name = node.ReadString(expected);
        return Contains(name) ? name : throw node.Error(expected);
    }

    private string Describe() => _names.Count == 0 ? "none yet" : string.Join(", ", _names);
}

using ActorNuma.Mm;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>Reads <c>scenario</c>: its name, the tasks, then the steps in order.</summary>
internal static class ScenarioReader
{
    private static readonly string[] Keys = ["name", "tasks", "steps", "properties", "outcomes"];
    private static readonly string[] TaskKeys = ["name", "cpu", "caps"];

    public static ScenarioSpec Read(ConfigNode node, Topology topology)
    {
        node.ReadBlock("a block with name, tasks and steps", Keys);
        var name = node["name"].ReadString("a scenario name such as \"mbind-move-basic\"");
        var registry = new TaskRegistry();
        var tasksNode = node["tasks"];
        var tasks = tasksNode.IsSet
            ? tasksNode.ReadList("a list of tasks such as [ { name = a, cpu = 0, caps = [] } ]")
                .Select(t => ReadTask(t, topology, registry)).ToList()
            : [];
        var reader = new StepReader(topology, registry);
        var steps = node["steps"].ReadList("a list of steps such as [ { task = a, op = mmap, addr = \"0x10000000\", pages = 16 } ]")
            .Select(reader.Read).ToList();
        return new ScenarioSpec(name, tasks, steps)
        {
            Properties = ScenarioPropertiesReader.Read(node["properties"], node["outcomes"], steps.Count),
        };
    }

    private static TaskSpec ReadTask(ConfigNode node, Topology topology, TaskRegistry registry)
    {
        node.ReadBlock("a task block such as { name = a, cpu = 0, caps = [] }", TaskKeys);
        var name = registry.ReadNewName(node["name"]);
        var cpu = node["cpu"].ReadInt(0, topology.Cpus - 1, $"a cpu of the topology, from 0 to {topology.Cpus - 1}");
        var caps = node["caps"];
        var sysNice = caps.IsSet && caps.ReadList("a list of capabilities: [] or [sys_nice]")
            .Select(c => c.ReadChoice(SyscallNames.Caps)).ToList().Count > 0;
        return new TaskSpec(name, cpu, sysNice);
    }
}

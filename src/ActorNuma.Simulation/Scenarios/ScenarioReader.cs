using ActorNuma.Mm;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>Reads <c>scenario</c>: its name, the tasks, then the steps in order.</summary>
internal static class ScenarioReader
{
    private static readonly string[] Keys = ["name", "tasks", "steps", "shows-bug", "schedule-dependent", "properties", "outcomes"];
    private static readonly string[] TaskKeys = ["name", "cpu", "caps", "uid", "euid"];

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
        var showsBug = node["shows-bug"].IsSet
            ? node["shows-bug"].ReadList("a list of the checkers the scenario makes fire, such as [page-refcount]")
                .Select(c => c.ReadChoice(ShowableCheckers)).Distinct().ToList()
            : [];
        return new ScenarioSpec(name, tasks, steps)
        {
            ShowsBug = showsBug,
            ScheduleDependent = node["schedule-dependent"].IsSet
                ? node["schedule-dependent"].ReadString("why the expectations hold only in some schedules, such as \"the race's claim, which explore falsifies\"")
                : null,
            Properties = ScenarioPropertiesReader.Read(node["properties"], node["outcomes"], steps.Count),
        };
    }

    /// <summary>The checkers a scenario may say it makes fire: each invariant checker, and liveness.</summary>
    private static readonly (string, string)[] ShowableCheckers =
        [.. Checkers.InvariantCheckers.All.Select(c => (c.Name, c.Name)), ("liveness", "liveness")];

    private static TaskSpec ReadTask(ConfigNode node, Topology topology, TaskRegistry registry)
    {
        node.ReadBlock("a task block such as { name = a, cpu = 0, caps = [] }", TaskKeys);
        var name = registry.ReadNewName(node["name"]);
        var cpu = node["cpu"].ReadInt(0, topology.Cpus - 1, $"a cpu of the topology, from 0 to {topology.Cpus - 1}");
        var caps = node["caps"];
        var sysNice = caps.IsSet && caps.ReadList("a list of capabilities: [] or [sys_nice]")
            .Select(c => c.ReadChoice(SyscallNames.Caps)).ToList().Count > 0;
        // The effective uid defaults to the real one, as for a process that never ran a setuid program.
        var uid = node["uid"].IsSet ? node["uid"].ReadInt(0, int.MaxValue, "a user id >= 0") : 0;
        var euid = node["euid"].IsSet ? node["euid"].ReadInt(0, int.MaxValue, "a user id >= 0") : uid;
        return new TaskSpec(name, cpu, sysNice, uid, euid);
    }
}

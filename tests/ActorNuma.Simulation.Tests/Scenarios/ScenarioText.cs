using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Tests.Scenarios;

/// <summary>Builds small scenario documents for the loader tests: the default machine (2 nodes of 2 CPUs), tasks
/// a on cpu 0 and b on cpu 2 with CAP_SYS_NICE, and the steps given.</summary>
internal static class ScenarioText
{
    public const string Source = "exp.conf";
    public const string TwoTasks = "{ name = a, cpu = 0, caps = [] }, { name = b, cpu = 2, caps = [sys_nice] }";

    public static string Document(string steps, string machine = "", string tasks = TwoTasks) => $$"""
        actornuma {
        {{machine}}
        }
        scenario {
          name = test
          tasks = [ {{tasks}} ]
          steps = [
        {{steps}}
          ]
        }
        """;

    public static LoadedScenario Load(string steps, string machine = "", string tasks = TwoTasks) =>
        ScenarioLoader.Parse(Document(steps, machine, tasks), Source);

    public static StepSpec Step(string step) => Load(step).Scenario.Steps[0];

    public static MachineConfig Machine(string machine) => Load("{ op = wait }", machine).Machine;

    public static string Error(string text) =>
        Assert.Throws<ScenarioException>(() => ScenarioLoader.Parse(text, Source)).Message;

    public static string StepError(string steps, string tasks = TwoTasks) => Error(Document(steps, tasks: tasks));

    public static string MachineError(string machine) => Error(Document("{ op = wait }", machine));
}

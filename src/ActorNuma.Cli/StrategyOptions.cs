using System.CommandLine;
using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Cli;

/// <summary>The options explore and replay share: a replay command is an explore command's schedule named by its seed,
/// so both must read the strategy the same way.</summary>
internal sealed class StrategyOptions
{
    public Option<string> Strategy { get; } = new("--strategy")
    {
        Description = "random: uniform choice of the next mailbox. pct: priority-based with d-1 priority change points " +
                      "(Burckhardt et al., ASPLOS 2010); a bug of depth d among n actors in a schedule of k steps is " +
                      "found by one schedule with probability at least 1/(n*k^(d-1)). bounded: every schedule with at most " +
                      "d deviations from the default schedule (preemptions, or another than the oldest mailbox when the " +
                      "running actor blocks), depth first as CHESS does; --count is the budget, and the end says whether " +
                      "every schedule within the bound was run",
        DefaultValueFactory = _ => "random",
    };

    public Option<int> Depth { get; } = new("--depth")
    {
        Description = "pct: the bug depth d (d-1 priority change points); bounded: the most deviations per schedule (default 2)",
        DefaultValueFactory = _ => 2,
    };

    public StrategyOptions() => Strategy.AcceptOnlyFromAmong("random", "pct", "bounded");

    public void AddTo(Command command)
    {
        command.Options.Add(Strategy);
        command.Options.Add(Depth);
    }

    public (StrategyKind Kind, int Depth) Read(ParseResult p) =>
        (Enum.Parse<StrategyKind>(p.GetValue(Strategy)!, ignoreCase: true), p.GetValue(Depth));

    /// <summary>The flags that name the strategy in a replay command line (nothing for the default).</summary>
    public static string Flags(StrategyKind kind, int depth) =>
        kind == StrategyKind.Random ? "" : $" --strategy {ScheduleStrategies.Name(kind)} --depth {depth}";

    /// <summary>Loads the scenario; a bad file or flag is one line on standard error and exit code 2.</summary>
    public static LoadedScenario? Load(string file, StrategyKind kind, int depth)
    {
        try
        {
            if (depth < (kind == StrategyKind.Pct ? 1 : 0))
            {
                throw new ScenarioException("--depth must be at least 1 for pct and 0 for bounded");
            }

            return ScenarioLoader.LoadFile(file);
        }
        catch (ScenarioException e)
        {
            Console.Error.WriteLine($"actornuma: {e.Message}");
            return null;
        }
    }
}

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
                      "found by one schedule with probability at least 1/(n*k^(d-1))",
        DefaultValueFactory = _ => "random",
    };

    public Option<int> Depth { get; } = new("--depth")
    {
        Description = "PCT's bug depth d (d-1 priority change points; default 2)",
        DefaultValueFactory = _ => 2,
    };

    public StrategyOptions() => Strategy.AcceptOnlyFromAmong("random", "pct");

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
    public static LoadedScenario? Load(string file, int depth)
    {
        try
        {
            if (depth < 1) throw new ScenarioException("--depth must be at least 1");
            return ScenarioLoader.LoadFile(file);
        }
        catch (ScenarioException e)
        {
            Console.Error.WriteLine($"actornuma: {e.Message}");
            return null;
        }
    }
}

using System.CommandLine;

namespace ActorNuma.Cli;

/// <summary>actornuma: run a scenario (the embedded default without a file) or measure the emulator.</summary>
/// <remarks>Exit codes: 0 every expectation held and no checker fired; 1 an expectation failed; 2 bad input (one line,
/// no stack trace); 3 a checker fired.</remarks>
public static class CliApp
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("ActorNuma: an actor-based emulator of Linux 2.6.14 NUMA memory management and page migration via swap")
        {
            RunCommand.Create(),
            ExploreCommand.Create(),
            ReplayCommand.Create(),
            BenchCommand.Create(),
            SoakCommand.Create(),
            CompareCommand.Create(),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            var message = string.Join(" ", parse.Errors[0].Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
            Console.Error.WriteLine($"actornuma: {message} (try --help)");
            return ExitCodes.BadInput;
        }
        return parse.Invoke();
    }
}

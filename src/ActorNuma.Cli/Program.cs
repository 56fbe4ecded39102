using System.CommandLine;
using ActorNuma.Cli;

// actornuma: run a scenario (the embedded default without a file) or measure the emulator.
// Exit codes: 0 every expectation held and no checker fired; 1 an expectation failed; 2 bad input; 3 a checker fired.
var root = new RootCommand("ActorNuma: an actor-based emulator of Linux 2.6.14 NUMA memory management and page migration via swap")
{
    RunCommand.Create(),
    BenchCommand.Create(),
};
var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    Console.Error.WriteLine($"actornuma: {parse.Errors[0].Message} (try --help)");
    return ExitCodes.BadInput;
}
return parse.Invoke();

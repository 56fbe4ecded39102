using ActorNuma.Cli;
using ActorNuma.Simulation;

// The console logger buffers nothing itself, but its sink may: flush it however the command ends.
try
{
    return CliApp.Run(args);
}
finally
{
    Logging.CloseAndFlush();
}

using ActorNuma.Cli;

return CliApp.Run(args);

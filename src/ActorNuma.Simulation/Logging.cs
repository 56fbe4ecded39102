using Akka.Configuration;
using Serilog;
using Serilog.Events;

namespace ActorNuma.Simulation;

/// <summary>Logging through Akka.Logger.Serilog to the console's standard error, so that standard output carries only
/// what the run reports. Kernel events carry structured properties (Node, Pfn, Task).</summary>
public static class Logging
{
    private static readonly object Gate = new();
    private static bool _configured;

    public static void EnsureSerilog()
    {
        lock (Gate)
        {
            if (_configured) return;
            Log.Logger = new LoggerConfiguration()
                .MinimumLevel.Verbose()
                .WriteTo.Console(
                    outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] [{LogSource}] {Message:lj}{NewLine}{Exception}",
                    standardErrorFromLevel: LogEventLevel.Verbose)
                .CreateLogger();
            _configured = true;
        }
    }

    /// <summary>At DEBUG, every kernel trace event also goes to the log as a structured event: its name, the virtual
    /// time, and each <c>key=value</c> of its fields (node, pfn, task, ...) as a property.</summary>
    public static Action<ActorNuma.Kernel.TraceEvent>? TraceSink(string level)
    {
        if (!string.Equals(level, "DEBUG", StringComparison.OrdinalIgnoreCase)) return null;
        var log = Log.ForContext("LogSource", "kernel");
        return e =>
        {
            var properties = log.ForContext("Event", e.Name).ForContext("TimeUs", (long)e.Time.TotalMicroseconds);
            foreach (var field in e.Fields.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = field.IndexOf('=');
                if (eq > 0) properties = properties.ForContext(field[..eq], field[(eq + 1)..]);
            }
            properties.Debug("{Event} {Fields}", e.Name, e.Fields);
        };
    }

    /// <summary>The Akka side: Serilog as the logger, at the scenario's level.</summary>
    public static Config AkkaConfig(string level) => ConfigurationFactory.ParseString($$"""
        akka {
          loglevel = {{level}}
          stdout-loglevel = OFF
          loggers = ["Akka.Logger.Serilog.SerilogLogger, Akka.Logger.Serilog"]
          logger-formatter = "Akka.Logger.Serilog.SerilogLogMessageFormatter, Akka.Logger.Serilog"
          log-dead-letters = 0
          log-config-on-start = off
        }
        """);
}

using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;
using Serilog;
using Serilog.Events;

namespace ActorNuma.Simulation;

/// <summary>Logging through Serilog, one logger per actor system: the system is created with a
/// <see cref="SerilogSetup"/> naming its logger (a test passes one that captures), and <see cref="SystemSerilogLogger"/>,
/// Akka's logger actor in that system, writes the system's events there. Without one, a run logs to
/// <see cref="ConsoleLogger"/>: the console's standard error, so that standard output carries only what the run reports,
/// with every structured property (Node, Pfn, Task, ...) shown. <see cref="CloseAndFlush"/> flushes it on exit.</summary>
public static class Logging
{
    /// <summary>The console's template: time, level, source, message, then the event's other properties as JSON.</summary>
    public const string ConsoleTemplate =
        "[{Timestamp:HH:mm:ss.fff} {Level:u3}] [{LogSource}] {Message:lj} {Properties:j}{NewLine}{Exception}";

    private static readonly Lazy<Serilog.Core.Logger> Console = new(() => new LoggerConfiguration()
        .MinimumLevel.Verbose()
        .WriteTo.Console(outputTemplate: ConsoleTemplate, standardErrorFromLevel: LogEventLevel.Verbose)
        .CreateLogger());

    /// <summary>Where a system created without a logger of its own logs.</summary>
    public static ILogger ConsoleLogger => Console.Value;

    /// <summary>Flushes and closes the console logger, if anything used it (the CLI calls this on exit).</summary>
    public static void CloseAndFlush()
    {
        if (Console.IsValueCreated)
        {
            Console.Value.Dispose();
        }
    }

    /// <summary>An actor system whose Akka log goes to <paramref name="logger"/> (null: <see cref="ConsoleLogger"/>) at
    /// <paramref name="level"/>.</summary>
    public static ActorSystem CreateSystem(string name, Config config, string level, ILogger? logger = null) =>
        ActorSystem.Create(name, BootstrapSetup.Create().WithConfig(config.WithFallback(AkkaConfig(level)))
            .And(new SerilogSetup(logger ?? ConsoleLogger)));

    /// <summary>Asks the system's logger actor to answer once it has written every event logged before this call.</summary>
    public sealed record FlushRequest
    {
        public static readonly FlushRequest Instance = new();
    }

    /// <summary>The logger's answer to <see cref="FlushRequest"/>.</summary>
    public sealed record Flushed
    {
        public static readonly Flushed Instance = new();
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until the logger of <paramref name="system"/> has written every
    /// event logged so far. A logged event waits in the logger actor's mailbox, and terminating the system stops the
    /// actor without it (a stop is a system message, handled before the mailbox's other messages), so a run calls this
    /// before it terminates its system, or the warnings of its last instants were lost.</summary>
    public static void Flush(ActorSystem system, TimeSpan timeout)
    {
        try
        {
            system.ActorSelection("/system/log*").Ask<Flushed>(FlushRequest.Instance, timeout).Wait(timeout);
        }
        catch (AggregateException e) when (e.InnerException is AskTimeoutException or TaskCanceledException)
        {
            // A logger that does not answer in time: the run's own results do not depend on its log.
        }
    }

    /// <summary>The logger of <paramref name="system"/>.</summary>
    public static ILogger Of(ActorSystem system) =>
        system.Settings.Setup.Get<SerilogSetup>().Value?.Logger ?? ConsoleLogger;

    /// <summary>At DEBUG, every kernel trace event also goes to <paramref name="logger"/> as a structured event: its name,
    /// the virtual time, and each <c>key=value</c> of its fields (node, pfn, task, ...) as a property.</summary>
    public static Action<ActorNuma.Kernel.TraceEvent>? TraceSink(ILogger logger, string level)
    {
        if (!string.Equals(level, "DEBUG", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var log = logger.ForContext("LogSource", "kernel");
        return e =>
        {
            var properties = log.ForContext("Event", e.Name).ForContext("TimeUs", (long)e.Time.TotalMicroseconds);
            foreach (var field in e.Fields.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = field.IndexOf('=');
                if (eq > 0)
                {
                    properties = properties.ForContext(field[..eq], field[(eq + 1)..]);
                }
            }
            properties.Debug("{Event} {Fields}", e.Name, e.Fields);
        };
    }

    /// <summary>The Akka side: <see cref="SystemSerilogLogger"/> as the logger, at the scenario's level; messages keep
    /// Serilog's named holes (<c>{Task}</c>), which become properties.</summary>
    public static Config AkkaConfig(string level) => ConfigurationFactory.ParseString($$"""
        akka {
          loglevel = {{level}}
          stdout-loglevel = OFF
          loggers = ["{{typeof(SystemSerilogLogger).FullName}}, {{typeof(SystemSerilogLogger).Assembly.GetName().Name}}"]
          logger-formatter = "Akka.Logger.Serilog.SerilogLogMessageFormatter, Akka.Logger.Serilog"
          log-dead-letters = 0
          log-config-on-start = off
        }
        """);
}

/// <summary>The Serilog logger of one actor system, given at its creation (<see cref="Logging.CreateSystem"/>).</summary>
public sealed class SerilogSetup(ILogger logger) : Setup
{
    public ILogger Logger { get; } = logger;
}

/// <summary>Akka's logger actor for a system created by <see cref="Logging.CreateSystem"/>: writes each Akka log event to
/// that system's Serilog logger, with the message's named holes as properties and the event's source, actor path and
/// thread (LogSource, the actor's path, and Thread).</summary>
public sealed class SystemSerilogLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public SystemSerilogLogger()
    {
        var logger = Logging.Of(Context.System);
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        // Behind every event already in the mailbox: see Logging.Flush.
        Receive<Logging.FlushRequest>(_ => Sender.Tell(Logging.Flushed.Instance));
        Receive<Akka.Event.LogEvent>(e => Write(logger, e));
    }

    private static void Write(ILogger logger, Akka.Event.LogEvent e)
    {
        var level = e.LogLevel() switch
        {
            LogLevel.DebugLevel => LogEventLevel.Debug,
            LogLevel.InfoLevel => LogEventLevel.Information,
            LogLevel.WarningLevel => LogEventLevel.Warning,
            _ => LogEventLevel.Error,
        };
        var log = logger
            .ForContext("LogSource", e.LogSource)
            .ForContext("Thread", e.Thread.ManagedThreadId.ToString("0000", System.Globalization.CultureInfo.InvariantCulture));
        var exception = e.Cause;
        if (e.Message is LogMessage m)
        {
            log.Write(level, exception, m.Format, m.Parameters().ToArray());
        }
        else
        {
            log.Write(level, exception, "{Message:l}", e.Message);
        }
    }
}

using System.Collections.Concurrent;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Tests.Kernel;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace ActorNuma.Simulation.Tests.Run;

/// <summary>Each run logs to the Serilog logger of its own actor system: a test gives a run a logger that captures, and
/// sees the Akka log and the kernel trace of that run there, with their structured properties; the console's template
/// shows those properties.</summary>
[Trait("kind", "unit")]
public sealed class LoggingTests
{
    private sealed class Capture : ILogEventSink
    {
        public ConcurrentQueue<LogEvent> Events { get; } = new();
        public void Emit(LogEvent logEvent) => Events.Enqueue(logEvent);
    }

    private static (ILogger, Capture) Capturing()
    {
        var capture = new Capture();
        return (new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(capture).CreateLogger(), capture);
    }

    private static string? Property(LogEvent e, string name) =>
        e.Properties.TryGetValue(name, out var v) ? (v as ScalarValue)?.Value?.ToString() : null;

    [Fact]
    public void At_debug_a_runs_kernel_trace_goes_to_its_own_logger_with_each_field_a_property()
    {
        var (logger, capture) = Capturing();
        var scenario = ScenarioRun.Load("migrate-own-pagevec.conf");
        scenario = scenario with { Machine = scenario.Machine with { LogLevel = "DEBUG" } };

        var report = ScenarioRunner.Run(scenario, new RunOptions { Logger = logger, TraceKeep = 0 });

        var migrations = capture.Events.Where(e => Property(e, "Event") == "mm_migrate_pages").ToList();
        Assert.NotEmpty(migrations);
        Assert.All(migrations, e => Assert.Equal("kernel", Property(e, "LogSource")));
        Assert.Equal(report.TraceEvents, capture.Events.Count(e => Property(e, "LogSource") == "kernel"));
        Assert.NotNull(Property(migrations[0], "scanned"));
    }

    [Fact]
    public void A_kernel_actors_warning_goes_to_its_systems_logger_with_the_messages_holes_as_properties()
    {
        var (logger, capture) = Capturing();
        var scenario = ScenarioRun.Load("reclaim-oom-self.conf");

        var report = ScenarioRunner.Run(scenario, new RunOptions { Logger = logger, TraceKeep = 0 });

        // The Akka log reaches the logger actor asynchronously; the run flushes it (Logging.Flush) before it terminates
        // its system, which would stop the logger with the event still in its mailbox (CI lost it so once).
        Assert.Equal(1, report.Vmstat["emu_oom_kill"]);
        Assert.True(capture.Events.Any(IsKill),
            $"no OOM kill in the run's log: {string.Join(" | ", capture.Events.Select(e => e.RenderMessage()))}");
        var kill = capture.Events.First(IsKill);
        Assert.Equal(LogEventLevel.Warning, kill.Level);
        Assert.Equal("big", Property(kill, "Name"));
        Assert.Contains("/user/kernel/task", Property(kill, "LogSource"));

        static bool IsKill(LogEvent e) => e.MessageTemplate.Text.StartsWith("VM: killing process", StringComparison.Ordinal);
    }

    [Fact]
    public void The_console_template_shows_the_properties_the_message_does_not()
    {
        var formatter = new MessageTemplateTextFormatter(Logging.ConsoleTemplate);
        var e = new LogEvent(new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero), LogEventLevel.Warning, null,
            new Serilog.Parsing.MessageTemplateParser().Parse("isolate_lru_page failed for task {Task}"),
            [new LogEventProperty("Task", new ScalarValue(3)), new LogEventProperty("Pfn", new ScalarValue(17)),
             new LogEventProperty("LogSource", new ScalarValue("akka://actornuma/user/kernel/task3"))]);
        var text = new StringWriter();

        formatter.Format(e, text);

        Assert.Equal("[00:00:00.000 WRN] [akka://actornuma/user/kernel/task3] isolate_lru_page failed for task 3 {\"Pfn\":17}",
            text.ToString().TrimEnd());
    }
}

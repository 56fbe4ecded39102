using System.Globalization;
using System.Text.RegularExpressions;
using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Explore;

/// <summary>
/// A replayed schedule's events in ftrace's text layout (<c>task-pid [cpu] timestamp: event: fields</c>), so that a
/// kernel engineer's trace scripts read it: every kernel trace event (<c>mm_vmscan_lru_isolate</c>,
/// <c>mm_migrate_pages</c>, <c>mm_vmscan_kswapd_wake</c>, <c>mm_vmscan_writepage</c>, ...) and, from the delivered
/// messages, the page faults (<c>page_fault_user</c>) and swap I/O submissions (<c>swap_writepage</c>,
/// <c>swap_readpage</c>, as mm/page_io.c names them).
/// </summary>
/// <remarks>
/// An event belongs to the context the kernel would run it in: a task's syscall or fault, or kswapd, including the work
/// a node or the swap device does on its behalf (the message that started the work was sent, directly or through
/// others, from that task's or kswapd's handling); work started by an I/O completion or the runner is
/// <c>&lt;idle&gt;-0</c>, as an interrupt would be. The CPU is the task's (it follows <c>sched_migrate_task</c>) or the
/// first of kswapd's node. Timestamps are virtual time in seconds. Reading a page that was never written maps the zero
/// page inside the task without a message, so those read faults do not appear.
/// </remarks>
public static partial class KernelStyleTrace
{
    public const string Idle = "<idle>-0";

    /// <summary>One line of the trace, before formatting.</summary>
    public readonly record struct Line(string Task, int Cpu, TimeSpan Time, string Event, string Fields)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"{Task,22} [{Cpu:D3}] {Time.TotalSeconds,12:F6}: {Event}: {Fields}");
    }

    public static IReadOnlyList<string> Write(IReadOnlyList<TraceEvent> events, IReadOnlyList<Delivery> deliveries)
    {
        var lines = new List<string>
        {
            "# tracer: nop",
            "#",
            "# actornuma replay: kernel trace events and, from the delivered messages, faults and swap I/O; virtual time",
            "#",
            "#                  TASK-PID   CPU#    TIMESTAMP  FUNCTION",
            "#                     | |       |         |         |",
        };
        lines.AddRange(Lines(events, deliveries).Select(l => l.ToString()));
        return lines;
    }

    public static IReadOnlyList<Line> Lines(IReadOnlyList<TraceEvent> events, IReadOnlyList<Delivery> deliveries)
    {
        var lines = new List<Line>();
        Walk(events, deliveries, lines.Add, (delivery, task, cpu) =>
        {
            foreach (var (name, fields) in Derived(delivery.Payload))
            {
                lines.Add(new Line(task, cpu, delivery.Time, name, fields));
            }
        });
        return lines;
    }

    /// <summary>The CPU of each delivery's step whose context is a task or kswapd (the steps of no context are left out).</summary>
    public static Dictionary<long, int> ContextCpus(IReadOnlyList<TraceEvent> events, IReadOnlyList<Delivery> deliveries)
    {
        var cpus = new Dictionary<long, int>();
        Walk(events, deliveries, _ => { }, (delivery, task, cpu) =>
        {
            if (task != Idle)
            {
                cpus[delivery.Step] = cpu;
            }
        });
        return cpus;
    }

    /// <summary>Goes through the kernel events and the deliveries in the order they happened, each kernel event in the
    /// context of the delivery whose handling emitted it.</summary>
    private static void Walk(IReadOnlyList<TraceEvent> events, IReadOnlyList<Delivery> deliveries, Action<Line> kernelEvent,
        Action<Delivery, string, int> delivered)
    {
        var contexts = Contexts(deliveries);
        var who = new Who();
        var e = 0;
        void KernelEventsUpTo(long seq, string context)
        {
            for (; e < events.Count && events[e].Seq <= seq; e++)
            {
                who.See(events[e]);
                var (task, cpu) = who.Of(context);
                kernelEvent(new Line(task, cpu, events[e].Time, events[e].Name, events[e].Fields));
            }
        }
        for (var d = 0; d < deliveries.Count; d++)
        {
            var delivery = deliveries[d];
            KernelEventsUpTo(delivery.TraceSeq, d == 0 ? "-" : contexts[deliveries[d - 1].Step]);
            var (task, cpu) = who.Of(contexts[delivery.Step]);
            delivered(delivery, task, cpu);
        }
        KernelEventsUpTo(long.MaxValue, deliveries.Count == 0 ? "-" : contexts[deliveries[^1].Step]);
    }

    /// <summary>The context of each delivery's step: a task or kswapd runs its own messages; anything else runs in the
    /// context of the step that sent the message, or none ("-") when the runner or a timer sent it.</summary>
    public static Dictionary<long, string> Contexts(IReadOnlyList<Delivery> deliveries)
    {
        var contexts = new Dictionary<long, string>();
        foreach (var d in deliveries)
        {
            contexts[d.Step] = IsContext(d.Receiver) ? d.Receiver
                : d.SendStep > 0 && contexts.TryGetValue(d.SendStep, out var c) ? c : "-";
        }

        return contexts;
    }

    private static bool IsContext(string actor) =>
        actor.StartsWith("task", StringComparison.Ordinal) || actor.StartsWith("kswapd", StringComparison.Ordinal);

    /// <summary>Faults and swap I/O a message starts, one event per page (the kernel describes its own messages, which
    /// are internal to it).</summary>
    public static IEnumerable<(string Name, string Fields)> Derived(object message) => KernelMessageEvents.Derived(message);

    /// <summary>Names and CPUs of the contexts, learnt from the trace as it goes (task_new, sched_migrate_task, boot).</summary>
    private sealed partial class Who
    {
        private readonly Dictionary<int, (string Name, int Cpu)> _tasks = new();
        private int _cpusPerNode = 1;

        public void See(TraceEvent e)
        {
            switch (e.Name)
            {
                case "boot" when Field(e.Fields, "nodes") is { } nodes && Field(e.Fields, "cpus") is { } cpus && nodes > 0:
                    _cpusPerNode = Math.Max(1, cpus / nodes);
                    break;
                case "task_new" when Field(e.Fields, "pid") is { } pid && Field(e.Fields, "cpu") is { } cpu:
                    _tasks[pid] = (NameField().Match(e.Fields) is { Success: true } m ? m.Groups[1].Value : $"task{pid}", cpu);
                    break;
                case "sched_migrate_task" when Field(e.Fields, "task") is { } pid && Field(e.Fields, "dest_cpu") is { } cpu
                                               && _tasks.TryGetValue(pid, out var t):
                    _tasks[pid] = (t.Name, cpu);
                    break;
            }
        }

        public (string Task, int Cpu) Of(string context)
        {
            if (context.StartsWith("task", StringComparison.Ordinal) && int.TryParse(context.AsSpan(4), CultureInfo.InvariantCulture, out var pid))
            {
                return _tasks.TryGetValue(pid, out var t) ? ($"{t.Name}-{pid}", t.Cpu) : ($"{context}-{pid}", 0);
            }

            if (context.StartsWith("kswapd", StringComparison.Ordinal) && int.TryParse(context.AsSpan(6), CultureInfo.InvariantCulture, out var node))
            {
                return ($"{context}-{KswapdPidBase + node}", node * _cpusPerNode);
            }

            return (Idle, 0);
        }

        private static int? Field(string fields, string name)
        {
            var m = Regex.Match(fields, $@"(?:^| ){name}=(\d+)");
            return m.Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
        }

        [GeneratedRegex(@"(?:^| )name=(\S+)")]
        private static partial Regex NameField();
    }

    /// <summary>kswapd's pid in the trace: above any task's (the machine gives tasks pids from 1).</summary>
    public const int KswapdPidBase = 10_000;
}

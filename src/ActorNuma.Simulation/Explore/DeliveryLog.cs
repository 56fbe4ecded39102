using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Akka.Actor;
using Akka.Actor.Internal;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;
using ActorNuma.Kernel;
using ActorNuma.Simulation.Scheduling;

namespace ActorNuma.Simulation.Explore;

/// <summary>One message an actor took from its mailbox during a deterministic run.</summary>
/// <param name="Step">The scheduler step (1-based mailbox run) that delivered it.</param>
/// <param name="Time">Virtual time of the delivery.</param>
/// <param name="SendStep">The step during which it was sent (0: sent by the runner before any step, or a timer).</param>
/// <param name="Sender">The actor that was running when it was sent ("-" outside an actor: the runner or a timer).</param>
/// <param name="Receiver">The actor that received it.</param>
/// <param name="Message">The message object (a replay keeps it to tell the kind of event).</param>
/// <param name="TraceSeq">Kernel trace events emitted before the delivery: the events of its handling follow.</param>
public sealed record Delivery(long Step, TimeSpan Time, long SendStep, string Sender, string Receiver, object Message, long TraceSeq)
{
    /// <summary>The message's type, with the protocol class it is declared in (<c>NumaNode.AllocPages</c>).</summary>
    public string Kind => MessageText.Kind(Message);

    /// <summary>The message a timer carried, or the message itself (a kernel timer and Akka's timers wrap theirs).</summary>
    public object Payload => MessageText.Unwrap(Message);

    /// <summary>One line: step, virtual time, sender → receiver, message and its fields, pfns and PTE addresses.</summary>
    public override string ToString()
    {
        var line = new StringBuilder();
        line.Append(CultureInfo.InvariantCulture, $"{Step,7} {Time.TotalMilliseconds,12:F3}ms sent@{SendStep,-7} {Sender} -> {Receiver}: {Kind} {MessageText.Fields(Message)}");
        var (pfns, vpns) = MessageText.Pages(Message);
        if (pfns.Count > 0)
        {
            line.Append(" | pfn=").Append(MessageText.List(pfns, p => p.ToString(CultureInfo.InvariantCulture)));
        }

        if (vpns.Count > 0)
        {
            line.Append(" | pte=").Append(MessageText.List(vpns, v => $"0x{(ulong)v << 12:x}"));
        }

        return line.ToString();
    }
}

/// <summary>
/// Records every message delivered to an actor of one deterministic run, for replay's message trace and timeline: a
/// mailbox of its own (<see cref="TracingMailbox"/>) notes, per queued message, the step it was sent in and by whom, and
/// when the actor takes it out, the step, virtual time and trace position of the delivery.
/// </summary>
/// <remarks>The mailbox delegates to Akka's own unbounded queue and tells the dispatcher nothing more, so the schedule
/// (and the trace hash) is that of a run without the log: a test replays with and without it.</remarks>
public sealed class DeliveryLog
{
    private static readonly ConditionalWeakTable<ActorSystem, DeliveryLog> Logs = new();
    private readonly List<Delivery> _deliveries = new();
    private readonly Lock _gate = new();
    private DeterministicPump? _pump;
    private KernelTrace? _trace;

    public IReadOnlyList<Delivery> Deliveries { get { lock (_gate) { return _deliveries.ToArray(); } } }

    /// <summary>The config that gives every actor the tracing mailbox; layer it over the run's config.</summary>
    public static Config MailboxConfig { get; } = ConfigurationFactory.ParseString(
        $"akka.actor.default-mailbox.mailbox-type = \"{typeof(TracingMailbox).FullName}, {typeof(TracingMailbox).Assembly.GetName().Name}\"");

    /// <summary>Starts recording the actors <paramref name="system"/> creates from now on (its own system actors, created
    /// before, keep a plain queue).</summary>
    public void Attach(ActorSystem system) => Logs.AddOrUpdate(system, this);

    /// <summary>The clock and trace of the run: set once the run's machine exists, before its first actor.</summary>
    /// <remarks>Call it on the thread that pumps: only messages delivered on that thread (to the actors of the
    /// deterministic dispatcher) are recorded, not those of Akka's own actors on the pool.</remarks>
    public void Bind(DeterministicPump pump, KernelTrace trace) =>
        (_pump, _trace, _pumpThread) = (pump, trace, Environment.CurrentManagedThreadId);

    private int _pumpThread;

    internal static DeliveryLog? For(ActorSystem system) => Logs.TryGetValue(system, out var log) ? log : null;

    internal long Step => _pump?.Steps ?? 0;

    internal void Delivered(in Sent sent, IActorRef receiver, object message)
    {
        if (_pump is null || _trace is null || Environment.CurrentManagedThreadId != _pumpThread)
        {
            return;
        }

        var delivery = new Delivery(_pump.Steps, _pump.Scheduler.Elapsed, sent.Step, sent.Sender, receiver.Path.Name, message, _trace.Events);
        lock (_gate)
        {
            _deliveries.Add(delivery);
        }
    }

    internal readonly record struct Sent(long Step, string Sender);
}

/// <summary>The mailbox of a traced run: Akka's unbounded queue, with the send of each message noted beside it.</summary>
public sealed class TracingMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<TracingMessageQueue>
{
    public override IMessageQueue Create(IActorRef owner, ActorSystem system) =>
        new TracingMessageQueue(owner is null || system is null ? null : DeliveryLog.For(system), owner);
}

/// <summary>Akka's <see cref="UnboundedMessageQueue"/>; when a <see cref="DeliveryLog"/> records its system, a FIFO of
/// the sends beside it (a mailbox is FIFO, so the n-th message out is the n-th in).</summary>
public sealed class TracingMessageQueue(DeliveryLog? log, IActorRef? owner) : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private readonly UnboundedMessageQueue _queue = new();
    private readonly Queue<DeliveryLog.Sent> _sends = new();
    private readonly Lock _gate = new();

    public bool HasMessages => _queue.HasMessages;
    public int Count => _queue.Count;

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        if (log is not null)
        {
            var sender = InternalCurrentActorCellKeeper.Current?.Self.Path.Name ?? "-";
            lock (_gate)
            {
                _sends.Enqueue(new DeliveryLog.Sent(log.Step, sender));
                _queue.Enqueue(receiver, envelope);
            }
            return;
        }
        _queue.Enqueue(receiver, envelope);
    }

    public bool TryDequeue(out Envelope envelope)
    {
        if (log is null)
        {
            return _queue.TryDequeue(out envelope);
        }

        DeliveryLog.Sent sent;
        lock (_gate)
        {
            if (!_queue.TryDequeue(out envelope))
            {
                return false;
            }

            sent = _sends.Dequeue();
        }
        if (owner is not null)
        {
            log.Delivered(sent, owner, envelope.Message);
        }

        return true;
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters) => _queue.CleanUp(owner, deadletters);
}

/// <summary>Messages as text: their fields (arrays shortened), and the pages they name.</summary>
public static class MessageText
{
    private const int MaxItems = 8;
    private static readonly ConditionalWeakTable<Type, PropertyInfo[]> Properties = new();

    public static string Kind(object message)
    {
        var type = message.GetType();
        return type.DeclaringType is { } outer ? $"{outer.Name}.{type.Name}" : type.Name;
    }

    /// <summary><c>Token=3 Pfns=[12,13] Items=[{Vpn=65536 ...}]</c>: public properties, one level of nesting.</summary>
    public static string Fields(object message) => Format(message, depth: 0, top: true);

    private static string Format(object? value, int depth, bool top = false) => value switch
    {
        null => "null",
        string s => s,
        IActorRef r => r.Path.Name,
        IFormattable f when value.GetType().IsPrimitive || value is Enum => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable e => List(e.Cast<object?>().ToList(), x => Format(x, depth + 1)),
        _ when depth > 2 => value.ToString() ?? "",
        _ => Record(value, depth, top),
    };

    private static string Record(object value, int depth, bool top)
    {
        var props = PropertiesOf(value.GetType());
        if (props.Length == 0)
        {
            return top ? "" : value.ToString() ?? "";
        }

        var text = string.Join(" ", props.Select(p => $"{p.Name}={Format(p.GetValue(value), depth + 1)}"));
        return top ? text : "{" + text + "}";
    }

    private static PropertyInfo[] PropertiesOf(Type type) => Properties.GetValue(type, t =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract").ToArray());

    /// <summary>The message inside a timer's envelope (a type named ...Timer... with a Message or Msg property).</summary>
    public static object Unwrap(object message)
    {
        while (message.GetType().Name.Contains("Timer", StringComparison.Ordinal)
               && PropertiesOf(message.GetType()).FirstOrDefault(p => p.Name is "Message" or "Msg") is { } inner
               && inner.GetValue(message) is { } payload)
        {
            message = payload;
        }

        return message;
    }

    /// <summary><c>[1,2,3,…+5]</c>: at most eight items, then how many more.</summary>
    public static string List<T>(IReadOnlyList<T> items, Func<T, string> format)
    {
        var shown = string.Join(",", items.Take(MaxItems).Select(format));
        return items.Count > MaxItems ? $"[{shown},…+{items.Count - MaxItems}]" : $"[{shown}]";
    }

    /// <summary>Every pfn and virtual page number the message names: properties called Pfn/Pfns and Vpn/Vpns, at the
    /// top or in the items of an array.</summary>
    public static (IReadOnlyList<int> Pfns, IReadOnlyList<uint> Vpns) Pages(object message)
    {
        var pfns = new List<int>();
        var vpns = new List<uint>();
        void Collect(object o, int depth)
        {
            foreach (var p in PropertiesOf(o.GetType()))
            {
                var v = p.GetValue(o);
                switch (p.Name, v)
                {
                    case ("Pfn", int pfn): pfns.Add(pfn); break;
                    case ("Pfns", int[] many): pfns.AddRange(many); break;
                    case ("Vpn", uint vpn): vpns.Add(vpn); break;
                    case ("Vpns", uint[] many): vpns.AddRange(many); break;
                    case (_, Array items) when depth == 0 && items.GetType().GetElementType() is { IsPrimitive: false } element && element != typeof(string):
                        foreach (var item in items)
                        {
                            if (item is not null)
                            {
                                Collect(item, depth + 1);
                            }
                        }

                        break;
                }
            }
        }
        Collect(message, 0);
        return (pfns, vpns);
    }
}

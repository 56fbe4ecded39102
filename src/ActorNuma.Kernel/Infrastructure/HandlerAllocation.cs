namespace ActorNuma.Kernel;

/// <summary>Bytes the kernel actors allocate, by actor type and message type: each handler's own allocation, measured
/// on the thread that ran it (<see cref="GC.GetAllocatedBytesForCurrentThread"/> before and after), so the figure is
/// exact in either run mode and includes everything the handler started synchronously (a reply handled by a callback
/// counts against the message that delivered it). Set it on <see cref="KernelMachine.Allocation"/> before boot; a
/// machine without one pays nothing for it. A benchmark reads it to say where a page's allocation goes.</summary>
public sealed class HandlerAllocation
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(Type Actor, Type Message), (long Bytes, long Messages)> _byHandler = new();

    internal void Add(Type actor, Type message, long bytes)
    {
        lock (_gate)
        {
            var (b, n) = _byHandler.GetValueOrDefault((actor, message));
            _byHandler[(actor, message)] = (b + bytes, n + 1);
        }
    }

    /// <summary>Every handler that ran, with the bytes it allocated and the messages it handled, most bytes first (then
    /// by name, so equal figures list in a fixed order).</summary>
    public IReadOnlyList<HandlerBytes> Snapshot()
    {
        lock (_gate)
        {
            return _byHandler
                .Select(kv => new HandlerBytes(kv.Key.Actor.Name, kv.Key.Message.Name, kv.Value.Bytes, kv.Value.Messages))
                .OrderByDescending(h => h.Bytes).ThenBy(h => h.Actor, StringComparer.Ordinal).ThenBy(h => h.Message, StringComparer.Ordinal)
                .ToArray();
        }
    }

    /// <summary>All bytes the handlers allocated.</summary>
    public long Total
    {
        get
        {
            lock (_gate)
            {
                return _byHandler.Values.Sum(v => v.Bytes);
            }
        }
    }
}

/// <summary>What one handler (an actor type's handling of one message type) allocated over the messages it handled.</summary>
public readonly record struct HandlerBytes(string Actor, string Message, long Bytes, long Messages);

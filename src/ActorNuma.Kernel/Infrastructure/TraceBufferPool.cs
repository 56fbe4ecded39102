using System.Text;

namespace ActorNuma.Kernel;

/// <summary>Spare hash buffers of the process's <see cref="KernelTrace"/>s. A machine lives for one run (every benchmark
/// run, every schedule of an exploration, every test boots a fresh one), and a trace that took its buffers fresh
/// allocated its 128K-character buffers again each time, a large-object allocation apiece; a trace takes its buffers
/// from here and gives them back once hashed, so the next machine finds them. At most <see cref="MaxKept"/> are kept:
/// the traces that run at once each hold one they append to and the few that wait for the hashing task.</summary>
internal sealed class TraceBufferPool(int maxKept)
{
    /// <summary>The pool every trace uses.</summary>
    public static TraceBufferPool Shared { get; } = new(maxKept: 20);

    public int MaxKept { get; } = maxKept;

    private readonly Lock _gate = new();
    private readonly List<StringBuilder> _spare = new();

    /// <summary>Buffers kept now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _spare.Count;
            }
        }
    }

    /// <summary>An empty buffer of at least <paramref name="chars"/> capacity: a kept one if one is large enough
    /// (the most recently returned first), else a new one of exactly that capacity.</summary>
    public StringBuilder Rent(int chars)
    {
        lock (_gate)
        {
            for (var k = _spare.Count - 1; k >= 0; k--)
            {
                if (_spare[k].Capacity >= chars)
                {
                    var buffer = _spare[k];
                    _spare.RemoveAt(k);
                    return buffer;
                }
            }
        }

        return new StringBuilder(chars);
    }

    /// <summary>Takes back a buffer its trace is done with (it is emptied here); beyond <see cref="MaxKept"/> it is
    /// left to the collector.</summary>
    public void Return(StringBuilder buffer)
    {
        buffer.Clear();
        lock (_gate)
        {
            if (_spare.Count < MaxKept)
            {
                _spare.Add(buffer);
            }
        }
    }
}

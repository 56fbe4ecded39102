namespace ActorNuma.Kernel;

/// <summary>Spare event segments of the process's <see cref="KernelTrace"/>s. A machine lives for one run (every
/// benchmark run, every schedule of an exploration, every test boots a fresh one), and a trace that made its segments
/// fresh would allocate them again each time; a trace takes its segments from here and gives them back once hashed,
/// so the next machine finds them. At most <see cref="MaxKept"/> are kept: the traces that run at once each hold one
/// they append to and the few that wait for the hashing task.</summary>
internal sealed class TraceSegmentPool(int maxKept)
{
    /// <summary>The pool every trace uses.</summary>
    public static TraceSegmentPool Shared { get; } = new(maxKept: 20);

    public int MaxKept { get; } = maxKept;

    private readonly Lock _gate = new();
    private readonly List<TraceSegment> _spare = new();

    /// <summary>Segments kept now.</summary>
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

    /// <summary>An empty segment of at least <paramref name="entries"/> entries and <paramref name="chars"/> characters
    /// of text: a kept one if one is large enough (the most recently returned first), else a new one of exactly that
    /// size.</summary>
    public TraceSegment Rent(int entries, int chars)
    {
        lock (_gate)
        {
            for (var k = _spare.Count - 1; k >= 0; k--)
            {
                if (_spare[k].Entries.Length >= entries && _spare[k].Text.Length >= chars)
                {
                    var segment = _spare[k];
                    _spare.RemoveAt(k);
                    return segment;
                }
            }
        }

        return new TraceSegment(entries, chars);
    }

    /// <summary>Takes back a segment its trace is done with (it is emptied here); beyond <see cref="MaxKept"/>, or
    /// when its text grew for one huge field, it is left to the collector.</summary>
    public void Return(TraceSegment segment)
    {
        if (segment.Grown)
        {
            return;
        }

        segment.Clear();
        lock (_gate)
        {
            if (_spare.Count < MaxKept)
            {
                _spare.Add(segment);
            }
        }
    }
}

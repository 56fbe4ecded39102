using System.Globalization;

namespace ActorNuma.Kernel;

/// <summary>The shape of a trace event whose fields are numbers in a fixed order, like a tracepoint's
/// <c>TP_printk("node=%d pfn=%lu slot=%lu")</c>: a per-page event (<c>mm_vmscan_writepage</c>) records only its numbers,
/// and its text, <c>node=1 pfn=4242 slot=17</c>, is written when the trace is hashed, off the emitting thread, or when
/// the in-memory window or a log sink wants it.</summary>
public sealed class TraceLayout
{
    private readonly string[] _prefixes;

    /// <param name="name">The event's name (<c>mm_vmscan_writepage</c>).</param>
    /// <param name="keys">Its fields' keys, in the order the text has them: one to <see cref="TraceValues.MaxValues"/>.</param>
    public TraceLayout(string name, params string[] keys)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (keys.Length is 0 or > TraceValues.MaxValues || keys.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException($"a trace layout has 1 to {TraceValues.MaxValues} non-empty keys, not [{string.Join(", ", keys)}]", nameof(keys));
        }

        Name = name;
        Keys = keys.ToArray();
        _prefixes = keys.Select((key, k) => (k == 0 ? "" : " ") + key + "=").ToArray();
        // Each value is a long: at most 20 characters ("-9223372036854775808").
        MaxFieldsLength = _prefixes.Sum(p => p.Length) + 20 * keys.Length;
    }

    public string Name { get; }
    public IReadOnlyList<string> Keys { get; }

    /// <summary>The longest text <see cref="Write"/> can give.</summary>
    internal int MaxFieldsLength { get; }

    /// <summary>The fields' text, as an interpolated <c>$"node={a} pfn={b}"</c> with the invariant culture would write
    /// it; returns its length. <paramref name="into"/> has room for <see cref="MaxFieldsLength"/>.</summary>
    internal int Write(Span<char> into, in TraceValues values)
    {
        var length = 0;
        for (var k = 0; k < _prefixes.Length; k++)
        {
            _prefixes[k].CopyTo(into[length..]);
            length += _prefixes[k].Length;
            values[k].TryFormat(into[length..], out var digits, default, CultureInfo.InvariantCulture);
            length += digits;
        }

        return length;
    }

    /// <summary>The fields' text as a string (the in-memory window's and the log's copy).</summary>
    public string Format(TraceValues values)
    {
        Span<char> text = stackalloc char[MaxFieldsLength];
        return new string(text[..Write(text, values)]);
    }
}

/// <summary>The numbers of one event of a <see cref="TraceLayout"/>, in its keys' order.</summary>
public readonly record struct TraceValues(long A, long B = 0, long C = 0)
{
    public const int MaxValues = 3;

    public long this[int k] => k switch
    {
        0 => A,
        1 => B,
        2 => C,
        _ => throw new ArgumentOutOfRangeException(nameof(k), k, $"a trace event has at most {MaxValues} values"),
    };
}

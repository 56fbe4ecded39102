using System.Text;

namespace ActorNuma.Kernel;

/// <summary>The text of the most recent trace events in a fixed ring of characters, like ftrace's ring buffer in
/// overwrite mode: an hours-long run that keeps no trace still has its last events when a checker fires. Appending
/// copies the line's characters and allocates nothing.</summary>
public sealed class TraceTail(int chars)
{
    private readonly char[] _ring = new char[Math.Max(256, chars)];
    private long _written;

    /// <summary>Copies one line (its newline included) out of <paramref name="source"/>. Called under the trace's lock.</summary>
    internal void Append(StringBuilder source, int start, int length)
    {
        if (length > _ring.Length) { start += length - _ring.Length; length = _ring.Length; }
        var at = (int)(_written % _ring.Length);
        var first = Math.Min(length, _ring.Length - at);
        source.CopyTo(start, _ring.AsSpan(at, first), first);
        if (first < length)
        {
            source.CopyTo(start + first, _ring.AsSpan(0, length - first), length - first);
        }

        _written += length;
    }

    /// <summary>The whole lines the ring holds, oldest first. Read only while no event is being emitted.</summary>
    public IReadOnlyList<string> Lines()
    {
        var held = (int)Math.Min(_written, _ring.Length);
        var start = (int)((_written - held) % _ring.Length);
        var text = new StringBuilder(held);
        text.Append(_ring, start, Math.Min(held, _ring.Length - start));
        if (start + held > _ring.Length)
        {
            text.Append(_ring, 0, start + held - _ring.Length);
        }

        var lines = text.ToString().Split('\n');
        // The first line may have lost its start to the ring's wrap (unless the ring never filled); the last is empty.
        var skipFirst = _written > _ring.Length ? 1 : 0;
        return lines.Skip(skipFirst).Take(Math.Max(0, lines.Length - 1 - skipFirst)).ToArray();
    }
}

using System.Text;

namespace ActorNuma.Kernel;

/// <summary>The text of the most recent trace events in a fixed ring of characters, like ftrace's ring buffer in
/// overwrite mode: an hours-long run that keeps no trace still has its last events when a checker fires. Appending
/// copies the line's characters and allocates nothing.</summary>
public sealed class TraceTail(int chars)
{
    private readonly char[] _ring = new char[Math.Max(256, chars)];
    private long _written;

    private KernelTrace? _trace;

    /// <summary>The trace whose lines the ring gets (set by <see cref="KernelTrace.Tail"/>).</summary>
    internal void Attach(KernelTrace trace) => _trace = trace;

    /// <summary>Copies one line (its newline included). Called as the trace hashes the line.</summary>
    internal void Append(ReadOnlySpan<char> line)
    {
        if (line.Length > _ring.Length)
        {
            line = line[^_ring.Length..];
        }

        var at = (int)(_written % _ring.Length);
        var first = Math.Min(line.Length, _ring.Length - at);
        line[..first].CopyTo(_ring.AsSpan(at));
        line[first..].CopyTo(_ring);
        _written += line.Length;
    }

    /// <summary>The whole lines the ring holds, oldest first, once the trace has hashed (and so copied here) every
    /// event emitted so far.</summary>
    public IReadOnlyList<string> Lines() => _trace is { } trace ? trace.TailLines(this) : LinesNow();

    /// <summary>The whole lines the ring holds now, oldest first. Called under the trace's hashing lock.</summary>
    internal IReadOnlyList<string> LinesNow()
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

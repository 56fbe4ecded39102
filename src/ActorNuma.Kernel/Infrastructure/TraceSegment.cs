using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ActorNuma.Kernel;

/// <summary>One recorded trace event, 40 bytes: its time, its <see cref="Head"/>, and either its numbers (the head is a
/// <see cref="TraceLayout"/>) or where its fields' text lies in the segment's <see cref="TraceSegment.Text"/> (the head
/// is its name; <see cref="Values"/>' A is the start, B the length). Its sequence number is its place in the
/// segment.</summary>
internal struct TraceEntry
{
    public long Ticks;
    /// <summary>The event's name (a string) or its layout, which names it.</summary>
    public object Head;
    public TraceValues Values;
}

/// <summary>A run of recorded events, as the emitters append them (under the trace's lock) and the hashing formats and
/// hashes them, in order, a segment at a time. The text of events recorded as text lives in <see cref="Text"/>.</summary>
internal sealed class TraceSegment(int entries, int chars)
{
    public TraceEntry[] Entries { get; } = new TraceEntry[entries];
    public int Count;
    public char[] Text = new char[chars];
    public int TextLength;
    /// <summary>The sequence number of the first entry.</summary>
    public long FirstSeq;

    /// <summary>The entries and characters of a segment for a trace asked for buffers of <paramref name="bufferChars"/>
    /// characters: 2,048 entries, and a quarter of the characters between 16 K and 32 K. Each array stays below the
    /// large-object threshold (85,000 bytes), and an explore schedule's few hundred events fit one segment, hashed at
    /// its end on the caller's thread: a segment that filled inside a schedule would hand its hashing to a pool thread
    /// and back, which cost a quarter of the schedules a second.</summary>
    public static (int Entries, int Chars) Sized(int bufferChars) => (2048, Math.Clamp(bufferChars / 4, 1 << 14, 1 << 15));

    public bool IsFull => Count == Entries.Length;

    /// <summary>Whether the text grew past the size every trace asks for (for one huge field): the pool does not keep
    /// such a segment, which would hold that memory for the life of the process.</summary>
    public bool Grown => Text.Length > Sized(int.MaxValue).Chars;

    /// <summary>Room for <paramref name="length"/> more characters of text: false when the segment holds events and
    /// the text does not fit (the caller starts a new segment); an empty segment grows its text to fit.</summary>
    public bool MakeRoom(int length)
    {
        if (Text.Length - TextLength >= length)
        {
            return true;
        }

        if (Count > 0)
        {
            return false;
        }

        Text = new char[(int)Math.Min(Array.MaxLength, Math.Max(length, Text.Length * 2L))];
        return true;
    }

    public void Clear()
    {
        Array.Clear(Entries, 0, Count);   // no names or layouts kept alive by a pooled segment
        Count = 0;
        TextLength = 0;
    }
}

/// <summary>Formats recorded events into the lines <see cref="TraceEvent.ToString"/> gives and hashes their UTF-8 bytes,
/// a segment at a time; each line also goes to the trace's tail. One segment at a time, in sequence order (the trace
/// holds its hashing lock around <see cref="Hash"/>).</summary>
internal sealed class TraceLineHasher
{
    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
    private const int BufferChars = 8192;

    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Encoder _encoder = Utf8.GetEncoder();
    // The events of one message share a time (always, on the virtual clock): its text is formatted once.
    private long _lastTicks;
    private readonly char[] _timeText = new char[32];   // TimeSpan.MinValue in ms, "-922337203685477.581", is the longest
    private int _timeLength;

    public TraceTail? Tail { get; set; }

    public byte[] Digest() => _hash.GetCurrentHash();

    /// <summary>Formats and hashes every event of <paramref name="segment"/>, into a character and a byte buffer from
    /// the shared array pools: no string, no fresh array per segment or per machine.</summary>
    public void Hash(TraceSegment segment)
    {
        var text = ArrayPool<char>.Shared.Rent(BufferChars);
        var used = 0;
        try
        {
            for (var k = 0; k < segment.Count; k++)
            {
                ref readonly var entry = ref segment.Entries[k];
                var longest = LongestLine(entry);
                if (text.Length - used < longest)
                {
                    Put(text, used);
                    used = 0;
                    if (text.Length < longest)
                    {
                        ArrayPool<char>.Shared.Return(text);
                        text = ArrayPool<char>.Shared.Rent(longest);
                    }
                }

                var length = WriteLine(text.AsSpan(used), segment.FirstSeq + k, entry, segment.Text);
                Tail?.Append(text.AsSpan(used, length));
                used += length;
            }

            Put(text, used);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(text);
        }
    }

    // seq (up to 20 digits) + ' ' + time (up to 32) + "ms " + name + ' ' + fields + '\n'
    private static int LongestLine(in TraceEntry entry)
    {
        var (name, fields) = entry.Head is TraceLayout layout
            ? (layout.Name.Length, layout.MaxFieldsLength)
            : (((string)entry.Head).Length, (int)entry.Values.B);
        return 20 + 1 + 32 + 3 + name + 1 + fields + 1;
    }

    /// <summary><c>{Seq,8} {TotalMilliseconds,12:F3}ms {Name} {Fields}\n</c>, as <see cref="TraceEvent.ToString"/>.</summary>
    private int WriteLine(Span<char> line, long seq, in TraceEntry entry, char[] text)
    {
        // {seq,8}: the digits right-aligned in eight columns (more digits take more).
        Span<char> digits = stackalloc char[20];
        seq.TryFormat(digits, out var n, default, CultureInfo.InvariantCulture);
        var at = Math.Max(0, 8 - n);
        line[..at].Fill(' ');
        digits[..n].CopyTo(line[at..]);
        at += n;
        line[at++] = ' ';
        if (entry.Ticks != _lastTicks || _timeLength == 0)
        {
            _lastTicks = entry.Ticks;
            _timeLength = KernelTrace.FormatTime(TimeSpan.FromTicks(entry.Ticks), _timeText);
        }

        _timeText.AsSpan(0, _timeLength).CopyTo(line[at..]);
        at += _timeLength;
        "ms ".CopyTo(line[at..]);
        at += 3;
        var layout = entry.Head as TraceLayout;
        var name = layout?.Name ?? (string)entry.Head;
        name.CopyTo(line[at..]);
        at += name.Length;
        line[at++] = ' ';
        if (layout is not null)
        {
            at += layout.Write(line[at..], entry.Values);
        }
        else
        {
            text.AsSpan((int)entry.Values.A, (int)entry.Values.B).CopyTo(line[at..]);
            at += (int)entry.Values.B;
        }

        line[at++] = '\n';
        return at;
    }

    /// <summary>Hashes the UTF-8 bytes of the first <paramref name="length"/> characters. The buffer ends on a line's
    /// end, so no surrogate pair is split between two calls.</summary>
    private void Put(char[] text, int length)
    {
        if (length == 0)
        {
            return;
        }

        var utf8 = ArrayPool<byte>.Shared.Rent(Utf8.GetMaxByteCount(length));
        try
        {
            var n = _encoder.GetBytes(text.AsSpan(0, length), utf8, flush: true);
            _hash.AppendData(utf8, 0, n);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }
}

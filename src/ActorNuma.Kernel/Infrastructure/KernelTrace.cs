using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace ActorNuma.Kernel;

/// <summary>One trace event: a kernel-style name (<c>mm_vmscan_lru_isolate</c>) and its fields.</summary>
public sealed record TraceEvent(long Seq, TimeSpan Time, string Name, string Fields)
{
    /// <summary>The name of the actor that emitted the event (null outside an actor): replay draws one column per
    /// actor from it. It is not part of the text, so the trace file and its hash do not depend on actor names.</summary>
    public string? Actor { get; init; }

    /// <summary>Two events are equal when their text is: which actor emitted an event is not part of it, so the same
    /// schedule gives equal snapshots whichever thread emitted each event.</summary>
    public bool Equals(TraceEvent? other) =>
        other is not null && Seq == other.Seq && Time == other.Time && Name == other.Name && Fields == other.Fields;

    public override int GetHashCode() => HashCode.Combine(Seq, Time, Name, Fields);

    // KernelTrace.AppendLine writes the same text for the hash: keep the two formats identical.
    public override string ToString() => $"{Seq,8} {Time.TotalMilliseconds,12:F3}ms {Name} {Fields}";
}

/// <summary>A kernel warning (an emulated <c>WARN_ON</c> site firing).</summary>
public sealed record KernelWarning(string Site, string Message, int Pfn);

/// <summary>The machine's trace buffer, like ftrace's ring buffer: actors append events, the run hashes and reports
/// them. In deterministic mode one thread appends, so the order (and the hash) is a function of the seed.</summary>
public sealed class KernelTrace
{
    // A System.Threading.Lock, not a plain object: every trace event takes it, and Monitor on an object fell to its
    // slow path often enough to show in profiles.
    private readonly Lock _gate = new();
    private readonly List<TraceEvent> _kept = new();
    private readonly List<KernelWarning> _warnings = new();
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Func<TimeSpan> _clock;
    private long _seq;

    /// <param name="clock">Time since boot, from the actor system's scheduler.</param>
    /// <param name="keep">How many events to keep in memory for the --trace file (all are hashed).</param>
    /// <param name="bufferChars">Initial capacity of the hash buffers. The default suits long runs; a machine that
    /// lives for one short schedule of an exploration passes a small one, because buffers above 85 KB are large-object
    /// allocations and thousands of machines a second would make every other collection a full one. The buffers come
    /// from <see cref="TraceBufferPool.Shared"/>, which may hand out larger ones.</param>
    public KernelTrace(Func<TimeSpan> clock, int keep = 100_000, int bufferChars = DefaultBufferChars)
    {
        _clock = clock;
        Keep = keep;
        _bufferChars = bufferChars;
    }

    public const int DefaultBufferChars = 1 << 17;
    private readonly int _bufferChars;

    public int Keep { get; }
    /// <summary>Time since boot on the actor system's clock (virtual in deterministic mode).</summary>
    public TimeSpan Now => _clock();
    public long Events { get { lock (_gate) { return _seq; } } }
    public bool Enabled { get; set; } = true;

    /// <summary>Also hands each event to the log (set only when the log level is DEBUG; called under the trace's
    /// lock, in trace order).</summary>
    public Action<TraceEvent>? Log { get; set; }

    public void Emit(string name, string fields)
    {
        if (!Enabled)
        {
            return;
        }

        lock (_gate)
        {
            var (seq, time) = BeginLine(name);
            Pending.Append(fields);
            EndLine(seq, time, name, fields);
        }
    }

    /// <summary>An event whose fields are an interpolated string: they are formatted into a per-thread scratch buffer
    /// (outside the lock, so a field that throws or emits an event itself leaves the trace as it was), copied into the
    /// hash buffer under the lock, and become a string only while the in-memory window keeps events or a log sink
    /// wants them. Per-page events cost no garbage.</summary>
    public void Emit(string name, [InterpolatedStringHandlerArgument("")] ref FieldsHandler fields)
    {
        if (fields.Builder is not { } scratch)
        {
            return;
        }

        lock (_gate)
        {
            var (seq, time) = BeginLine(name);
            Pending.Append(scratch);
            EndLine(seq, time, name, _kept.Count < Keep || Log is not null ? scratch.ToString() : null);
        }
        FieldsHandler.Return(scratch);
    }

    /// <summary>Formats an event's fields, when the trace is enabled, into a scratch buffer of the calling thread.</summary>
    [InterpolatedStringHandler]
    public ref struct FieldsHandler
    {
        [ThreadStatic] private static StringBuilder? _spare;
        private StringBuilder.AppendInterpolatedStringHandler _inner;

        public FieldsHandler(int literalLength, int formattedCount, KernelTrace trace, out bool shouldAppend)
        {
            shouldAppend = trace.Enabled;
            if (!shouldAppend)
            {
                return;
            }
            // An event emitted while another's fields are being formatted (on this thread) gets a buffer of its own.
            Builder = _spare ?? new StringBuilder(256);
            _spare = null;
            _inner = new StringBuilder.AppendInterpolatedStringHandler(literalLength, formattedCount, Builder, CultureInfo.InvariantCulture);
        }

        internal StringBuilder? Builder { get; }

        internal static void Return(StringBuilder scratch)
        {
            scratch.Clear();
            _spare = scratch;
        }

        public void AppendLiteral(string value) => _inner.AppendLiteral(value);
        public void AppendFormatted<T>(T value) => _inner.AppendFormatted(value);
        public void AppendFormatted<T>(T value, string? format) => _inner.AppendFormatted(value, format);
        public void AppendFormatted(string? value) => _inner.AppendFormatted(value);
    }

    /// <summary>The buffer events are appended to, taken from the pool at the first event after <see cref="Sha256"/>
    /// gave the last one back (or at the first event).</summary>
    private StringBuilder? _pending;

    private StringBuilder Pending => _pending ??= Buffers.Rent(_bufferChars);

    private static TraceBufferPool Buffers => TraceBufferPool.Shared;

    // Lines are hashed a buffer at a time: the digest is the same as hashing each line, at a fraction of the cost. The
    // line is formatted straight into the buffer (the text TraceEvent.ToString gives), and the event object exists only
    // while the in-memory window keeps events.

    /// <summary>The start of the event's line as <see cref="TraceEvent.ToString"/> writes it, up to its fields.
    /// Called under the lock.</summary>
    private (long Seq, TimeSpan Time) BeginLine(string name)
    {
        var time = _clock();
        return (BeginLine(name, time), time);
    }

    private long BeginLine(string name, TimeSpan time)
    {
        var seq = ++_seq;
        var pending = Pending;
        _lineStart = pending.Length;
        // The events of one message share a time (always, on the virtual clock): its text is formatted once, into a
        // buffer of the trace's, since on the wall clock (concurrent mode) nearly every event has a time of its own.
        if (time != _lastTime || _lastTimeLength == 0)
        {
            _lastTime = time;
            _lastTimeLength = FormatTime(time, _lastTimeText);
        }
        // {seq,8}: the digits right-aligned in eight columns (more digits take more), written without the interpolation
        // handler's alignment path.
        Span<char> digits = stackalloc char[20];
        seq.TryFormat(digits, out var n, default, CultureInfo.InvariantCulture);
        if (n < 8)
        {
            pending.Append(' ', 8 - n);
        }

        pending.Append(digits[..n]).Append(' ').Append(_lastTimeText, 0, _lastTimeLength).Append("ms ").Append(name).Append(' ');
        return seq;
    }

    private TimeSpan _lastTime;
    // TimeSpan.MinValue in milliseconds, "-922337203685477.581", is the longest text.
    private readonly char[] _lastTimeText = new char[32];
    private int _lastTimeLength;

    /// <summary>The time as <see cref="TraceEvent.ToString"/> writes it, <c>{ms,12:F3}</c>, into
    /// <paramref name="text"/>; returns its length.</summary>
    private static int FormatTime(TimeSpan time, char[] text)
    {
        var length = FormatMilliseconds(time, text);
        const int Width = 12;
        if (length >= Width)
        {
            return length;
        }

        var pad = Width - length;
        Array.Copy(text, 0, text, pad, length);
        text.AsSpan(0, pad).Fill(' ');
        return Width;
    }

    /// <summary><c>TotalMilliseconds.ToString("F3")</c>. A time that is not half-way between two microseconds and not
    /// absurdly long (under 10^11 ms) is written from its ticks with integer arithmetic: the double's error is far below
    /// the tick that separates it from the rounding boundary, so the digits are the same, without the exact decimal
    /// expansion of a double each concurrent-mode event paid for. The rest go through the double.</summary>
    internal static int FormatMilliseconds(TimeSpan time, Span<char> text)
    {
        var ticks = time.Ticks;
        if (ticks >= 0 && ticks < 1_000_000_000_000_000L && ticks % 10 != 5)
        {
            var micros = ticks / 10 + (ticks % 10 > 5 ? 1 : 0);
            var whole = micros / 1000;
            var frac = (int)(micros % 1000);
            if (whole.TryFormat(text, out var w, default, CultureInfo.InvariantCulture) && text.Length >= w + 4)
            {
                text[w] = '.';
                text[w + 1] = (char)('0' + frac / 100);
                text[w + 2] = (char)('0' + frac / 10 % 10);
                text[w + 3] = (char)('0' + frac % 10);
                return w + 4;
            }
        }

        if (!time.TotalMilliseconds.TryFormat(text, out var length, "F3", CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"trace time {time} does not fit its text buffer");
        }

        return length;
    }
    private int _lineStart;

    /// <summary>When set, every event's line is also copied into this ring (a soak's last events for its violation
    /// dump). Set before the machine boots.</summary>
    public TraceTail? Tail { get; set; }

    /// <summary>Writes the fields of event <c>k</c> of an <see cref="EmitEach{TState}"/> batch.</summary>
    public delegate void FieldsWriter<in TState>(StringBuilder fields, TState state, int k);

    /// <summary><paramref name="count"/> events of one name, as a batch handled in one message emits them (one per
    /// page, like <c>mm_vmscan_writepage</c>): under one acquisition of the lock and at one timestamp, so the events of
    /// a batch neither contend with other actors' events one by one nor interleave with them. Each line is what
    /// <see cref="Emit(string, string)"/> would write; pass a static lambda and the batch allocates nothing.</summary>
    public void EmitEach<TState>(string name, int count, TState state, FieldsWriter<TState> fields)
    {
        if (!Enabled || count == 0)
        {
            return;
        }

        lock (_gate)
        {
            var time = _clock();
            for (var k = 0; k < count; k++)
            {
                var seq = BeginLine(name, time);
                var pending = Pending;   // EndLine may hand it to the hashing and take a fresh one
                var start = pending.Length;
                fields(pending, state, k);
                EndLine(seq, time, name, _kept.Count < Keep || Log is not null ? pending.ToString(start, pending.Length - start) : null);
            }
        }
    }

    /// <summary>Ends the line whose fields are in the buffer. Called under the lock.</summary>
    private void EndLine(long seq, TimeSpan time, string name, string? fields)
    {
        var pending = Pending.Append('\n');
        Tail?.Append(pending, _lineStart, pending.Length - _lineStart);
        if (pending.Length >= 1 << 16)
        {
            FlushHash();
        }

        if (fields is null)
        {
            return;
        }

        if (_kept.Count < Keep)
        {
            _kept.Add(new TraceEvent(seq, time, name, fields) { Actor = Akka.Actor.Internal.InternalCurrentActorCellKeeper.Current?.Self.Path.Name });
        }

        Log?.Invoke(new TraceEvent(seq, time, name, fields));
    }

    // Hashing runs off the emitting threads: a full buffer goes to a queue that one pool task at a time drains in
    // order (the digest is the same as hashing inline), and the emitters carry on in a fresh buffer. In deterministic
    // mode that moves SHA-256 off the pump's thread onto the otherwise idle core.
    private readonly Lock _hashGate = new();
    private readonly Queue<StringBuilder> _toHash = new();
    private Task _hashing = Task.CompletedTask;
    private bool _hashingRuns;

    /// <summary>Held while a buffer is hashed, so that buffers are hashed one at a time and in queue order, whether by
    /// the hashing task or by a flush that catches up.</summary>
    private readonly Lock _hashWork = new();

    /// <summary>Full buffers that may wait for the hashing task; a flush that leaves more hashes them itself. Without
    /// the bound, an emitter that outran the hashing (its core busy elsewhere) took a fresh buffer for every flush while
    /// the queue grew; with it a trace holds a few, which <see cref="TraceBufferPool.Shared"/> keeps for the next
    /// machine. Sixteen ride out the pool thread's wake-ups: the task ends when the queue is empty and the next flush
    /// queues a new one, which on two busy cores can take milliseconds to start. With four, a deterministic
    /// 262,144-page migration's pump hashed buffers itself and ran at 0.42-0.91 M pages/s (median ~0.55 M); with
    /// sixteen at 0.66-0.93 M (median ~0.69 M), as with no bound at all.</summary>
    private const int MaxQueued = 16;

    /// <summary>Hands the buffer to the hashing queue. Called under the trace's lock.</summary>
    private void FlushHash()
    {
        if (_pending is not { Length: > 0 } full)
        {
            return;
        }

        int queued;
        lock (_hashGate)
        {
            _toHash.Enqueue(full);
            _pending = Buffers.Rent(_bufferChars);
            queued = _toHash.Count;
            if (!_hashingRuns)
            {
                _hashingRuns = true;
                _hashing = Task.Run(HashQueued);
            }
        }
        // Waits at most for the buffer the task is hashing now; one it has not started on is taken here.
        if (queued > MaxQueued)
        {
            while (HashNext(endsTask: false))
            {
            }
        }
    }

    private void HashQueued()
    {
        while (HashNext(endsTask: true))
        {
        }
    }

    /// <summary>Hashes the oldest queued buffer and gives it back to the pool; false when the queue is empty, which
    /// for the hashing task (<paramref name="endsTask"/>) is its end.</summary>
    private bool HashNext(bool endsTask)
    {
        StringBuilder? buffer;
        lock (_hashWork)
        {
            lock (_hashGate)
            {
                if (!_toHash.TryDequeue(out buffer))
                {
                    if (endsTask)
                    {
                        _hashingRuns = false;
                    }

                    return false;
                }
            }
            Hash(buffer);
        }
        Buffers.Return(buffer);
        return true;
    }

    /// <summary>Hashes a buffer's UTF-8 bytes chunk by chunk, into a byte buffer from the shared array pool: no string
    /// of the whole buffer, no fresh byte array per flush or per machine. The bytes (and so the digest) are those of
    /// the buffer as one string: an encoder carries a surrogate pair split across chunks. One buffer at a time: under
    /// <see cref="_hashWork"/>, or in <see cref="Sha256"/> once the hashing task has ended.</summary>
    private void Hash(StringBuilder buffer)
    {
        var longest = 0;
        foreach (var chunk in buffer.GetChunks())
        {
            longest = Math.Max(longest, chunk.Length);
        }
        // Room for the longest chunk and a surrogate the encoder carried into it, and so for the closing flush.
        var utf8 = ArrayPool<byte>.Shared.Rent(Utf8.GetMaxByteCount(longest));
        try
        {
            var encoder = _utf8Encoder;
            foreach (var chunk in buffer.GetChunks())
            {
                var n = encoder.GetBytes(chunk.Span, utf8, flush: false);
                _hash.AppendData(utf8, 0, n);
            }
            var tail = encoder.GetBytes(ReadOnlySpan<char>.Empty, utf8, flush: true);
            if (tail > 0)
            {
                _hash.AppendData(utf8, 0, tail);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(utf8);
        }
    }

    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
    private readonly Encoder _utf8Encoder = Utf8.GetEncoder();

    public void Warn(string site, string message, int pfn)
    {
        lock (_gate)
        {
            _warnings.Add(new KernelWarning(site, message, pfn));
        }

        Emit("kernel_warn", $"site={site} pfn={pfn} {message}");
    }

    public IReadOnlyList<TraceEvent> Snapshot() { lock (_gate)
        {
            return _kept.ToArray();
        }
    }
    public IReadOnlyList<KernelWarning> Warnings() { lock (_gate)
        {
            return _warnings.ToArray();
        }
    }

    /// <summary>SHA-256 over every event line so far, lowercase hex.</summary>
    public string Sha256()
    {
        lock (_gate)
        {
            // Under the trace's lock nothing is emitted or flushed, so once the task that runs now has drained the
            // queue, none will start: the last partial buffer is hashed here, on the caller's thread. A short run (an
            // explore schedule fills one buffer at most) then costs no hop to a pool thread, which on two busy cores
            // could wait milliseconds to be scheduled.
            Task hashing;
            lock (_hashGate)
            {
                hashing = _hashing;
            }

            hashing.Wait();
            // The buffer goes back to the pool: a run asks for its digest when it is done, and the next machine
            // takes the buffer from there. An event after this takes one again.
            if (_pending is { } last)
            {
                if (last.Length > 0)
                {
                    Hash(last);
                }

                Buffers.Return(last);
                _pending = null;
            }
            var copy = _hash.GetCurrentHash();
            return Convert.ToHexString(copy).ToLowerInvariant();
        }
    }
}

using System.Globalization;
using System.Runtime.CompilerServices;
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

    // TraceLineHasher.WriteLine writes the same text for the hash: keep the two formats identical.
    public override string ToString() => $"{Seq,8} {Time.TotalMilliseconds,12:F3}ms {Name} {Fields}";
}

/// <summary>A kernel warning (an emulated <c>WARN_ON</c> site firing).</summary>
public sealed record KernelWarning(string Site, string Message, int Pfn);

/// <summary>The machine's trace buffer, like ftrace's ring buffer: actors record events, the run hashes and reports
/// them. In deterministic mode one thread records, so the order (and the hash) is a function of the seed.</summary>
/// <remarks>Like ftrace, recording is cheap and text comes later: an event is recorded under the lock as its time, its
/// name and its fields (numbers, for a <see cref="TraceLayout"/>, or text), into a segment; a full segment goes to a
/// pool task that writes the events' lines and hashes them, off the emitting threads. A line becomes a string on the
/// emitting thread only while the in-memory window keeps events or a log sink wants them.</remarks>
public sealed class KernelTrace
{
    // A System.Threading.Lock, not a plain object: every trace event takes it, and Monitor on an object fell to its
    // slow path often enough to show in profiles.
    private readonly Lock _gate = new();
    private readonly List<TraceEvent> _kept = new();
    private readonly List<KernelWarning> _warnings = new();
    private readonly TraceLineHasher _hasher = new();
    private readonly Func<TimeSpan> _clock;
    private readonly int _segmentEntries;
    private readonly int _segmentChars;
    private long _seq;

    /// <param name="clock">Time since boot, from the actor system's scheduler.</param>
    /// <param name="keep">How many events to keep in memory for the --trace file (all are hashed).</param>
    /// <param name="bufferChars">How much text the trace's buffers are sized for. The default suits long runs; a
    /// machine that lives for one short schedule of an exploration passes a small one. Its segments come from
    /// <see cref="TraceSegmentPool.Shared"/>, which may hand out larger ones.</param>
    public KernelTrace(Func<TimeSpan> clock, int keep = 100_000, int bufferChars = DefaultBufferChars)
    {
        _clock = clock;
        Keep = keep;
        (_segmentEntries, _segmentChars) = TraceSegment.Sized(bufferChars);
    }

    public const int DefaultBufferChars = 1 << 17;

    public int Keep { get; }
    /// <summary>Time since boot on the actor system's clock (virtual in deterministic mode).</summary>
    public TimeSpan Now => _clock();
    public long Events { get { lock (_gate) { return _seq; } } }
    public bool Enabled { get; set; } = true;

    /// <summary>Also hands each event to the log (set only when the log level is DEBUG; called under the trace's
    /// lock, in trace order).</summary>
    public Action<TraceEvent>? Log { get; set; }

    /// <summary>When set, every event's line is also copied into this ring (a soak's last events for its violation
    /// dump), as the line is hashed; reading the ring first hashes what waits. Set before the machine boots.</summary>
    public TraceTail? Tail
    {
        get => _hasher.Tail;
        set
        {
            _hasher.Tail = value;
            value?.Attach(this);
        }
    }

    public void Emit(string name, string fields)
    {
        if (!Enabled)
        {
            return;
        }

        lock (_gate)
        {
            var time = _clock();
            var seq = RecordText(name, time, fields);
            KeepEvent(seq, time, name, fields);
        }
    }

    /// <summary>An event whose fields are an interpolated string: they are formatted into a per-thread scratch buffer
    /// (outside the lock, so a field that throws or emits an event itself leaves the trace as it was), copied into the
    /// segment under the lock, and become a string only while the in-memory window keeps events or a log sink wants
    /// them. Per-page events cost no garbage.</summary>
    public void Emit(string name, [InterpolatedStringHandlerArgument("")] ref FieldsHandler fields)
    {
        if (fields.Builder is not { } scratch)
        {
            return;
        }

        lock (_gate)
        {
            var time = _clock();
            var seq = RecordText(name, time, scratch);
            KeepEvent(seq, time, name, WantsText ? scratch.ToString() : null);
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

    /// <summary>Writes the fields of event <c>k</c> of an <see cref="EmitEach{TState}(string, int, TState, FieldsWriter{TState})"/> batch.</summary>
    public delegate void FieldsWriter<in TState>(StringBuilder fields, TState state, int k);

    /// <summary>Reads the numbers of event <c>k</c> of an <see cref="EmitEach{TState}(TraceLayout, int, TState, ValuesReader{TState})"/> batch.</summary>
    public delegate TraceValues ValuesReader<in TState>(TState state, int k);

    /// <summary><paramref name="count"/> events of one name, as a batch handled in one message emits them: under one
    /// acquisition of the lock and at one timestamp, so the events of a batch neither contend with other actors' events
    /// one by one nor interleave with them. Each line is what <see cref="Emit(string, string)"/> would write.</summary>
    public void EmitEach<TState>(string name, int count, TState state, FieldsWriter<TState> fields)
    {
        if (!Enabled || count == 0)
        {
            return;
        }

        lock (_gate)
        {
            var time = _clock();
            var scratch = _eachScratch ??= new StringBuilder(256);
            for (var k = 0; k < count; k++)
            {
                scratch.Clear();
                fields(scratch, state, k);
                var seq = RecordText(name, time, scratch);
                KeepEvent(seq, time, name, WantsText ? scratch.ToString() : null);
            }
        }
    }

    private StringBuilder? _eachScratch;

    /// <summary><paramref name="count"/> events of one layout, one per page (<c>mm_vmscan_writepage</c>), batched as
    /// <see cref="EmitEach{TState}(string, int, TState, FieldsWriter{TState})"/> batches them. Each is recorded as its
    /// numbers, read when it is emitted, and written as text when it is hashed: pass a static lambda and the batch
    /// neither allocates nor formats on the emitting thread.</summary>
    public void EmitEach<TState>(TraceLayout layout, int count, TState state, ValuesReader<TState> values)
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
                var read = values(state, k);
                ref var entry = ref Record(layout, time);
                entry.Values = read;
                if (WantsText)
                {
                    KeepEvent(_seq, time, layout.Name, layout.Format(read));
                }
            }
        }
    }

    /// <summary>Whether an event's fields are wanted as a string now. Called under the lock.</summary>
    private bool WantsText => _kept.Count < Keep || Log is not null;

    /// <summary>The segment events are recorded into, taken from the pool at the first event after <see cref="Sha256"/>
    /// gave the last one back (or at the first event).</summary>
    private TraceSegment? _pending;

    private static TraceSegmentPool Segments => TraceSegmentPool.Shared;

    /// <summary>Records the next event (its head: its name, or its layout) and returns its entry for the caller to fill
    /// in; a segment that is full, or whose text has no room for <paramref name="text"/> more characters, goes to the
    /// hashing first. Called under the lock.</summary>
    private ref TraceEntry Record(object head, TimeSpan time, int text = 0)
    {
        // A null name or layout would break the line's formatting on the hashing task, after the event was counted.
        ArgumentNullException.ThrowIfNull(head);
        var segment = _pending ??= Segments.Rent(_segmentEntries, _segmentChars);
        if (segment.IsFull || !segment.MakeRoom(text))
        {
            FlushHash();
            segment = _pending!;
            segment.MakeRoom(text);
        }

        if (segment.Count == 0)
        {
            segment.FirstSeq = _seq + 1;
        }

        _seq++;
        ref var entry = ref segment.Entries[segment.Count++];
        entry.Ticks = time.Ticks;
        entry.Head = head;
        return ref entry;
    }

    /// <summary>Records an event whose fields are text; returns its sequence number. Called under the lock.</summary>
    private long RecordText(string name, TimeSpan time, ReadOnlySpan<char> fields)
    {
        fields.CopyTo(ReserveText(name, time, fields.Length));
        return _seq;
    }

    private long RecordText(string name, TimeSpan time, StringBuilder fields)
    {
        fields.CopyTo(0, ReserveText(name, time, fields.Length), fields.Length);
        return _seq;
    }

    /// <summary>Records the next event with <paramref name="length"/> characters of fields' text and returns where the
    /// caller writes them.</summary>
    private Span<char> ReserveText(string name, TimeSpan time, int length)
    {
        ref var entry = ref Record(name, time, length);
        var segment = _pending!;
        entry.Values = new TraceValues(segment.TextLength, length);
        segment.TextLength += length;
        return segment.Text.AsSpan(segment.TextLength - length, length);
    }

    /// <summary>Keeps the event in the in-memory window and hands it to the log, when they want it. Called under the
    /// lock.</summary>
    private void KeepEvent(long seq, TimeSpan time, string name, string? fields)
    {
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

    /// <summary>The time as <see cref="TraceEvent.ToString"/> writes it, <c>{ms,12:F3}</c>, into
    /// <paramref name="text"/>; returns its length.</summary>
    internal static int FormatTime(TimeSpan time, char[] text)
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

    // Hashing runs off the emitting threads: a full segment goes to a queue that one pool task at a time drains in
    // order (the digest is the same as hashing inline), and the emitters carry on in a fresh segment. In deterministic
    // mode that moves the lines' formatting and SHA-256 off the pump's thread onto the otherwise idle core.
    private readonly Lock _hashGate = new();
    private readonly Queue<TraceSegment> _toHash = new();
    private Task _hashing = Task.CompletedTask;
    private bool _hashingRuns;

    /// <summary>Held while a segment is hashed, so that segments are hashed one at a time and in queue order, whether by
    /// the hashing task or by a flush that catches up.</summary>
    private readonly Lock _hashWork = new();

    /// <summary>Full segments that may wait for the hashing task; a flush that leaves more hashes them itself. Without
    /// the bound, an emitter that outran the hashing (its core busy elsewhere) took a fresh segment for every flush while
    /// the queue grew; with it a trace holds a few, which <see cref="TraceSegmentPool.Shared"/> keeps for the next
    /// machine. Sixteen ride out the pool thread's wake-ups: the task ends when the queue is empty and the next flush
    /// queues a new one, which on two busy cores can take milliseconds to start. With four, a deterministic
    /// 262,144-page migration's pump hashed buffers itself and ran at 0.42-0.91 M pages/s (median ~0.55 M); with
    /// sixteen at 0.66-0.93 M (median ~0.69 M), as with no bound at all.</summary>
    private const int MaxQueued = 16;

    /// <summary>Hands the segment to the hashing queue and takes a fresh one. Called under the trace's lock.</summary>
    private void FlushHash()
    {
        if (_pending is not { Count: > 0 } full)
        {
            return;
        }

        int queued;
        lock (_hashGate)
        {
            _toHash.Enqueue(full);
            _pending = Segments.Rent(_segmentEntries, _segmentChars);
            queued = _toHash.Count;
            if (!_hashingRuns)
            {
                _hashingRuns = true;
                _hashing = Task.Run(HashQueued);
            }
        }
        // Waits at most for the segment the task is hashing now; one it has not started on is taken here.
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

    /// <summary>Hashes the oldest queued segment and gives it back to the pool; false when the queue is empty, which
    /// for the hashing task (<paramref name="endsTask"/>) is its end.</summary>
    private bool HashNext(bool endsTask)
    {
        TraceSegment? segment;
        lock (_hashWork)
        {
            lock (_hashGate)
            {
                if (!_toHash.TryDequeue(out segment))
                {
                    if (endsTask)
                    {
                        _hashingRuns = false;
                    }

                    return false;
                }
            }
            _hasher.Hash(segment);
        }
        Segments.Return(segment);
        return true;
    }

    /// <summary>Hashes every event so far: waits for the hashing task to drain the queue, then hashes the segment
    /// being recorded on the caller's thread and empties it. Called under the trace's lock, so nothing is recorded or
    /// flushed meanwhile and no task starts. A short run (an explore schedule fills one segment at most) costs no hop to
    /// a pool thread, which on two busy cores could wait milliseconds to be scheduled.</summary>
    private void HashAll()
    {
        Task hashing;
        lock (_hashGate)
        {
            hashing = _hashing;
        }

        hashing.Wait();
        if (_pending is { Count: > 0 } last)
        {
            lock (_hashWork)
            {
                _hasher.Hash(last);
            }

            last.Clear();
        }
    }

    /// <summary>The tail's lines once every event so far has reached it.</summary>
    internal IReadOnlyList<string> TailLines(TraceTail tail)
    {
        lock (_gate)
        {
            HashAll();
            lock (_hashWork)
            {
                return tail.LinesNow();
            }
        }
    }

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
            HashAll();
            // The segment goes back to the pool: a run asks for its digest when it is done, and the next machine
            // takes it from there. An event after this takes one again.
            if (_pending is { } last)
            {
                Segments.Return(last);
                _pending = null;
            }

            return Convert.ToHexString(_hasher.Digest()).ToLowerInvariant();
        }
    }
}

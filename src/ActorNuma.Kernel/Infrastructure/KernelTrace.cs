using System.Security.Cryptography;
using System.Text;

namespace ActorNuma.Kernel;

/// <summary>One trace event: a kernel-style name (<c>mm_vmscan_lru_isolate</c>) and its fields.</summary>
public sealed record TraceEvent(long Seq, TimeSpan Time, string Name, string Fields)
{
    public override string ToString() => $"{Seq,8} {Time.TotalMilliseconds,12:F3}ms {Name} {Fields}";
}

/// <summary>A kernel warning (an emulated <c>WARN_ON</c> site firing).</summary>
public sealed record KernelWarning(string Site, string Message, int Pfn);

/// <summary>The machine's trace buffer, like ftrace's ring buffer: actors append events, the run hashes and reports
/// them. In deterministic mode one thread appends, so the order (and the hash) is a function of the seed.</summary>
public sealed class KernelTrace
{
    private readonly object _gate = new();
    private readonly List<TraceEvent> _kept = new();
    private readonly List<KernelWarning> _warnings = new();
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Func<TimeSpan> _clock;
    private long _seq;

    /// <param name="clock">Time since boot, from the actor system's scheduler.</param>
    /// <param name="keep">How many events to keep in memory for the --trace file (all are hashed).</param>
    public KernelTrace(Func<TimeSpan> clock, int keep = 100_000)
    {
        _clock = clock;
        Keep = keep;
    }

    public int Keep { get; }
    /// <summary>Time since boot on the actor system's clock (virtual in deterministic mode).</summary>
    public TimeSpan Now => _clock();
    public long Events { get { lock (_gate) return _seq; } }
    public bool Enabled { get; set; } = true;

    public void Emit(string name, string fields)
    {
        if (!Enabled) return;
        lock (_gate)
        {
            var e = new TraceEvent(++_seq, _clock(), name, fields);
            // Lines are hashed a buffer at a time: the digest is the same as hashing each line, at a fraction of the cost.
            _pending.Append(e.ToString()).Append('\n');
            if (_pending.Length >= 1 << 16) FlushHash();
            if (_kept.Count < Keep) _kept.Add(e);
        }
    }

    private readonly StringBuilder _pending = new();

    private void FlushHash()
    {
        _hash.AppendData(Encoding.UTF8.GetBytes(_pending.ToString()));
        _pending.Clear();
    }

    public void Warn(string site, string message, int pfn)
    {
        lock (_gate) _warnings.Add(new KernelWarning(site, message, pfn));
        Emit("kernel_warn", $"site={site} pfn={pfn} {message}");
    }

    public IReadOnlyList<TraceEvent> Snapshot() { lock (_gate) return _kept.ToArray(); }
    public IReadOnlyList<KernelWarning> Warnings() { lock (_gate) return _warnings.ToArray(); }

    /// <summary>SHA-256 over every event line so far, lowercase hex.</summary>
    public string Sha256()
    {
        lock (_gate)
        {
            FlushHash();
            var copy = _hash.GetCurrentHash();
            return Convert.ToHexString(copy).ToLowerInvariant();
        }
    }
}

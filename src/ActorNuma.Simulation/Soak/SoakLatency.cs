namespace ActorNuma.Simulation.Soak;

/// <summary>How long one kind of syscall took, from the driver sending it to its answer, on the mode's clock (virtual
/// time in deterministic mode, wall time in concurrent mode): a fixed set of logarithmic buckets (four per doubling,
/// from 1 µs to about 70 minutes), so an hours-long soak keeps a few hundred counters however many calls it makes.</summary>
public sealed class SoakLatency
{
    private const int PerDoubling = 4;
    /// <summary>Bucket 0 holds everything under 1 µs; bucket i above it starts at 2^((i-1)/4) µs.</summary>
    public const int Buckets = 1 + 32 * PerDoubling;

    private readonly long[] _counts = new long[Buckets];
    private readonly Lock _gate = new();
    private long _count;
    private double _sumMicros;
    private double _maxMicros;

    public SoakLatency(string call) => Call = call;

    /// <summary>The syscall's kernel name (mbind, migrate_pages).</summary>
    public string Call { get; }

    /// <summary>The lower bound of bucket <paramref name="i"/> in microseconds (0 for the first).</summary>
    public static double LowerMicros(int i) => i == 0 ? 0 : Math.Pow(2, (i - 1) / (double)PerDoubling);

    public static int BucketOf(double micros) =>
        micros < 1 ? 0 : Math.Min(Buckets - 1, 1 + (int)Math.Floor(Math.Log2(micros) * PerDoubling));

    public void Record(TimeSpan latency)
    {
        var micros = latency.Ticks / 10.0;
        lock (_gate)
        {
            _counts[BucketOf(micros)]++;
            _count++;
            _sumMicros += micros;
            if (micros > _maxMicros)
            {
                _maxMicros = micros;
            }
        }
    }

    public long Count { get { lock (_gate) { return _count; } } }
    public double MeanMicros { get { lock (_gate) { return _count == 0 ? 0 : _sumMicros / _count; } } }
    public double MaxMicros { get { lock (_gate) { return _maxMicros; } } }

    /// <summary>The bucket counts, index as <see cref="LowerMicros"/>.</summary>
    public long[] Counts() { lock (_gate)
        {
            return (long[])_counts.Clone();
        }
    }

    /// <summary>The upper bound of the bucket the <paramref name="q"/> quantile falls in (0 without calls): accurate
    /// to a fourth of a doubling (19%).</summary>
    public double QuantileMicros(double q)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                return 0;
            }

            var rank = (long)Math.Ceiling(q * _count);
            long seen = 0;
            for (var i = 0; i < Buckets; i++)
            {
                seen += _counts[i];
                if (seen >= Math.Max(1, rank))
                {
                    return Math.Min(_maxMicros, LowerMicros(i + 1));
                }
            }
            return _maxMicros;
        }
    }
}

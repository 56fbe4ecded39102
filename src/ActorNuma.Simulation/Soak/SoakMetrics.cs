using System.Globalization;
using System.Text;
using ActorNuma.Kernel;
using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Soak;

/// <summary>One metrics row: counters as deltas over the interval that ends here, gauges as they are now. Taken only
/// at a checkpoint (the machine at rest), never while actors run.</summary>
public sealed record SoakSample(int Interval, TimeSpan Time, IReadOnlyList<(string Column, long Value)> Values)
{
    public long this[string column] => Values.First(v => v.Column == column).Value;
}

/// <summary>Streams <c>metrics.csv</c> and <c>metrics.jsonl</c>, one row per interval, flushed as written, so an hours-long
/// soak keeps nothing but the previous row's counters in memory and a killed one leaves its rows on disk.</summary>
public sealed class SoakMetrics : IDisposable
{
    /// <summary>The /proc/vmstat counters written as deltas per interval, under their kernel names;
    /// <c>migrated</c> is emu_migrate_evicted (pages a migration sent to swap, to come back on the policy's node).</summary>
    public static readonly (string Column, string Vmstat)[] Counters =
    [
        ("pgfault", "pgfault"), ("pgmajfault", "pgmajfault"), ("pswpin", "pswpin"), ("pswpout", "pswpout"),
        ("pgscan_kswapd", "pgscan_kswapd"), ("pgscan_direct", "pgscan_direct"), ("pgsteal", "pgsteal"),
        ("pageoutrun", "pageoutrun"), ("allocstall", "allocstall"), ("migrated", "emu_migrate_evicted"),
        ("oom_kill", "emu_oom_kill"),
    ];

    private readonly StreamWriter _csv;
    private readonly StreamWriter _jsonl;
    private readonly StreamWriter _process;

    /// <summary>process.csv: the emulator's own memory and GC per row. Apart from metrics.csv, which is the machine's
    /// alone and so the same for the same seed.</summary>
    public static readonly string[] ProcessColumns =
        ["interval", "time_s", "wall_s", "working_set_bytes", "gc_heap_bytes", "gc_gen0", "gc_gen1", "gc_gen2", "gc_pause_ms", "task_records"];
    private readonly Dictionary<string, long> _last = new(StringComparer.Ordinal);
    private long _lastRounds, _lastSyscalls, _lastMessages;

    public SoakMetrics(string directory, int nodes)
    {
        Columns = ["interval", "time_s", "rounds", "syscalls", "messages", .. Counters.Select(c => c.Column),
            .. Enumerable.Range(0, nodes).Select(n => $"free_node{n}"), "swap_used"];
        _csv = new StreamWriter(Path.Combine(directory, "metrics.csv"), append: false, new UTF8Encoding(false));
        _jsonl = new StreamWriter(Path.Combine(directory, "metrics.jsonl"), append: false, new UTF8Encoding(false));
        _csv.WriteLine(string.Join(",", Columns));
        _csv.Flush();
        _process = new StreamWriter(Path.Combine(directory, "process.csv"), append: false, new UTF8Encoding(false));
        _process.WriteLine(string.Join(",", ProcessColumns));
        _process.Flush();
    }

    /// <summary>One row of process.csv, beside the metrics row of the same interval.</summary>
    public void SampleProcess(int interval, TimeSpan time, TimeSpan wall, long workingSet, int taskRecords)
    {
        var c = CultureInfo.InvariantCulture;
        _process.WriteLine(string.Join(",",
            interval.ToString(c), time.TotalSeconds.ToString("0.######", c), wall.TotalSeconds.ToString("0.###", c),
            workingSet.ToString(c), GC.GetTotalMemory(false).ToString(c), GC.CollectionCount(0).ToString(c),
            GC.CollectionCount(1).ToString(c), GC.CollectionCount(2).ToString(c),
            GC.GetTotalPauseDuration().TotalMilliseconds.ToString("0.###", c), taskRecords.ToString(c)));
        _process.Flush();
    }

    /// <summary>The CSV header, in order; the JSON lines have the same keys.</summary>
    public IReadOnlyList<string> Columns { get; }

    public SoakSample? Last { get; private set; }
    public int Rows { get; private set; }

    /// <summary>Reads the machine (at rest) and writes one row.</summary>
    public SoakSample Sample(KernelMachine machine, TimeSpan time, long rounds, long syscalls)
    {
        var vmstat = KernelStats.Vmstat(machine);
        var messages = machine.Activity.Snapshot().Finished;
        var values = new List<(string, long)>
        {
            ("rounds", rounds - _lastRounds), ("syscalls", syscalls - _lastSyscalls), ("messages", messages - _lastMessages),
        };
        (_lastRounds, _lastSyscalls, _lastMessages) = (rounds, syscalls, messages);
        foreach (var (column, name) in Counters)
        {
            var now = vmstat.GetValueOrDefault(name);
            values.Add((column, now - _last.GetValueOrDefault(name)));
            _last[name] = now;
        }
        foreach (var node in machine.Nodes)
        {
            values.Add(($"free_node{node.Memory.Node}", node.Memory.FreePages));
        }

        values.Add(("swap_used", machine.Swap is { } s ? s.Map.TotalSwapPages - s.Map.NrSwapPages : 0));
        var sample = new SoakSample(Rows, time, values);
        Write(sample);
        Last = sample;
        Rows++;
        return sample;
    }

    private void Write(SoakSample s)
    {
        var time = s.Time.TotalSeconds.ToString("0.######", CultureInfo.InvariantCulture);
        var cells = s.Values.Select(v => v.Value.ToString(CultureInfo.InvariantCulture));
        _csv.WriteLine(string.Join(",", [s.Interval.ToString(CultureInfo.InvariantCulture), time, .. cells]));
        _csv.Flush();
        var json = new StringBuilder().Append("{\"interval\":").Append(s.Interval).Append(",\"time_s\":").Append(time);
        foreach (var (column, value) in s.Values)
        {
            json.Append(",\"").Append(column).Append("\":").Append(value.ToString(CultureInfo.InvariantCulture));
        }

        _jsonl.WriteLine(json.Append('}').ToString());
        _jsonl.Flush();
    }

    public void Dispose()
    {
        _csv.Dispose();
        _jsonl.Dispose();
        _process.Dispose();
    }
}

namespace ActorNuma.Mm;

/// <summary>Counters of /proc/vmstat (2.6.14 names), /sys/devices/system/node/nodeN/numastat, and counters the emulator
/// adds, which carry an <c>emu_</c> prefix so nobody mistakes them for the kernel's.</summary>
public enum VmEvent
{
    // 2.6.14 /proc/vmstat events (mm/page_alloc.c vmstat_text). The per-zone ones have one zone (normal) here.
    Pgpgin, Pgpgout, Pswpin, Pswpout, PgallocNormal, Pgfree, Pgactivate, Pgdeactivate, Pgfault, Pgmajfault,
    Pgrefill, Pgsteal, PgscanKswapd, PgscanDirect, KswapdSteal, Pageoutrun, Allocstall, Pgrotated,
    // numastat (per node; summed over nodes in vmstat, as 2.6.18 does).
    NumaHit, NumaMiss, NumaForeign, InterleaveHit, LocalNode, OtherNode,
    // Emulator counters for migration via swap (none of these exist in 2.6.x).
    EmuMigrateScanned, EmuMigrateIsolated, EmuMigrateIsolateFailPagevec, EmuMigrateIsolateFailIsolated,
    EmuMigrateIsolateFailFreeing, EmuMigrateIsolateFailOther, EmuMigrateEvicted, EmuMigrateFailed, EmuMigratePutback,
    EmuMigratePasses, EmuMigrateSharedSkipped, EmuLruAddDrain, EmuOomKill, EmuWarnOn,
}

public static class VmEventNames
{
    private static readonly string[] Names = Enum.GetValues<VmEvent>().Select(ToKernelName).ToArray();

    public static string Name(VmEvent e) => Names[(int)e];

    public static IReadOnlyList<VmEvent> All { get; } = Enum.GetValues<VmEvent>();

    public static bool TryParse(string name, out VmEvent e)
    {
        var i = Array.IndexOf(Names, name);
        e = i < 0 ? default : (VmEvent)i;
        return i >= 0;
    }

    public static bool IsNumaStat(VmEvent e) => e is >= VmEvent.NumaHit and <= VmEvent.OtherNode;

    private static string ToKernelName(VmEvent e)
    {
        var s = e switch
        {
            VmEvent.PgallocNormal => "pgalloc_normal",
            VmEvent.PgscanKswapd => "pgscan_kswapd",
            VmEvent.PgscanDirect => "pgscan_direct",
            VmEvent.KswapdSteal => "kswapd_steal",
            VmEvent.NumaHit => "numa_hit",
            VmEvent.NumaMiss => "numa_miss",
            VmEvent.NumaForeign => "numa_foreign",
            VmEvent.InterleaveHit => "interleave_hit",
            VmEvent.LocalNode => "local_node",
            VmEvent.OtherNode => "other_node",
            _ => null,
        };
        if (s is not null)
        {
            return s;
        }
        // EmuMigrateIsolateFailPagevec -> emu_migrate_isolate_fail_pagevec
        var name = e.ToString();
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                sb.Append('_');
            }

            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}

/// <summary>A set of event counters owned by one actor, like the kernel's per-CPU <c>page_states</c>: the report sums
/// them over all actors.</summary>
public sealed class VmStat : IReadOnlyVmStat
{
    private readonly long[] _counts = new long[VmEventNames.All.Count];

    public void Count(VmEvent e, long delta = 1) => _counts[(int)e] += delta;
    public long this[VmEvent e] => _counts[(int)e];
    public void AddTo(long[] totals)
    {
        for (var i = 0; i < _counts.Length; i++)
        {
            totals[i] += _counts[i];
        }
    }
    public static long[] NewTotals() => new long[VmEventNames.All.Count];
}

/// <summary>The counters as the report reads them; only their owner counts.</summary>
public interface IReadOnlyVmStat
{
    long this[VmEvent e] { get; }

    /// <summary>Adds every counter into <paramref name="totals"/> (indexed by <see cref="VmEvent"/>).</summary>
    void AddTo(long[] totals);
}

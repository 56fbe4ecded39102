using System.Globalization;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Run;

/// <summary>What a machine costs this process before it runs a step, from its topology and swap area alone, so that a
/// machine that cannot fit is refused before booting instead of paging the host to a halt or dying of
/// OutOfMemoryException in a checker. The per-unit costs are upper bounds measured with <c>actornuma bench --figure
/// memory</c> (about 90 B per page with its PTE and swap slot, machine included): a frame's eleven per-page arrays in
/// NodeMemory (36 B), the PTE a task keeps for it and the checkers' per-frame work; a swap slot's three arrays in SwapMap
/// (10 B) and the swap PTE that points at it; a CPU's pagevec and counters.</summary>
public sealed record MemoryEstimate(long Bytes, string Key, long Value)
{
    public const long BytesPerFrame = 96;
    public const long BytesPerSwapSlot = 24;
    public const long BytesPerCpu = 1024;
    /// <summary>The runtime, Akka and an empty machine.</summary>
    public const long BaseBytes = 128L << 20;

    /// <summary>The default limit: half the memory this process may use (physical memory, or a container's limit).</summary>
    public static long DefaultLimit => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    /// <summary>The estimate for <paramref name="m"/>, naming the key that costs most.</summary>
    public static MemoryEstimate Of(MachineConfig m)
    {
        var t = m.Topology;
        (string Key, long Value, long Bytes)[] parts =
        [
            ("actornuma.topology.pages-per-node", t.PagesPerNode, (long)t.Nodes * t.PagesPerNode * BytesPerFrame),
            ("actornuma.topology.cpus-per-node", t.CpusPerNode, (long)t.Nodes * t.CpusPerNode * BytesPerCpu),
            ("actornuma.swap.slots", m.Swap.Slots, m.Swap.Slots * BytesPerSwapSlot),
        ];
        var biggest = parts.MaxBy(p => p.Bytes);
        return new MemoryEstimate(BaseBytes + parts.Sum(p => p.Bytes), biggest.Key, biggest.Value);
    }

    /// <summary>Refuses <paramref name="scenario"/>'s machine when its estimate exceeds <paramref name="limit"/> bytes:
    /// one line naming the file, the key that costs most and both sizes.</summary>
    public static void CheckFits(LoadedScenario scenario, long limit, string limitName = "--max-memory")
    {
        var e = Of(scenario.Machine);
        if (e.Bytes <= limit)
        {
            return;
        }

        throw new ScenarioException($"{scenario.Source}: {e.Key} = {e.Value.ToString(CultureInfo.InvariantCulture)}: expected a " +
                                    $"machine that fits in {limitName} {Size(limit)}, got one that needs about {Size(e.Bytes)}");
    }

    /// <summary>Bytes in the largest binary unit that keeps a whole number in front: 512 MiB, 17.9 GiB.</summary>
    public static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var u = 0;
        while (value >= 1024 && u < units.Length - 1) { value /= 1024; u++; }
        return value.ToString(value < 10 && u > 0 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[u];
    }

    /// <summary>A size as the user writes it: bytes, or a number with k, m, g or t (binary units, case ignored,
    /// an optional trailing b or ib); null when it is not one.</summary>
    public static long? ParseSize(string text)
    {
        var s = text.Trim().ToLowerInvariant();
        foreach (var tail in new[] { "ib", "b" })
        {
            if (s.Length > tail.Length && s.EndsWith(tail, StringComparison.Ordinal) && char.IsLetter(s[^(tail.Length + 1)]))
            {
                s = s[..^tail.Length];
                break;
            }
        }

        var shift = s.Length == 0 ? 0 : s[^1] switch { 'k' => 10, 'm' => 20, 'g' => 30, 't' => 40, _ => 0 };
        if (shift > 0)
        {
            s = s[..^1];
        }

        if (!decimal.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            return null;
        }

        var bytes = n * (1L << shift);
        return bytes > long.MaxValue ? null : (long)bytes;
    }
}

using System.Text;
using System.Text.RegularExpressions;
using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Soak;

/// <summary>What a soak prints when a checker fires: the seed and the checker's finding, then the state of every frame,
/// PTE and swap slot the finding names (and of the PTEs and slots that refer to those frames), then the last kernel
/// events from the trace's tail that touched any of them. Read at the checkpoint, with the machine at rest.</summary>
public static partial class SoakViolationDump
{
    /// <summary>How many of the last matching events the dump shows.</summary>
    public const int EventsShown = 60;

    [GeneratedRegex(@"\bpfns? (\d+)")] private static partial Regex PfnText();
    [GeneratedRegex(@"\bslot (\d+)")] private static partial Regex SlotText();
    [GeneratedRegex(@"\btask (\d+)")] private static partial Regex TaskText();

    /// <param name="deterministic">Whether the run replays from its seed (a concurrent run's interleaving is the
    /// machine's, not the seed's).</param>
    /// <param name="freeRunning">Whether the tasks ran free rather than in rounds (the replay command says so).</param>
    /// <param name="busyTasks">Name every task still in a syscall or waiting for an answer too (a stall: what each one
    /// waits for is the finding).</param>
    public static string Write(KernelMachine machine, string violation, int seed, IReadOnlyList<string> tail, bool deterministic = true,
        bool freeRunning = false, bool busyTasks = false)
    {
        var command = $"actornuma soak --mode deterministic{(freeRunning ? " --play free-running" : "")} --seed {seed}";
        var pfns = Numbers(PfnText(), violation).ToHashSet();
        var slots = Numbers(SlotText(), violation).ToHashSet();
        var tasks = Numbers(TaskText(), violation).ToHashSet();
        if (busyTasks)
        {
            tasks.UnionWith(machine.Tasks.Where(t => !t.Exited && (t.Busy is not null || t.PendingReplies > 0)).Select(t => t.Pid));
        }
        // The PTEs that map a named frame or hold a named slot, and the slots behind named frames, are involved too.
        foreach (var pfn in pfns.ToArray())
        {
            if (Frame(machine, pfn) is var (m, i) && m.Test(i, PageFlags.SwapCache))
            {
                slots.Add(m.SwapEntry(i));
            }
        }

        var ptes = new List<(TaskState Task, ulong Vpn, Pte Pte)>();
        foreach (var task in machine.Tasks)
        {
            foreach (var (vpn, pte) in task.PageTable.Entries())
            {
                if ((pte.IsPresent && pfns.Contains(pte.Pfn)) || (pte.IsSwap && slots.Contains(pte.SwapSlot)))
                {
                    ptes.Add((task, vpn, pte));
                    tasks.Add(task.Pid);
                }
            }
        }

        var s = new StringBuilder();
        s.AppendLine($"SOAK VIOLATION (seed {seed})");
        s.AppendLine($"checker: {violation}");
        s.AppendLine(deterministic
            ? $"replay: {command} (same workload file and duration)"
            : $"replay: none from the seed (a concurrent run's interleaving is the machine's); hunt it under the seed with {command}");
        s.AppendLine().AppendLine($"frames ({pfns.Count}):");
        foreach (var pfn in pfns.Order())
        {
            s.AppendLine("  " + DescribeFrame(machine, pfn));
        }

        s.AppendLine().AppendLine($"ptes mapping those frames or slots ({ptes.Count}):");
        foreach (var (task, vpn, pte) in ptes)
        {
            s.AppendLine($"  task {task.Pid} ({task.Name}) vpn {vpn:x}: {pte}");
        }

        s.AppendLine().AppendLine($"swap slots ({slots.Count}):");
        foreach (var slot in slots.Order())
        {
            s.AppendLine("  " + DescribeSlot(machine, slot));
        }

        s.AppendLine().AppendLine($"tasks ({tasks.Count}):");
        foreach (var pid in tasks.Order())
        {
            var t = machine.Tasks.FirstOrDefault(x => x.Pid == pid);
            s.AppendLine(t is null ? $"  task {pid}: no record (reaped)"
                : $"  task {pid} ({t.Name}) cpu {t.Cpu} exited={t.Exited} reaped={machine.IsReaped(t.Pid)} busy={t.Busy ?? "-"} " +
                  $"pending_replies={t.PendingReplies} isolated={t.Isolated.Count} ptes={t.PageTable.Entries().Count()}");
        }
        // The events that name a frame or slot first: a busy task's own events would crowd them out of a shared list.
        var pages = tail.Where(line => Touches(line, pfns, slots, [])).TakeLast(EventsShown).ToArray();
        var byTask = tail.Where(line => !Touches(line, pfns, slots, []) && Touches(line, [], [], tasks)).TakeLast(EventsShown / 3).ToArray();
        s.AppendLine().AppendLine($"last kernel events that touched those frames or slots ({pages.Length}; the trace's tail keeps {tail.Count} events):");
        foreach (var line in pages)
        {
            s.AppendLine("  " + line);
        }

        s.AppendLine().AppendLine($"last other events of those tasks ({byTask.Length}):");
        foreach (var line in byTask)
        {
            s.AppendLine("  " + line);
        }

        return s.ToString();
    }

    private static IEnumerable<int> Numbers(Regex regex, string text) =>
        regex.Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    private static (IReadOnlyNodeMemory Memory, int Index)? Frame(KernelMachine machine, int pfn)
    {
        foreach (var node in machine.Nodes)
        {
            if (node.Memory.Owns(pfn))
            {
                return (node.Memory, node.Memory.Index(pfn));
            }
        }

        return null;
    }

    private static string DescribeFrame(KernelMachine machine, int pfn)
    {
        if (Frame(machine, pfn) is not var (m, i))
        {
            return $"pfn {pfn}: no such frame";
        }

        var holds = m.Holds(i);
        return $"pfn {pfn} node {m.Node}: place {m.Place(i)} owner {m.Owner(i)} flags {PageFlagNames.Format(m.Flags(i))} " +
               $"count {m.Count(i)} mapcount {m.Mapcount(i)} rmap_vpn {m.RmapVpn(i):x} mappers [{string.Join(",", m.Mappers(i))}] " +
               $"swap_entry {(m.Test(i, PageFlags.SwapCache) ? m.SwapEntry(i) : 0)} holds {holds.Count}" +
               (holds.Count > 0 ? $" (last: task {holds.Last.Task} {holds.Last.What})" : "") + $" contents {m.Contents(i):x}";
    }

    private static string DescribeSlot(KernelMachine machine, int slot)
    {
        if (machine.Swap is not { } swap)
        {
            return $"slot {slot}: no swap device";
        }

        var map = swap.Map;
        if (!map.IsValid(slot))
        {
            return $"slot {slot}: not a valid slot (1 to {map.TotalSwapPages})";
        }

        var cached = map.CachedPfn(slot);
        return $"slot {slot}: swap_map {map.Count(slot)} swap_cache {(cached >= 0 ? $"pfn {cached}" : "none")} contents {map.Contents(slot):x}";
    }

    /// <summary>An event line names a frame, slot or task as <c>pfn=N</c>, <c>slot=N</c>, <c>task=N</c> or
    /// <c>pid=N</c> (or inside a list after such a key).</summary>
    private static bool Touches(string line, HashSet<int> pfns, HashSet<int> slots, HashSet<int> tasks)
    {
        foreach (Match m in FieldText().Matches(line))
        {
            var n = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            var key = m.Groups[1].Value;
            if ((key.StartsWith("pfn", StringComparison.Ordinal) && pfns.Contains(n))
                || (key.StartsWith("slot", StringComparison.Ordinal) && slots.Contains(n))
                || ((key is "task" or "pid" or "parent" or "child") && tasks.Contains(n)))
            {
                return true;
            }
        }
        return false;
    }

    [GeneratedRegex(@"\b(pfns?|slots?|task|pid|parent|child)=\[?(\d+)")] private static partial Regex FieldText();
}

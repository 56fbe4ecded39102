using System.Globalization;
using System.Text;
using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Run;

namespace ActorNuma.Simulation.Explore;

/// <summary>
/// The outcome of a schedule as one line: every step's result (a syscall's return value and errno, the pages an
/// expect-pages step counted per node), each task's final placement (present pages per node, pages in swap), and the
/// kinds of checker that fired. Two schedules with the same line reached the same answer by different interleavings;
/// the table of distinct lines is usually the answer to a race experiment.
/// </summary>
public static class ScheduleOutcome
{
    /// <example><c>4=0 5=0 7=[n1:16] 8=[n1:16] | a:n1=16 c:n1=16 | frame-placement</c></example>
    public static string Describe(IReadOnlyList<StepResult> steps, KernelMachine machine, IEnumerable<string> violations) =>
        Describe(steps, Placement(machine), violations);

    /// <param name="placement">The machine's part, read while it is up (<see cref="Placement(KernelMachine)"/>).</param>
    public static string Describe(IReadOnlyList<StepResult> steps, string placement, IEnumerable<string> violations)
    {
        var line = new StringBuilder();
        foreach (var s in steps)
        {
            if (Token(s) is not { } token)
            {
                continue;
            }

            if (line.Length > 0)
            {
                line.Append(' ');
            }

            line.Append(CultureInfo.InvariantCulture, $"{s.Index}={token}");
        }
        line.Append(" |").Append(placement);
        var kinds = violations.Select(Kind).Distinct().Order(StringComparer.Ordinal).ToArray();
        if (kinds.Length > 0)
        {
            line.Append(" | ").Append(string.Join(",", kinds));
        }

        return line.ToString();
    }

    /// <summary>A checker finding starts with the checker's name and a colon (<c>page-refcount: pfn 12 ...</c>); a
    /// liveness or BUG message with its first word.</summary>
    public static string Kind(string violation)
    {
        var end = violation.IndexOfAny([':', ' ']);
        return end > 0 ? violation[..end] : violation;
    }

    private static string? Token(StepResult s)
    {
        var mark = s.Ok ? "" : "!";
        if (s.Ret is { } ret)
        {
            return s.Errno is { } e && e != Errno.None ? $"{ret}{mark}{e}" : $"{ret}{mark}";
        }

        if (s.Value is PageCounts { Nodes: { } nodes } pages)
        {
            var perNode = string.Join(",", nodes.Where(kv => kv.Value != 0).Select(kv => $"n{kv.Key}:{kv.Value}"));
            var swapped = pages.Swapped ?? 0;
            var parts = swapped > 0 ? (perNode.Length > 0 ? $"{perNode} sw:{swapped}" : $"sw:{swapped}") : perNode;
            return $"[{parts}]{mark}";
        }
        return s.Ok ? null : "!";
    }

    /// <summary>Each live task's present pages per node and pages in swap, from the page tables.</summary>
    public static string Placement(KernelMachine machine) =>
        string.Concat(machine.Tasks.Where(t => !t.Exited).Select(t => " " + Placement(t, machine.Topology)));

    private static string Placement(TaskState task, Topology topology)
    {
        var perNode = new int[topology.Nodes];
        var swapped = 0;
        foreach (var (_, pte) in task.PageTable.Entries())
        {
            if (pte.IsPresent)
            {
                perNode[topology.PfnToNid(pte.Pfn)]++;
            }
            else if (pte.IsSwap)
            {
                swapped++;
            }
        }
        var parts = perNode.Select((n, node) => (n, node)).Where(x => x.n > 0).Select(x => $"n{x.node}={x.n}").ToList();
        if (swapped > 0)
        {
            parts.Add($"sw={swapped}");
        }

        return $"{task.Name}:{(parts.Count == 0 ? "-" : string.Join(",", parts))}";
    }
}

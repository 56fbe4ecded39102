using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Explore;

/// <summary>A replayed schedule drawn as kernel commit messages draw a race: one column per actor (task, node, kswapd,
/// swap device) in the order each first appears, time going down, and only the kernel trace events that touch the pages
/// involved in the failure.</summary>
/// <remarks>The pages involved are those the failure names (a warning's pfn, "pfn N" in a checker's message); a failure
/// that names none (an expectation on a range) keeps every event that names a page. An event names page P with
/// <c>pfn=P</c>, or with <c>first_pfn=F nr=N</c> when F &lt;= P &lt; F+N.</remarks>
public static partial class RaceColumns
{
    /// <summary>Widest a column gets; an event longer than that is cut.</summary>
    public const int ColumnWidth = 56;

    public static IReadOnlyList<string> Draw(IReadOnlyList<TraceEvent> trace, IEnumerable<KernelWarning> warnings,
        IEnumerable<string> violations)
    {
        var named = warnings.Select(w => w.Pfn).Concat(violations.SelectMany(PfnsIn)).ToHashSet();
        var shown = trace.Where(e => e.Actor is not null && Pages(e).Any(p => named.Count == 0 || named.Contains(p))).ToList();
        var columns = shown.Select(e => e.Actor!).Distinct(StringComparer.Ordinal).ToList();
        var titles = TaskTitles(trace);
        var lines = new List<string>
        {
            named.Count == 0 ? "pages: every page the trace names (the failure names none)"
                : $"pages: {string.Join(", ", named.Order().Select(p => $"pfn {p}"))}",
            Row(columns, c => titles.GetValueOrDefault(c, c)),
        };
        foreach (var e in shown)
        {
            lines.Add(Row(columns, c => c == e.Actor ? Cell(e) : ""));
        }

        return lines;
    }

    /// <summary>A warning shows its message (the site is the column's actor); other events their name and fields.</summary>
    private static string Cell(TraceEvent e)
    {
        var text = e.Name == "kernel_warn" ? "WARN " + WarnSite().Replace(e.Fields, "") : $"{e.Name} {e.Fields}";
        return text.Length < ColumnWidth ? text : text[..(ColumnWidth - 2)] + "…";
    }

    /// <summary>"task1" → "task a (CPU 0)", from the task_new events (<c>pid=1 name=a cpu=0</c>).</summary>
    private static Dictionary<string, string> TaskTitles(IEnumerable<TraceEvent> trace) =>
        trace.Where(e => e.Name == "task_new").Select(e => TaskNew().Match(e.Fields)).Where(m => m.Success)
            .GroupBy(m => "task" + m.Groups[1].Value, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => $"task {g.First().Groups[2].Value} (CPU {g.First().Groups[3].Value})", StringComparer.Ordinal);

    private static string Row(List<string> columns, Func<string, string> cell)
    {
        var row = new StringBuilder();
        foreach (var c in columns)
        {
            row.Append(cell(c).PadRight(ColumnWidth));
        }

        return row.ToString().TrimEnd();
    }

    /// <summary>The pages an event names.</summary>
    public static IEnumerable<int> Pages(TraceEvent e)
    {
        foreach (Match m in PfnField().Matches(e.Fields))
        {
            yield return int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        var first = FirstPfnField().Match(e.Fields);
        var nr = NrField().Match(e.Fields);
        if (!first.Success)
        {
            yield break;
        }

        var start = int.Parse(first.Groups[1].Value, CultureInfo.InvariantCulture);
        var count = nr.Success ? int.Parse(nr.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
        for (var k = 0; k < count; k++)
        {
            yield return start + k;
        }
    }

    private static IEnumerable<int> PfnsIn(string violation) =>
        PfnInText().Matches(violation).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"(?:^| )pfn=(\d+)")]
    private static partial Regex PfnField();

    [GeneratedRegex(@"(?:^| )first_pfn=(\d+)")]
    private static partial Regex FirstPfnField();

    [GeneratedRegex(@"(?:^| )nr=(\d+)")]
    private static partial Regex NrField();

    [GeneratedRegex(@"^site=\S+ pfn=\d+ ")]
    private static partial Regex WarnSite();

    [GeneratedRegex(@"^pid=(\d+) name=(\S+) cpu=(\d+)")]
    private static partial Regex TaskNew();

    [GeneratedRegex(@"\bpfn (\d+)")]
    private static partial Regex PfnInText();
}

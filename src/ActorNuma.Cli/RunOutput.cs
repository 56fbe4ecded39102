using System.Globalization;
using System.Text.Json;
using ActorNuma.Simulation.Run;

namespace ActorNuma.Cli;

/// <summary>What <c>actornuma run</c> prints after the seed line: the steps under a header, the derived parameters
/// (one greppable key=value line each), the summary, warnings and checker findings, numa_maps, /proc/vmstat, numastat,
/// and last the verdict, one line naming the exit code.</summary>
internal static class RunOutput
{
    public static void Print(RunReport r, IEnumerable<string> derived, bool quiet, string? unwritten)
    {
        var summary = Summary(r);
        if (quiet)
        {
            Console.WriteLine(summary);
            Console.WriteLine(Verdict(r, unwritten));
            return;
        }
        Console.WriteLine();
        Console.WriteLine(Row("step", "task", "op", "ret", "errno", "result", "note"));
        // One line a step, never wrapped: kernel people grep these.
        foreach (var st in r.Steps)
        {
            Console.WriteLine(Row(st.Index.ToString(CultureInfo.InvariantCulture), st.Task ?? "", st.Op, Ret(st),
                st.Errno is { } e && e != Mm.Errno.None ? e.ToString() : "", st.Ok ? "ok" : "FAILED", Note(st)));
        }

        Console.WriteLine();
        foreach (var line in derived)
        {
            Console.WriteLine(line);
        }

        Console.WriteLine();
        Console.WriteLine(summary);
        foreach (var w in r.Warnings)
        {
            Console.WriteLine($"WARNING: {w.Site}: {w.Message} (pfn {w.Pfn})");
        }

        foreach (var v in r.Violations)
        {
            Console.WriteLine($"CHECKER: {v}");
        }

        Console.WriteLine();
        foreach (var (task, lines) in r.NumaMaps)
        {
            Console.WriteLine($"numa_maps of {task}:");
            foreach (var l in lines)
            {
                Console.WriteLine($"  {l}");
            }
        }
        Console.WriteLine();
        Console.WriteLine("/proc/vmstat:");
        foreach (var (k, v) in r.Vmstat)
        {
            Console.WriteLine($"{k} {v}");
        }

        Console.WriteLine();
        foreach (var (node, counters) in r.Numastat)
        {
            Console.WriteLine($"{node}: {string.Join(" ", counters.Select(kv => $"{kv.Key}={kv.Value}"))}");
        }

        Console.WriteLine();
        Console.WriteLine(Verdict(r, unwritten));
    }

    /// <summary>A checker finding (3) outranks a file that could not be written (2), which outranks the steps' verdict.</summary>
    public static int ExitCodeWhenUnwritten(RunReport r) => r.ExitCode == ExitCodes.CheckerFired ? r.ExitCode : ExitCodes.BadInput;

    /// <summary><c>PASS (exit 0)</c>, <c>FAILED: step 4 mbind: ... (exit 1)</c>, <c>CHECKER: ... (exit 3)</c>.</summary>
    public static string Verdict(RunReport r, string? unwritten = null)
    {
        var failed = r.Steps.Where(s => !s.Ok).ToList();
        var verdict = r.ExitCode switch
        {
            ExitCodes.CheckerFired => $"CHECKER: {r.Violations[0]}{More(r.Violations.Count - 1, "finding")}",
            ExitCodes.ExpectationFailed =>
                $"FAILED: step {failed[0].Index} {failed[0].Op}: {failed[0].Message}{More(failed.Count - 1, "failed step")}",
            _ => "PASS",
        };
        if (unwritten is not null)
        {
            return $"{verdict}; NOT WRITTEN: {unwritten} (exit {ExitCodeWhenUnwritten(r)})";
        }

        return $"{verdict} (exit {r.ExitCode})";
    }

    private static string More(int count, string what) => count switch
    {
        0 => "",
        1 => $"; and 1 more {what}",
        _ => $"; and {count} more {what}s",
    };

    private static string Summary(RunReport r)
    {
        var failed = r.Steps.Count(s => !s.Ok);
        return $"{r.Scenario}: {r.Steps.Count} steps, {r.Steps.Count - failed} held, {failed} failed; " +
               $"{r.Checks} checks, {r.Violations.Count} violations; {r.Warnings.Count} kernel warnings; " +
               $"trace {r.TraceEvents} events sha256 {r.TraceSha256[..16]}; {r.SchedulerSteps} scheduler steps, " +
               $"virtual time {r.VirtualTime.TotalMilliseconds.ToString("F3", CultureInfo.InvariantCulture)} ms";
    }

    private static string Row(string step, string task, string op, string ret, string errno, string result, string note) =>
        $"{step,4} {task,-8} {op,-17} {ret,14} {errno,-7} {result,-6} {note}".TrimEnd();

    /// <summary>mmap returns an address, shown in hex as /proc does; every other return is a count or 0.</summary>
    private static string Ret(StepResult s) => s.Ret switch
    {
        null => "",
        >= 0 and var a when s.Op == "mmap" => $"0x{a:x}",
        var n => n.Value.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A step's value as <c>key=value</c> pairs, from its report form (<see cref="ReportJsonContext"/>).</summary>
    private static string Note(StepResult s)
    {
        if (!s.Ok)
        {
            return s.Message ?? "";
        }

        if (s.Value is null)
        {
            return "";
        }

        var value = JsonSerializer.SerializeToElement(s.Value, ReportJsonContext.Default.StepValue);
        return string.Join(" ", value.EnumerateObject().Select(p => $"{p.Name}={Format(p.Value)}"));
    }

    private static string Format(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(" ", v.EnumerateObject().Select(p => $"{p.Name}={Format(p.Value)}")) + "}",
        JsonValueKind.Array => "[" + string.Join(",", v.EnumerateArray().Select(Format)) + "]",
        JsonValueKind.String => v.GetString() ?? "",
        _ => v.GetRawText(),
    };
}

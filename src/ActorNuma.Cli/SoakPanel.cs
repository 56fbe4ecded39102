using System.Globalization;
using ActorNuma.Simulation.Soak;
using Spectre.Console;

namespace ActorNuma.Cli;

/// <summary>The soak's progress: on an interactive terminal a live Spectre.Console panel redrawn at every status;
/// otherwise (a pipe, a file, CI) one plain line per status.</summary>
public static class SoakPanel
{
    public static SoakResult Run(LoadedSoak soak, SoakOptions options)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            return SoakRunner.Run(soak, options with { Status = s => Console.WriteLine(s.Line()) });
        }

        SoakResult? result = null;
        var table = Table(null);
        AnsiConsole.Live(table).AutoClear(false).Start(ctx =>
        {
            result = SoakRunner.Run(soak, options with
            {
                Status = s =>
                {
                    ctx.UpdateTarget(Table(s));
                    ctx.Refresh();
                },
            });
        });
        return result!;
    }

    private static string N(double x) => x.ToString("#,0", CultureInfo.InvariantCulture);

    /// <summary>The panel for one status (null: before the first).</summary>
    internal static Table Table(SoakStatus? s)
    {
        var t = new Table().Border(TableBorder.Rounded).Title("[bold]actornuma soak[/]");
        t.AddColumn("what");
        t.AddColumn(new TableColumn("value").RightAligned());
        if (s is null)
        {
            t.AddRow("status", "booting");
            return t;
        }
        var remaining = s.Remaining is { } r ? $"{Math.Max(0, r.TotalSeconds):0} s{(s.VirtualRemaining ? " (virtual)" : "")}" : "-";
        t.AddRow("mode", s.Mode);
        t.AddRow("elapsed / remaining", $"{s.Elapsed.TotalSeconds:0} s / {remaining}");
        t.AddRow("machine time", $"{s.MachineTime.TotalSeconds:0.###} s");
        t.AddRow("faults + migrated pages / s", N(s.EventsPerSecond));
        t.AddRow("faults", N(s.Faults));
        t.AddRow("migrated pages", N(s.Migrated));
        t.AddRow("swap in / out", $"{N(s.SwapIn)} / {N(s.SwapOut)}");
        t.AddRow("swap slots used", N(s.SwapUsed));
        var w = s.Watermarks;
        for (var n = 0; n < s.FreePerNode.Count; n++)
        {
            var free = s.FreePerNode[n];
            var colour = free < w.PagesMin ? "red" : free < w.PagesLow ? "yellow" : "green";
            t.AddRow($"free pages node {n} (min/low/high {w.PagesMin}/{w.PagesLow}/{w.PagesHigh})", $"[{colour}]{free}[/]");
        }
        t.AddRow("kswapd runs (pageoutrun)", N(s.KswapdRuns));
        t.AddRow("rounds / checker passes", $"{N(s.Rounds)} / {N(s.Checks)}");
        t.AddRow("tasks / process memory", $"{s.Tasks} / {s.WorkingSetBytes >> 20} MiB");
        t.AddRow("violations", s.Violations == 0 ? "[green]0[/]" : $"[red]{s.Violations}[/]");
        return t;
    }
}

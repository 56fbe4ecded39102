using System.Globalization;
using System.Net;
using ActorNuma.Mm;
using ScottPlot;

namespace ActorNuma.Cli;

/// <summary>The soak's pictures, drawn from its CSV files at the end: free pages per node against the watermarks, swap
/// slots in use, faults and migrated pages per interval (metrics.csv), the latency distribution of mbind MOVE and
/// migrate_pages calls (latency.csv), the process's memory over time (process.csv); and index.html, a static page (no
/// scripts) with the summary and the plots.</summary>
public static class SoakPlots
{
    public static readonly string[] Files =
        ["free-pages.png", "swap-used.png", "faults-migrated.png", "latency.png", "process-memory.png", "index.html"];

    private const int Width = 900;
    private const int Height = 450;

    /// <param name="virtualTime">Deterministic mode's rows are on virtual time, concurrent mode's on the wall clock.</param>
    public static void Write(string directory, Watermarks watermarks, bool virtualTime)
    {
        var xLabel = virtualTime ? "virtual time (s)" : "wall time (s)";
        var (columns, rows) = ReadCsv(Path.Combine(directory, "metrics.csv"));
        double[] Column(string name) => rows.Select(r => r.Values[columns.IndexOf(name)]).ToArray();
        var time = Column("time_s");
        FreePages(directory, columns, time, Column, watermarks, xLabel);
        Lines(directory, "swap-used.png", "Swap slots in use", "slots", xLabel, time, [("swap_used", Column("swap_used"))]);
        Lines(directory, "faults-migrated.png", "Faults and migrated pages per interval", "pages per interval", xLabel, time,
            [("pgfault", Column("pgfault")), ("pgmajfault", Column("pgmajfault")), ("migrated", Column("migrated")),
             ("pswpin", Column("pswpin")), ("pswpout", Column("pswpout"))]);
        Latency(directory, virtualTime);
        ProcessMemory(directory);
        Index(directory);
    }

    /// <summary>One bar per latency bucket and call, over a log2 axis of microseconds: the share of each call's
    /// invocations that took that long.</summary>
    private static void Latency(string directory, bool virtualTime)
    {
        var (_, rows) = ReadCsv(Path.Combine(directory, "latency.csv"), textColumns: 1);
        var plot = NewPlot($"Latency of mbind MOVE and migrate_pages ({(virtualTime ? "virtual" : "wall")} time)",
            "latency (µs, log2 scale)", "share of the calls (%)");
        var colours = new[] { Colors.C0, Colors.C1 };
        var calls = rows.Select(r => r.Text[0]).Distinct().ToArray();
        for (var c = 0; c < calls.Length; c++)
        {
            var mine = rows.Where(r => r.Text[0] == calls[c]).ToArray();
            var total = mine.Sum(r => r.Values[2]);
            var bars = mine.Select(r => new Bar
            {
                Position = Math.Log2(Math.Max(0.5, r.Values[0])) + 0.125 + c * 0.1,
                Value = 100 * r.Values[2] / total,
                Size = 0.1,
                FillColor = colours[c % colours.Length],
            }).ToList();
            plot.Add.Bars(bars).LegendText = $"{calls[c]} ({total:0} calls)";
        }
        if (calls.Length == 0)
        {
            plot.Add.Annotation("no mbind MOVE or migrate_pages call completed");
        }

        var ticks = Enumerable.Range(-1, 26).Select(e => new Tick(e, e < 0 ? "<1" : Pow2Label(e))).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Margins(bottom: 0);
        Save(plot, directory, "latency.png");
    }

    private static string Pow2Label(int e) => e < 10 ? $"{1 << e}" : e < 20 ? $"{1 << (e - 10)}k" : $"{1 << (e - 20)}M";

    private static void ProcessMemory(string directory)
    {
        var (columns, rows) = ReadCsv(Path.Combine(directory, "process.csv"));
        double[] Column(string name) => rows.Select(r => r.Values[columns.IndexOf(name)]).ToArray();
        var plot = NewPlot("Process memory over time", "wall time (s)", "MiB");
        var time = Column("wall_s");
        var rss = Column("working_set_bytes").Select(b => b / (1 << 20)).ToArray();
        plot.Add.ScatterLine(time, rss).LegendText = "working set (RSS)";
        plot.Add.ScatterLine(time, Column("gc_heap_bytes").Select(b => b / (1 << 20)).ToArray()).LegendText = "GC heap";
        // From zero, so that a flat line looks flat and growth shows at its true size.
        plot.Axes.SetLimitsY(0, Math.Max(1, rss.DefaultIfEmpty(0).Max()) * 1.15);
        Save(plot, directory, "process-memory.png");
    }

    private static void FreePages(string directory, List<string> columns, double[] time, Func<string, double[]> column, Watermarks w,
        string xLabel)
    {
        var plot = NewPlot("Free pages per node, against the zone watermarks", xLabel, "free pages");
        foreach (var name in columns.Where(c => c.StartsWith("free_node", StringComparison.Ordinal)))
        {
            plot.Add.ScatterLine(time, column(name)).LegendText = name["free_".Length..];
        }

        foreach (var (label, value) in new[] { ("pages_min", w.PagesMin), ("pages_low", w.PagesLow), ("pages_high", w.PagesHigh) })
        {
            var line = plot.Add.HorizontalLine(value);
            line.LinePattern = LinePattern.Dashed;
            line.LegendText = $"{label} ({value})";
        }
        Save(plot, directory, "free-pages.png");
    }

    private static void Lines(string directory, string file, string title, string yLabel, string xLabel, double[] time,
        (string Name, double[] Values)[] series)
    {
        var plot = NewPlot(title, xLabel, yLabel);
        foreach (var (name, values) in series)
        {
            plot.Add.ScatterLine(time, values).LegendText = name;
        }

        Save(plot, directory, file);
    }

    private static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot;
    }

    private static void Save(Plot plot, string directory, string file)
    {
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(Path.Combine(directory, file), Width, Height);
    }

    /// <summary>A CSV file's header and rows; the first <paramref name="textColumns"/> cells of a row are text, the
    /// rest numbers (<c>Values</c> indexes from the first number).</summary>
    private static (List<string> Columns, List<(string[] Text, double[] Values)> Rows) ReadCsv(string path, int textColumns = 0)
    {
        var lines = File.ReadAllLines(path);
        var header = lines[0].Split(',');
        var columns = header.Skip(textColumns).ToList();
        // A row that does not have the header's fields, or a field that is not a number, is skipped rather than failing
        // the plots at the end of an hours-long run: a 30-minute soak's metrics.csv once held a stray fragment ("6")
        // between two whole rows, with a "}" at the same place in metrics.jsonl.
        var rows = new List<(string[] Text, double[] Values)>(lines.Length);
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(',');
            if (cells.Length != header.Length)
            {
                continue;
            }

            var values = new double[cells.Length - textColumns];
            var ok = true;
            for (var k = 0; k < values.Length && ok; k++)
            {
                ok = double.TryParse(cells[textColumns + k], NumberStyles.Float, CultureInfo.InvariantCulture, out values[k]);
            }

            if (ok)
            {
                rows.Add((cells[..textColumns], values));
            }
        }

        return (columns, rows);
    }

    private static void Index(string directory)
    {
        var summary = WebUtility.HtmlEncode(File.ReadAllText(Path.Combine(directory, "summary.md")));
        var images = string.Concat(Files.Where(f => f.EndsWith(".png", StringComparison.Ordinal))
            .Select(f => $"<p><img src=\"{f}\" alt=\"{f}\" width=\"{Width}\" height=\"{Height}\"></p>\n"));
        File.WriteAllText(Path.Combine(directory, "index.html"),
            $"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ActorNuma soak</title></head>\n<body>\n" +
            $"<pre>{summary}</pre>\n{images}<p>Data: <a href=\"metrics.csv\">metrics.csv</a>, <a href=\"metrics.jsonl\">metrics.jsonl</a>, " +
            "<a href=\"report.json\">report.json</a></p>\n</body></html>\n");
    }
}

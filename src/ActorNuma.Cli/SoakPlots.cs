using System.Globalization;
using System.Net;
using ActorNuma.Mm;
using ScottPlot;

namespace ActorNuma.Cli;

/// <summary>The soak's pictures, drawn from its metrics.csv at the end: free pages per node against the watermarks,
/// swap slots in use, faults and migrated pages per interval; and index.html, a static page (no scripts) with the
/// summary and the plots.</summary>
public static class SoakPlots
{
    public static readonly string[] Files = ["free-pages.png", "swap-used.png", "faults-migrated.png", "index.html"];

    private const int Width = 900;
    private const int Height = 450;

    /// <param name="virtualTime">Deterministic mode's rows are on virtual time, concurrent mode's on the wall clock.</param>
    public static void Write(string directory, Watermarks watermarks, bool virtualTime)
    {
        var xLabel = virtualTime ? "virtual time (s)" : "wall time (s)";
        var (columns, rows) = ReadCsv(Path.Combine(directory, "metrics.csv"));
        double[] Column(string name) => rows.Select(r => r[columns.IndexOf(name)]).ToArray();
        var time = Column("time_s");
        FreePages(directory, columns, time, Column, watermarks, xLabel);
        Lines(directory, "swap-used.png", "Swap slots in use", "slots", xLabel, time, [("swap_used", Column("swap_used"))]);
        Lines(directory, "faults-migrated.png", "Faults and migrated pages per interval", "pages per interval", xLabel, time,
            [("pgfault", Column("pgfault")), ("pgmajfault", Column("pgmajfault")), ("migrated", Column("migrated")),
             ("pswpin", Column("pswpin")), ("pswpout", Column("pswpout"))]);
        Index(directory);
    }

    private static void FreePages(string directory, List<string> columns, double[] time, Func<string, double[]> column, Watermarks w,
        string xLabel)
    {
        var plot = NewPlot("Free pages per node, against the zone watermarks", xLabel, "free pages");
        foreach (var name in columns.Where(c => c.StartsWith("free_node", StringComparison.Ordinal)))
            plot.Add.ScatterLine(time, column(name)).LegendText = name["free_".Length..];
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
        foreach (var (name, values) in series) plot.Add.ScatterLine(time, values).LegendText = name;
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

    private static (List<string> Columns, List<double[]> Rows) ReadCsv(string path)
    {
        var lines = File.ReadAllLines(path);
        var columns = lines[0].Split(',').ToList();
        var rows = lines.Skip(1).Where(l => l.Length > 0)
            .Select(l => l.Split(',').Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray()).ToList();
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

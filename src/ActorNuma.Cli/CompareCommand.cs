using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;
using ScottPlot;

namespace ActorNuma.Cli;

/// <summary><c>actornuma compare &lt;scenario&gt; [--profiles 2.6.14-v2,2.6.16,2.6.18] [--seed N] [--copy-latency D]
/// [--write-latency D] [--read-latency D] [--out DIR]</c>: one scenario under each migration form, side by side — the
/// seed's disadvantages of swap-based migration as numbers (A time, B swap space, C placement) — as a table and as a
/// PNG bar chart (DIR/compare.png).</summary>
public static class CompareCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string>("scenario") { Description = "Scenario file (HOCON)" };
        var profiles = new Option<string[]>("--profiles")
        {
            Description = "Comma-separated kernel profiles (2.6.14-v2 is v2, the seed; 2.6.16-swap is 2.6.16 with direct-via-swap-cache = off)",
            CustomParser = ParseProfiles,
        };
        var seed = new Option<int?>("--seed") { Description = "Seed of the deterministic scheduler", CustomParser = RunCommand.ParseSeed };
        var copy = Duration("--copy-latency", "Time to copy one page in direct migration (overrides actornuma.swap.copy-latency)");
        var write = Duration("--write-latency", "Time to write one page to swap (overrides actornuma.swap.write-latency)");
        var read = Duration("--read-latency", "Time to read one page from swap (overrides actornuma.swap.read-latency)");
        var output = new Option<string?>("--out") { Description = "Directory for compare.png (default: the current directory)" };
        var command = new Command("compare", "Run one scenario under several kernel profiles and compare the migration forms")
        {
            scenario, profiles, seed, copy, write, read, output,
        };
        command.SetAction(p => Execute(p.GetValue(scenario)!, p.GetValue(profiles), p.GetValue(seed), p.GetValue(copy),
            p.GetValue(write), p.GetValue(read), p.GetValue(output)));
        return command;
    }

    private static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (HoconDuration.Parse(text) is { } d && d >= TimeSpan.Zero)
            {
                return d;
            }

            r.AddError($"{name}: expected a duration such as 2us, 100us or 5ms, got \"{text}\"");
            return null;
        },
    };

    private static string[]? ParseProfiles(ArgumentResult r)
    {
        var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
        var names = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var unknown = names.FirstOrDefault(n => MigrationComparison.Profile(n) is null);
        if (names.Length > 0 && unknown is null)
        {
            return names;
        }

        r.AddError($"--profiles: expected profiles such as 2.6.14-v2,2.6.16,2.6.18, got \"{unknown ?? text}\"");
        return null;
    }

    private static int Execute(string file, string[]? profiles, int? seed, TimeSpan? copy, TimeSpan? write, TimeSpan? read, string? output)
    {
        LoadedScenario loaded;
        var directory = output ?? ".";
        try
        {
            loaded = ScenarioLoader.LoadFile(file);
            Directory.CreateDirectory(directory);
        }
        catch (ScenarioException e)
        {
            Console.Error.WriteLine($"actornuma: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"actornuma: --out {directory}: {e.Message}");
            return ExitCodes.BadInput;
        }
        var swap = loaded.Machine.Swap;
        swap = swap with { CopyLatency = copy ?? swap.CopyLatency, WriteLatency = write ?? swap.WriteLatency, ReadLatency = read ?? swap.ReadLatency };
        loaded = loaded with { Machine = loaded.Machine with { Swap = swap } };
        var names = profiles is { Length: > 0 } ? profiles : MigrationComparison.DefaultProfiles;
        var s = seed ?? loaded.Machine.Run.Seed;
        Console.WriteLine($"compare scenario={loaded.Scenario.Name} seed={s} profiles={string.Join(",", names)} " +
            $"copy_latency={Us(swap.CopyLatency)} write_latency={Us(swap.WriteLatency)} read_latency={Us(swap.ReadLatency)}");
        var rows = MigrationComparison.Run(loaded, names, s);
        Print(rows);
        var png = Path.Combine(directory, "compare.png");
        try { Chart(rows, png); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"actornuma: {png}: {e.Message}");
            return ExitCodes.BadInput;
        }
        Console.WriteLine($"chart: {png}");
        return rows.Any(r => r.Violations > 0) ? ExitCodes.CheckerFired : ExitCodes.Ok;
    }

    private static string Us(TimeSpan t) => $"{t.TotalMicroseconds.ToString(CultureInfo.InvariantCulture)}us";

    /// <summary>The metrics, one row per measure and one column per profile.</summary>
    private static readonly (string Label, Func<ComparisonRow, string> Value)[] Measures =
    [
        ("   form", r => r.Form),
        ("A  virtual time (ms)", r => r.VirtualTime.TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture)),
        ("A  swap writes (pswpout)", r => Num(r.Pswpout)),
        ("A  swap reads (pswpin)", r => Num(r.Pswpin)),
        ("A  faults (pgfault)", r => Num(r.Faults)),
        ("A  major faults (pgmajfault)", r => Num(r.MajorFaults)),
        ("B  swap slots at peak", r => Num(r.PeakSwapSlots)),
        ("B  pages left behind", r => Num(r.PagesLeftBehind)),
        ("C  pages under a policy", r => Num(r.PlacedPages)),
        ("C  misplaced vs policy", r => Num(r.Misplaced)),
        ("C  interleave pages", r => Num(r.InterleavePages)),
        ("C  interleave off their node", r => Num(r.InterleaveOffNode)),
        ("C  not resident (in swap)", r => Num(r.NotResident)),
        ("   expectations held", r => r.ExpectationsHeld ? "yes" : "no"),
        ("   checker violations", r => Num(r.Violations)),
    ];

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static void Print(IReadOnlyList<ComparisonRow> rows)
    {
        var width = Measures.Max(m => m.Label.Length) + 2;
        var columns = rows.Select(r => Math.Max(Math.Max(12, r.Profile.Length + 2), r.Form.Length + 2)).ToArray();
        Console.WriteLine("measure".PadRight(width) + string.Concat(rows.Select((r, k) => r.Profile.PadLeft(columns[k]))));
        foreach (var (label, value) in Measures)
        {
            Console.WriteLine(label.PadRight(width) + string.Concat(rows.Select((r, k) => value(r).PadLeft(columns[k]))));
        }
    }

    /// <summary>Grouped bars: for each measure one bar per profile, scaled to the largest value of that measure (1.0), each
    /// labelled with its value.</summary>
    private static void Chart(IReadOnlyList<ComparisonRow> rows, string path)
    {
        (string Label, Func<ComparisonRow, double> Value)[] series =
        [
            ("A time (ms)", r => r.VirtualTime.TotalMilliseconds),
            ("A swap I/O", r => r.Pswpout + r.Pswpin),
            ("A faults", r => r.Faults),
            ("B peak swap", r => r.PeakSwapSlots),
            ("B left behind", r => r.PagesLeftBehind),
            ("C misplaced", r => r.Misplaced),
            ("C interleave off", r => r.InterleaveOffNode),
            ("C not resident", r => r.NotResident),
        ];
        var plot = new Plot();
        plot.Title("Migration forms: the seed's disadvantages A (time), B (swap), C (placement)");
        plot.YLabel("relative to the largest of each measure");
        var palette = new ScottPlot.Palettes.Category10();
        for (var p = 0; p < rows.Count; p++)
        {
            var bars = new List<Bar>();
            for (var m = 0; m < series.Length; m++)
            {
                var max = rows.Max(r => series[m].Value(r));
                var value = series[m].Value(rows[p]);
                bars.Add(new Bar
                {
                    Position = m * (rows.Count + 1) + p,
                    Value = max > 0 ? value / max : 0,
                    FillColor = palette.GetColor(p),
                    Label = value.ToString(value % 1 == 0 ? "0" : "0.##", CultureInfo.InvariantCulture),
                });
            }
            var barPlot = plot.Add.Bars(bars);
            barPlot.LegendText = rows[p].Profile;
            barPlot.ValueLabelStyle.FontSize = 10;
        }
        var ticks = series.Select((s, m) => new Tick(m * (rows.Count + 1) + (rows.Count - 1) / 2.0, s.Label)).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.Margins(bottom: 0, top: 0.15);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, 1100, 550);
    }
}

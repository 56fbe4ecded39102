using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ActorNuma.Simulation.Bench;

/// <summary>What a figure must reach: at least (rates) or at most (bytes, cost ratios) <see cref="Value"/>.</summary>
public sealed record Target(bool AtLeast, double Value)
{
    public static Target Min(double value) => new(true, value);
    public static Target Max(double value) => new(false, value);

    public bool HeldBy(double value) => AtLeast ? value >= Value : value <= Value;

    public override string ToString() => (AtLeast ? ">= " : "<= ") + Figure.Number(Value);
}

/// <summary>How a figure's runs converged: every measured value in the order run, and whether the last
/// <c>window</c> of them agreed within the tolerance before the bound on runs was reached.</summary>
public sealed record Convergence(IReadOnlyList<double> Values, int Window, double Tolerance, bool Converged)
{
    public override string ToString() =>
        Converged
            ? $"converged after {Values.Count} runs (last {Window} within {Tolerance:P0})"
            : $"did NOT converge in {Values.Count} runs (last {Window}: {string.Join(", ", Values.TakeLast(Window).Select(Figure.Number))})" +
              (Alternation is var (latest, other)
                  ? $"; its runs alternate between {Figure.Number(latest)} (the last run's) and {Figure.Number(other)}"
                  : "");

    /// <summary>A figure that did not converge because its runs take turns between two values: over the last
    /// 2 x <see cref="Window"/> runs (at least 6), the runs of each parity agree within the tolerance and the two
    /// parities do not. The medians of the last run's parity and of the other; null otherwise. (The migration rates do
    /// this: a run with a gen0 collection inside it reuses memory, the next one, without, touches fresh memory.)</summary>
    [JsonIgnore]
    public (double Latest, double Other)? Alternation
    {
        get
        {
            var n = Math.Max(6, 2 * Window);
            if (Converged || Values.Count < n)
            {
                return null;
            }

            var last = Values.TakeLast(n).ToArray();
            var latest = last.Where((_, k) => k % 2 == 1).Order().ToArray();   // n is even: odd positions end on the last run
            var other = last.Where((_, k) => k % 2 == 0).Order().ToArray();
            bool Agree(double[] v) => v[0] > 0 && v[^1] / v[0] <= 1 + Tolerance;
            var (a, b) = (latest[latest.Length / 2], other[other.Length / 2]);
            return Agree(latest) && Agree(other) && Math.Max(a, b) / Math.Min(a, b) > 1 + Tolerance ? (a, b) : null;
        }
    }
}

/// <summary>One measured figure: its value (the median of the converged window), the target the performance issue sets
/// for it, and, for rates of work that crosses actors, its ratio to the raw one-way Tell rate measured in the same
/// bench run (the ceiling of a message-passing design on this machine).</summary>
public sealed record Figure(string Name, double Value, string Unit, string Detail)
{
    public Target? Target { get; init; }
    public bool? Holds => Target?.HeldBy(Value);
    /// <summary>Value divided by the raw one-way Tell rate of this run.</summary>
    public double? TellRatio { get; init; }
    public Convergence? Runs { get; init; }

    public static string Number(double v) =>
        v.ToString(Math.Abs(v) >= 1000 ? "N0" : Math.Abs(v) >= 10 ? "F1" : "F2", CultureInfo.InvariantCulture);

    public string Line()
    {
        var target = Target is null ? "" : $"target {Target} {(Holds == true ? "holds" : "MISSED")}";
        var ratio = TellRatio is { } r ? $"{r:F3}x tell" : "";
        return $"{Name,-40} {Number(Value),14} {Unit,-9} {target,-28} {ratio,-12} {Detail}" +
               (Runs is null ? "" : $"; {Runs}");
    }
}

/// <summary>The bench's JSON file: the machine and runtime configuration it measured under and every figure.</summary>
public sealed record BenchReport(
    string Gc, string Jit, int Cpus, bool Quick, string Started, double ElapsedSeconds, IReadOnlyList<Figure> Figures)
{
    public string ToJson() => JsonSerializer.Serialize(this, BenchJsonContext.Default.BenchReport);
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BenchReport))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;

/// <summary>Measures a figure until it converges: runs until the last <see cref="Window"/> values lie within
/// <see cref="Tolerance"/> of each other (max/min), at most <see cref="MaxRuns"/> runs, and reports the median of that
/// window. The tiered JIT keeps recompiling hot methods for many runs (on two cores its compiles compete with the run),
/// so a fixed warm-up count measured tier-0 code for some figures and not for others.</summary>
public sealed record ConvergencePolicy(int Window, double Tolerance, int MaxRuns)
{
    public Figure Measure(Func<Figure> run, Action<string>? progress, bool eachRun)
    {
        var runs = new List<Figure>();
        var converged = false;
        while (runs.Count < MaxRuns)
        {
            var f = run();
            runs.Add(f);
            if (eachRun)
            {
                progress?.Invoke("    " + f.Line());
            }

            if (runs.Count < Window)
            {
                continue;
            }

            var last = runs.TakeLast(Window).Select(x => x.Value).ToArray();
            if (last.Min() > 0 && last.Max() / last.Min() <= 1 + Tolerance)
            {
                converged = true;
                break;
            }
        }
        var window = runs.TakeLast(Math.Min(Window, runs.Count)).OrderBy(x => x.Value).ToList();
        var median = window[window.Count / 2];
        return median with { Runs = new Convergence(runs.Select(x => x.Value).ToArray(), Window, Tolerance, converged) };
    }
}

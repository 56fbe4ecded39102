using System.Globalization;
using System.Text.RegularExpressions;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>HOCON durations: a number and a unit (<c>ns</c>, <c>us</c>, <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>,
/// <c>d</c> and their long names), or a bare number of milliseconds. Akka's GetTimeSpan rejects <c>100us</c> and
/// truncates nanoseconds, so the loader and the command line read durations here.</summary>
public static partial class HoconDuration
{
    /// <summary>The duration in 100ns ticks, possibly negative, fractional or too large; null for text that is no
    /// duration.</summary>
    public static decimal? Ticks(string text)
    {
        var match = Duration().Match(text);
        if (!match.Success || !TicksPerUnit.TryGetValue(match.Groups[2].Value.ToLowerInvariant(), out var perUnit))
        {
            return null;
        }

        return decimal.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) * perUnit;
    }

    /// <summary>A duration of at least 0 and a whole number of ticks, or null.</summary>
    public static TimeSpan? Parse(string text) =>
        Ticks(text) is { } t && t >= 0 && t <= TimeSpan.MaxValue.Ticks && t == decimal.Truncate(t) ? TimeSpan.FromTicks((long)t) : null;

    private static readonly Dictionary<string, decimal> TicksPerUnit = BuildUnits();

    private static Dictionary<string, decimal> BuildUnits()
    {
        var units = new Dictionary<string, decimal> { [""] = TimeSpan.TicksPerMillisecond };
        void Add(decimal ticks, params string[] names) { foreach (var n in names) { units[n] = ticks; } }
        Add(0.01m, "ns", "nano", "nanos", "nanosecond", "nanoseconds");
        Add(10m, "us", "micro", "micros", "microsecond", "microseconds");
        Add(TimeSpan.TicksPerMillisecond, "ms", "milli", "millis", "millisecond", "milliseconds");
        Add(TimeSpan.TicksPerSecond, "s", "second", "seconds");
        Add(TimeSpan.TicksPerMinute, "m", "minute", "minutes");
        Add(TimeSpan.TicksPerHour, "h", "hour", "hours");
        Add(TimeSpan.TicksPerDay, "d", "day", "days");
        return units;
    }

    [GeneratedRegex(@"^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")]
    private static partial Regex Duration();

}

using System.Globalization;
using System.Text.RegularExpressions;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>Typed reads. Each either returns a value or throws the one-line error naming this key.</summary>
internal sealed partial class ConfigNode
{
    /// <summary>This node, after checking it is a block and has no key outside <paramref name="known"/> (typos must
    /// not pass silently). <paramref name="keysOf"/> names whose keys they are in the message.</summary>
    public ConfigNode ReadBlock(string expected, IReadOnlyList<string>? known = null, string? keysOf = null)
    {
        if (Kind != ConfigNodeKind.Block)
        {
            throw Error(expected);
        }

        if (known is null)
        {
            return this;
        }

        foreach (var (key, value) in _fields)
        {
            if (!known.Contains(key))
            {
                throw value.Error(keysOf is null ? $"one of {Alternatives(known)}" : $"a key of {keysOf} ({Alternatives(known)})",
                    "an unknown key");
            }
        }

        return this;
    }

    public IReadOnlyList<ConfigNode> ReadList(string expected) =>
        Kind == ConfigNodeKind.List ? _items : throw Error(expected);

    public string ReadString(string expected) =>
        Kind == ConfigNodeKind.Scalar && Text.Length > 0 ? Text : throw Error(expected);

    public long ReadLong(long min = long.MinValue, long max = long.MaxValue, string? expected = null)
    {
        var what = expected ?? WholeNumber(min, max);
        if (!TryParseInteger(out var value))
        {
            throw Error(what);
        }

        return value >= min && value <= max ? (long)value : throw Error(what);
    }

    public int ReadInt(int min = int.MinValue, int max = int.MaxValue, string? expected = null)
    {
        // One open end reads as ">= min"; a number with no bounds of its own still shows the int range.
        var shown = (min, max) switch
        {
            (int.MinValue, int.MaxValue) => WholeNumber(min, max),
            (_, int.MaxValue) => WholeNumber(min, long.MaxValue),
            (int.MinValue, _) => WholeNumber(long.MinValue, max),
            _ => WholeNumber(min, max),
        };
        return (int)ReadLong(min, max, expected ?? shown);
    }

    public ulong ReadULong(string expected)
    {
        if (!TryParseInteger(out var value) || value < 0 || value > ulong.MaxValue)
        {
            throw Error(expected);
        }

        return (ulong)value;
    }

    /// <summary>An integer written in decimal or as <c>0x</c> hex, quoted or not.</summary>
    public bool TryParseInteger(out Int128 value)
    {
        value = 0;
        if (Kind != ConfigNodeKind.Scalar)
        {
            return false;
        }

        var text = Text.Trim();
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            var ok = UInt128.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hex);
            if (ok && hex <= (UInt128)Int128.MaxValue)
            {
                value = (Int128)hex;
            }

            return ok && hex <= (UInt128)Int128.MaxValue;
        }
        return DecimalInteger().IsMatch(text)
               && Int128.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>HOCON booleans as Akka reads them: on/off, true/false, yes/no.</summary>
    public bool ReadBool()
    {
        if (Kind == ConfigNodeKind.Scalar)
        {
            switch (Text.Trim().ToLowerInvariant())
            {
                case "on" or "true" or "yes": return true;
                case "off" or "false" or "no": return false;
            }
        }
        throw Error("on or off");
    }

    /// <summary>One of <paramref name="choices"/>, by name, ignoring case.</summary>
    public T ReadChoice<T>(IReadOnlyList<(string Name, T Value)> choices, string? expected = null)
    {
        if (Kind == ConfigNodeKind.Scalar)
        {
            foreach (var (name, value) in choices)
            {
                if (string.Equals(name, Text.Trim(), StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }
        }

        throw Error(expected ?? Alternatives(choices.Select(c => c.Name).ToList()));
    }

    /// <summary>A HOCON duration: a number and a unit (<c>ns</c>, <c>us</c>, <c>ms</c>, <c>s</c>, <c>m</c>, <c>h</c>,
    /// <c>d</c> and their long names), or a bare number of milliseconds. Akka's GetTimeSpan rejects <c>100us</c> and
    /// truncates nanoseconds, so the loader reads durations itself and refuses what a TimeSpan tick cannot hold.</summary>
    public TimeSpan ReadDuration()
    {
        var ticks = Kind == ConfigNodeKind.Scalar ? HoconDuration.Ticks(Text) : null;
        if (ticks is not { } t || t < 0 || t > TimeSpan.MaxValue.Ticks)
        {
            throw Error("a duration >= 0 such as 100us, 5ms or 1s");
        }

        if (t != decimal.Truncate(t))
        {
            throw Error("a duration in whole multiples of 100ns");
        }

        return TimeSpan.FromTicks((long)t);
    }

    /// <summary>"a, b, c or d".</summary>
    public static string Alternatives(IReadOnlyList<string> names) =>
        names.Count <= 1 ? string.Concat(names) : $"{string.Join(", ", names.Take(names.Count - 1))} or {names[^1]}";

    private static string WholeNumber(long min, long max) => (min, max) switch
    {
        (long.MinValue, long.MaxValue) => "a whole number",
        (_, long.MaxValue) => $"a whole number >= {min}",
        (long.MinValue, _) => $"a whole number <= {max}",
        _ => $"a whole number from {min} to {max}",
    };

    [GeneratedRegex(@"^[+-]?\d+$")]
    private static partial Regex DecimalInteger();
}

using System.Text.RegularExpressions;
using Akka.Configuration;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>Turns HOCON text into a <see cref="Config"/>, or into one <see cref="ScenarioException"/> line naming the
/// file. A bracket and quote scan runs first, for two faults of Akka's parser: it quietly accepts an unclosed
/// <c>{</c> or <c>[</c>, a stray <c>}</c> (dropping everything after it) and an unterminated string, which the scan
/// reports with line and column, as it does nesting deeper than <see cref="MaxDepth"/> and an <c>=</c> or <c>:</c>
/// directly inside a list (on which the parser loops forever); and it rejects a comma after a block written without <c>=</c>
/// (<c>nodes { "0" = 16 }, swapped = 0</c>), valid HOCON that the scan turns into a newline.</summary>
internal static partial class HoconDocument
{
    /// <summary>How deep blocks and lists may nest. Akka's parser and the loader recurse once per level, and a few
    /// thousand levels overflow the stack; a scenario needs about six.</summary>
    public const int MaxDepth = 64;

    public static Config Parse(string text, string source)
    {
        // Same length as text, so the positions Akka reports still index the original.
        var normalized = ScanBrackets(text, source);
        try
        {
            return ConfigurationFactory.ParseString(normalized, include => throw RefuseInclude(source, include));
        }
        // The parser throws ConfigurationException or FormatException, and on some inputs whatever its own code
        // trips over: each is a file the user must fix, so each becomes one line naming it.
        catch (Exception e) when (e is not (OutOfMemoryException or ScenarioException))
        {
            throw new ScenarioException($"{source}: {Where(text, e.Message)}expected valid HOCON, got {FirstLine(e.Message)}");
        }
    }

    /// <summary>Akka's parser has no include resolver of its own (without one it dereferences null). A scenario is one
    /// file over the defaults of reference.conf, so an include is refused by name.</summary>
    private static ScenarioException RefuseInclude(string source, string include) =>
        new($"{source}: include {ConfigNode.Quote(include)}: expected a scenario in one file (reference.conf supplies " +
            "every default), got an include");

    /// <summary>The text of an embedded resource of this assembly.</summary>
    public static string ReadResource(string name)
    {
        using var stream = typeof(HoconDocument).Assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"The embedded resource {name} is missing from ActorNuma.Simulation.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Checks brackets and quotes, and returns the text with each comma after a <c>}</c> that closes a
    /// value inside a block (not a list) turned into a newline, which HOCON reads the same.</summary>
    private static string ScanBrackets(string text, string source)
    {
        var normalized = text.ToCharArray();
        var open = new Stack<(char Bracket, int Line, int Column)>();
        var line = 1;
        var lineStart = 0;
        var (previous, previousLine) = ('\n', 0);   // the last character outside whitespace and comments, and its line
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var column = i - lineStart + 1;
            ScenarioException Fail(string expected, string found) =>
                new($"{source}: line {line}, column {column}: expected {expected}, got {found}");

            var comment = c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/');
            if (c == '\n') { line++; lineStart = i + 1; }
            else if (comment)
            {
                i = EndOfLine(text, i) - 1;
            }
            else if (c == '"' && string.CompareOrdinal(text, i, "\"\"\"", 0, 3) == 0)
            {
                var end = text.IndexOf("\"\"\"", i + 3, StringComparison.Ordinal);
                if (end < 0)
                {
                    throw Fail("\"\"\" to close this multi-line string", "the end of the file");
                }

                for (var j = i; j < end; j++)
                {
                    if (text[j] == '\n') { line++; lineStart = j + 1; }
                }

                i = end + 2;
            }
            else if (c == '"')
            {
                i = EndOfString(text, i) ?? throw Fail("a closing \" on the same line", "an unterminated string");
            }
            else if (c is '{' or '[')
            {
                if (open.Count == MaxDepth)
                {
                    throw Fail($"at most {MaxDepth} nested blocks and lists", $"'{c}' one level deeper");
                }
                // Inside a block inside a list, Akka's parser never returns from a block where a key belongs
                // ("[ { { e = 1 } } ]", "[ { n = 1\n { e = 1 } } ]") or a second block after one ("e { } { d = 1 }",
                // valid HOCON elsewhere). There a block must follow its key on the same line, or an = or :.
                if (c == '{' && open.TryPeek(out var top) && top.Bracket == '{' && open.Any(o => o.Bracket == '[')
                    && !(previous is '=' or ':' || (previousLine == line && previous is not ('{' or '}' or ',' or '[' or ']'))))
                {
                    throw Fail("a key before this '{' (a block inside a list element needs one: name { ... })", "a block without a key");
                }

                open.Push((c, line, column));
            }
            // Akka's parser loops forever on a key-value separator directly inside a list ("[ x = 1 ]"); HOCON allows
            // neither character unquoted there, so it is refused before the parser sees it.
            else if (c is '=' or ':' && open.Count > 0 && open.Peek().Bracket == '[')
            {
                throw Fail("a value, ',' or ']' in the list opened at " +
                           $"line {open.Peek().Line}, column {open.Peek().Column}", $"'{c}'");
            }
            else if (c is '}' or ']')
            {
                if (open.Count == 0)
                {
                    throw Fail("a value or key", $"an unmatched '{c}'");
                }

                var (bracket, l, col) = open.Pop();
                var closer = bracket == '{' ? '}' : ']';
                if (c != closer)
                {
                    throw Fail($"'{closer}' to close the '{bracket}' opened at line {l}, column {col}", $"'{c}'");
                }

                var comma = CommaAfter(text, i + 1);
                if (c == '}' && comma >= 0 && (open.Count == 0 || open.Peek().Bracket == '{'))
                {
                    normalized[comma] = '\n';
                }
            }
            if (!comment && !char.IsWhiteSpace(c))
            {
                (previous, previousLine) = (text[i], line);
            }
        }
        if (open.Count > 0)
        {
            var (bracket, l, col) = open.Peek();
            throw new ScenarioException($"{source}: line {l}, column {col}: expected a closing '{(bracket == '{' ? '}' : ']')}' " +
                                        $"for this '{bracket}', got the end of the file");
        }
        return new string(normalized);
    }

    /// <summary>The index of a comma that follows <paramref name="from"/> after nothing but whitespace, or -1.</summary>
    private static int CommaAfter(string text, int from)
    {
        var j = from;
        while (j < text.Length && char.IsWhiteSpace(text[j]))
        {
            j++;
        }

        return j < text.Length && text[j] == ',' ? j : -1;
    }

    private static int EndOfLine(string text, int i)
    {
        var end = text.IndexOf('\n', i);
        return end < 0 ? text.Length : end;
    }

    /// <summary>The index of the closing quote of the string opened at <paramref name="i"/>, or null when the line
    /// or the file ends first.</summary>
    private static int? EndOfString(string text, int i)
    {
        for (var j = i + 1; j < text.Length; j++)
        {
            if (text[j] == '\\')
            {
                j++;
            }
            else if (text[j] == '"')
            {
                return j;
            }
            else if (text[j] == '\n')
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>"line L, column C: " from the "at position N" Akka puts in some messages.</summary>
    private static string Where(string text, string message)
    {
        var m = Position().Match(message);
        if (!m.Success || !int.TryParse(m.Groups[1].Value, out var pos) || pos < 0 || pos > text.Length)
        {
            return "";
        }

        var before = text[..pos];
        var line = 1 + before.Count(c => c == '\n');
        var column = pos - (before.LastIndexOf('\n') + 1) + 1;
        return $"line {line}, column {column}: ";
    }

    private static string FirstLine(string message)
    {
        var first = message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        return ConfigNode.Quote(Position().Replace(first, "").TrimEnd(':', ' ', '.'));
    }

    [GeneratedRegex(@"\s*at position (\d+)")]
    private static partial Regex Position();
}

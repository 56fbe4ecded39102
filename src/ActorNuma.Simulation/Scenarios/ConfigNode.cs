using System.Text;
using System.Text.RegularExpressions;
using Akka.Configuration.Hocon;

namespace ActorNuma.Simulation.Scenarios;

internal enum ConfigNodeKind { Missing, Empty, Null, Scalar, List, Block }

/// <summary>One value of a parsed HOCON document, with the file and the full key path it came from, so that every
/// reader can name the bad key. Akka's <see cref="HoconValue"/> is turned into this once, which also irons out the
/// parser's quirks: <c>[]</c> is not <c>IsArray()</c>, <c>[ ]</c> holds one empty element, and values keep
/// trailing whitespace literals.</summary>
internal sealed partial class ConfigNode
{
    private readonly IReadOnlyList<ConfigNode> _items;
    private readonly IReadOnlyList<KeyValuePair<string, ConfigNode>> _fields;

    private ConfigNode(string source, string path, ConfigNodeKind kind, string text = "",
        IReadOnlyList<ConfigNode>? items = null, IReadOnlyList<KeyValuePair<string, ConfigNode>>? fields = null)
    {
        Source = source;
        Path = path;
        Kind = kind;
        Text = text;
        _items = items ?? [];
        _fields = fields ?? [];
    }

    public string Source { get; }
    /// <summary>The full key path, such as <c>scenario.steps[2].mode</c>; empty for the document root.</summary>
    public string Path { get; }
    public ConfigNodeKind Kind { get; }
    /// <summary>The text of a scalar, as the parser joined it.</summary>
    public string Text { get; }
    public IReadOnlyList<ConfigNode> Items => _items;
    public IReadOnlyList<KeyValuePair<string, ConfigNode>> Fields => _fields;

    /// <summary>Written in the file, and not <c>null</c>: optional keys treat <c>null</c> as not given.</summary>
    public bool IsSet => Kind is not (ConfigNodeKind.Missing or ConfigNodeKind.Null);

    /// <summary>The child at <paramref name="key"/>, or a Missing node that still knows its path.</summary>
    public ConfigNode this[string key]
    {
        get
        {
            foreach (var (k, v) in _fields)
            {
                if (k == key)
                {
                    return v;
                }
            }

            return new ConfigNode(Source, ChildPath(Path, key), ConfigNodeKind.Missing);
        }
    }

    public static ConfigNode Missing(string source, string path) => new(source, path, ConfigNodeKind.Missing);

    /// <summary>A whole document: its root block, or an empty block for an empty file.</summary>
    public static ConfigNode Document(HoconValue? root, string source)
    {
        var node = FromHocon(root, source, "");
        return node.Kind == ConfigNodeKind.Block ? node : new ConfigNode(source, "", ConfigNodeKind.Block);
    }

    public static ConfigNode FromHocon(HoconValue? value, string source, string path) =>
        FromHocon(value, new Walk(source), path);

    /// <summary>The values being converted, from the root down to the current one, and the substitutions being
    /// followed: Akka resolves <c>x = ${x}</c> or <c>a = [${a}]</c> into a value that contains itself, and asking it
    /// anything (even <c>IsObject()</c>) recurses until the stack is gone, so a cycle is found here first.</summary>
    private sealed class Walk(string source)
    {
        public string Source { get; } = source;
        public HashSet<HoconValue> Open { get; } = new(ReferenceEqualityComparer.Instance);
    }

    private static ConfigNode FromHocon(HoconValue? value, Walk walk, string path)
    {
        var source = walk.Source;
        if (value is null)
        {
            return Missing(source, path);
        }

        if (!walk.Open.Add(value))
        {
            throw Cycle(source, path, null);
        }

        try
        {
            var solid = Flatten(value.Values, walk, path).Where(e => !IsBlank(e)).ToList();
            if (solid.Count == 0)
            {
                return new ConfigNode(source, path, ConfigNodeKind.Empty);
            }

            if (value.IsObject())
            {
                var fields = value.GetObject().Items
                    .Select(kv => KeyValuePair.Create(kv.Key, FromHocon(kv.Value, walk, ChildPath(path, kv.Key))))
                    .ToList();
                return new ConfigNode(source, path, ConfigNodeKind.Block, fields: fields);
            }
            if (solid.All(e => e is HoconArray))
            {
                var elements = solid.SelectMany(e => (HoconArray)e).Where(v => !IsBlankValue(v, walk, path)).ToList();
                var items = elements.Select((v, i) => FromHocon(v, walk, $"{path}[{i}]")).ToList();
                return new ConfigNode(source, path, ConfigNodeKind.List, items: items);
            }
            return Leaf(value, solid, source, path);
        }
        finally
        {
            walk.Open.Remove(value);
        }
    }

    private static ConfigNode Leaf(HoconValue value, List<IHoconElement> solid, string source, string path)
    {
        // Akka keeps the null token as the literal text "null" (and so cannot tell it from a quoted "null").
        if (solid is [HoconLiteral { Value: "null" }])
        {
            return new ConfigNode(source, path, ConfigNodeKind.Null);
        }

        return new ConfigNode(source, path, ConfigNodeKind.Scalar, text: (value.IsString() ? value.GetString() : value.ToString()) ?? "");
    }

    /// <summary>This value with <paramref name="fallback"/> under it, as <c>WithFallback</c> layers configs: blocks
    /// merge key by key, anything else in this node hides the fallback's.</summary>
    public ConfigNode WithFallback(ConfigNode fallback)
    {
        if (Kind == ConfigNodeKind.Missing)
        {
            return fallback;
        }

        if (Kind != ConfigNodeKind.Block || fallback.Kind != ConfigNodeKind.Block)
        {
            return this;
        }

        var merged = _fields.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.WithFallback(fallback[kv.Key]))).ToList();
        merged.AddRange(fallback._fields.Where(kv => _fields.All(own => own.Key != kv.Key)));
        return new ConfigNode(Source, Path, ConfigNodeKind.Block, fields: merged);
    }

    /// <summary>The one-line error for this key: <c>file: path: expected ..., got ...</c>.</summary>
    public ScenarioException Error(string expected, string? found = null) =>
        new(OneLine($"{Source}: {(Path.Length == 0 ? "" : Path + ": ")}expected {expected}, got {found ?? Describe()}"));

    /// <summary>What the file holds here, for the "got" half of a message.</summary>
    public string Describe() => Kind switch
    {
        ConfigNodeKind.Missing or ConfigNodeKind.Empty => "nothing",
        ConfigNodeKind.Null => "null",
        ConfigNodeKind.Block => "a block",
        ConfigNodeKind.List => DescribeList(),
        _ => LooksNumeric(Text) ? Text : Quote(Text),
    };

    public static string Quote(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text)
        {
            sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => c.ToString() });
        }

        return sb.Append('"').ToString();
    }

    private string DescribeList()
    {
        var inner = string.Join(", ", _items.Select(i => i.Describe()));
        return inner.Length <= 60 ? $"[{inner}]" : $"a list of {_items.Count} values";
    }

    private static string ChildPath(string path, string key)
    {
        var k = SimpleKey().IsMatch(key) ? key : Quote(key);
        return path.Length == 0 ? k : $"{path}.{k}";
    }

    /// <summary>The elements of a value with every substitution replaced by what it resolved to; a substitution that
    /// leads back to a value still open in <paramref name="walk"/> is a cycle.</summary>
    private static List<IHoconElement> Flatten(IEnumerable<IHoconElement> elements, Walk walk, string path)
    {
        var result = new List<IHoconElement>();
        foreach (var e in elements)
        {
            if (e is not HoconSubstitution s) { result.Add(e); continue; }
            if (s.ResolvedValue is not { } resolved)
            {
                continue;
            }

            if (!walk.Open.Add(resolved))
            {
                throw Cycle(walk.Source, path, s);
            }

            try
            {
                result.AddRange(Flatten(resolved.Values, walk, path));
            }
            finally
            {
                walk.Open.Remove(resolved);
            }
        }
        return result;
    }

    private static ScenarioException Cycle(string source, string path, HoconSubstitution? s) =>
        new(OneLine($"{source}: {(path.Length == 0 ? "" : path + ": ")}expected a value, got a substitution that refers back " +
                    $"to itself ({(s is null ? "its own key" : "${" + s.Path + "}")})"));

    private static bool IsBlank(IHoconElement e) => e is HoconLiteral { Value: { } v } && string.IsNullOrWhiteSpace(v);

    private static bool IsBlankValue(HoconValue v, Walk walk, string path) => Flatten(v.Values, walk, path).All(IsBlank);

    private static bool LooksNumeric(string text) => Numeric().IsMatch(text);

    private static string OneLine(string message) => message.Replace("\r", " ").Replace("\n", " ");

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex SimpleKey();

    [GeneratedRegex(@"^(-?\d+(\.\d+)?|0[xX][0-9a-fA-F]+)$")]
    private static partial Regex Numeric();
}

using System.Text.RegularExpressions;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Soak;

namespace ActorNuma.Simulation.Tests.Scenarios;

/// <summary>hocon/reference.conf documents every key the loader reads, and nothing else.</summary>
[Trait("kind", "unit")]
public sealed class ReferenceConfigTests
{
    private static readonly string Text = HoconDocument.ReadResource(ScenarioLoader.ReferenceResource);
    private static readonly string[] Lines = Text.Split('\n');

    public static TheoryData<string, string> LoaderKeys()
    {
        var data = new TheoryData<string, string>();
        void Add(string block, IEnumerable<string> keys) { foreach (var k in keys) { data.Add(block, k); } }
        Add("actornuma", MachineConfig.Keys);
        Add("actornuma.topology", TopologyConfig.Keys);
        Add("actornuma.swap", SwapConfig.Keys);
        Add("actornuma.kernel", KernelProfileConfig.Keys);
        Add("actornuma.run", RunConfig.Keys);
        Add("actornuma.kswapd", KswapdConfig.Keys);
        Add("actornuma.soak", SoakWorkload.Keys);
        Add("actornuma.soak.weights", SoakWorkload.WeightKeys.Select(w => w.Key));
        Add("actornuma.log", MachineConfig.LogKeys);
        return data;
    }

    [Theory]
    [MemberData(nameof(LoaderKeys))]
    public void Every_key_the_loader_reads_is_in_reference_conf_with_a_comment_above_it(string block, string key)
    {
        // A key with a default is set; one without is shown commented out. It must sit directly in its block, not in
        // another block that happens to have a key of that name, nor in the header's comments.
        var line = KeyLine(block, key);

        Assert.True(line > 0, $"{block}.{key} is not in its block of reference.conf");
        Assert.StartsWith("#", Lines[line - 1].Trim());
    }

    [Theory]
    [InlineData("actornuma.swap", "slots", true)]
    [InlineData("actornuma.topology", "slots", false)]      // slots is swap's, not topology's
    [InlineData("actornuma", "slots", false)]               // nor the root's
    [InlineData("actornuma.soak", "weights", true)]
    [InlineData("actornuma.soak.weights", "rounds", false)] // rounds is soak's
    public void A_key_is_found_only_directly_inside_its_own_block(string block, string key, bool found)
    {
        Assert.Equal(found, KeyLine(block, key) > 0);
    }

    /// <summary>The line of <paramref name="key"/> (set, or commented out) directly inside <paramref name="block"/>,
    /// -1 if none: the text is walked line by line with the path of the blocks open at each line, as
    /// <c>name {</c> opens one and <c>}</c> closes it.</summary>
    private static int KeyLine(string block, string key)
    {
        var open = new Stack<string>();
        var keyLine = new Regex($@"^\s*(#\s*)?{Regex.Escape(key)}\s*(=|\{{)");
        for (var i = 0; i < Lines.Length; i++)
        {
            var code = Lines[i].Trim();
            if (string.Join(".", open.Reverse()) == block && keyLine.IsMatch(Lines[i]))
            {
                return i;
            }

            if (code.StartsWith('#'))
            {
                continue;
            }

            if (Regex.Match(code, @"^([\w-]+)\s*\{$") is { Success: true } m)
            {
                open.Push(m.Groups[1].Value);
            }
            else if (code == "}")
            {
                open.Pop();
            }
        }
        return -1;
    }

    [Fact]
    public void Every_key_set_in_reference_conf_is_one_the_loader_reads()
    {
        var known = LoaderKeys().Select(row => $"{row[0]}.{row[1]}").ToHashSet();

        var paths = PathsBelow(ScenarioLoader.ReferenceRoot["actornuma"]).ToList();

        Assert.NotEmpty(paths);
        foreach (var path in paths)
        {
            Assert.Contains(path, known);
        }
    }

    [Fact]
    public void Reference_conf_has_no_scenario_block_and_one_root()
    {
        Assert.False(ScenarioLoader.ReferenceConfig.HasPath("scenario"));
        Assert.Equal(["actornuma"], ScenarioLoader.ReferenceRoot.Fields.Select(f => f.Key));
    }

    /// <summary>The path of every block and value inside <paramref name="node"/>.</summary>
    private static IEnumerable<string> PathsBelow(ConfigNode node) =>
        node.Fields.SelectMany(f => PathsBelow(f.Value).Prepend(f.Value.Path));
}

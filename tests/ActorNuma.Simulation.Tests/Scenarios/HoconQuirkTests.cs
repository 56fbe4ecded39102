using ActorNuma.Mm;
using ActorNuma.Simulation.Scenarios;
using static ActorNuma.Simulation.Tests.Scenarios.ScenarioText;

namespace ActorNuma.Simulation.Tests.Scenarios;

/// <summary>What Akka's HOCON parser does differently from the HOCON spec, and that the loader reads right anyway.</summary>
[Trait("kind", "unit")]
public sealed class HoconQuirkTests
{
    [Fact]
    public void A_comma_after_a_block_written_without_equals_is_a_separator()
    {
        // Akka's parser rejects "a { b = 1 }, c = 2" with "Unknown token"; it is valid HOCON.
        var loaded = ScenarioLoader.Parse("""
            actornuma { topology { nodes = 3 }, swap { slots = 5 }, kernel { profile = v1 } }, scenario { name = x
              steps = [ { op = expect-pages, task = a, addr = 0, pages = 1, nodes { "0" = 1 }, swapped = 0 }, { op = wait } ]
              tasks = [ { name = a, cpu = 0 } ] }
            """, Source);

        Assert.Equal((3, 5, "v1"), (loaded.Machine.Topology.Nodes, loaded.Machine.Swap.Slots, loaded.Machine.Profile.Name));
        Assert.Equal(0, loaded.Scenario.Steps[0].ExpectSwapped);
        Assert.Equal(StepOp.Wait, loaded.Scenario.Steps[1].Op);
    }

    [Fact]
    public void A_comma_after_a_block_inside_a_list_is_left_alone()
    {
        Assert.Equal(2, Load("{ op = wait }, { op = wait },\n{ op = wait }").Scenario.Steps.Count - 1);
    }

    [Fact]
    public void Steps_on_separate_lines_need_no_commas()
    {
        Assert.Equal(3, Load("{ op = wait }\n{ op = wait }\n{ op = wait }").Scenario.Steps.Count);
    }

    [Fact]
    public void An_empty_list_with_or_without_spaces_is_empty()
    {
        // Akka gives "[]" as a value that is not IsArray(), and "[ ]" as a list of one empty value.
        Assert.Equal(NodeMask.Empty, Step("{ task = a, op = set_mempolicy, mode = default, nodes = [] }").Nodes);
        Assert.Equal(NodeMask.Empty, Step("{ task = a, op = set_mempolicy, mode = default, nodes = [ ] }").Nodes);
        Assert.False(Load("{ op = wait }", tasks: "{ name = a, cpu = 0, caps = [ ] }").Scenario.Tasks[0].SysNice);
    }

    [Fact]
    public void Unquoted_negative_numbers_and_hex_are_read_as_numbers()
    {
        var step = Step("{ task = a, op = mbind, addr = 0x10000000, len = 0x2000, mode = -1, flags = -1, maxnode = -1 }");

        Assert.Equal((0x10000000UL, 0x2000UL, -1, -1, -1), (step.Addr, step.Len, step.Mode, step.Flags, step.MaxNode));
    }

    [Fact]
    public void Quoted_and_unquoted_numeric_keys_both_name_nodes()
    {
        Assert.Equal(new Dictionary<int, long> { [0] = 1, [1] = 2 },
            Step("{ op = expect-pages, task = a, addr = 0, pages = 3, nodes { \"0\" = 1, 1 = 2 } }").ExpectNodes);
    }

    [Theory]
    [InlineData("on", true)]
    [InlineData("off", false)]
    [InlineData("true", true)]
    [InlineData("false", false)]
    [InlineData("yes", true)]
    [InlineData("no", false)]
    [InlineData("\"on\"", true)]
    public void Booleans_are_on_off_true_false_yes_or_no(string text, bool expected)
    {
        Assert.Equal(expected, Machine($"kswapd.enabled = {text}").Kswapd.Enabled);
    }

    [Fact]
    public void Microsecond_durations_which_akka_get_time_span_rejects_are_read()
    {
        Assert.Equal(TimeSpan.FromMicroseconds(100), Machine("swap.write-latency = 100us").Swap.WriteLatency);
    }

    [Fact]
    public void Move_all_keeps_its_underscore_and_mixes_with_numbers_in_a_list()
    {
        Assert.Equal((int)(MpolFlags.MoveAll | MpolFlags.Strict) | 16,
            Step("{ task = a, op = mbind, addr = 0, pages = 1, mode = bind, flags = [move_all, 16, strict] }").Flags);
    }

    [Fact]
    public void Null_for_an_optional_key_means_not_given()
    {
        Assert.Null(Machine("kswapd.min-free-kbytes = null").Kswapd.MinFreeKbytes);
    }
}

using ActorNuma.Simulation.Scenarios;
using static ActorNuma.Simulation.Tests.Scenarios.ScenarioText;

namespace ActorNuma.Simulation.Tests.Scenarios;

/// <summary>Documents built to exhaust the loader (substitutions that refer to themselves, nesting thousands deep)
/// are one line of bad input, not a stack overflow.</summary>
[Trait("kind", "unit")]
public sealed class HostileDocumentTests
{
    [Theory(Timeout = 30_000)]
    [InlineData("x = ${x}", "x")]
    [InlineData("a = ${b}\nb = ${a}", "a")]
    [InlineData("a = [${a}]", "a")]
    [InlineData("a { b = ${a} }", "a.b")]
    public async Task A_substitution_that_refers_to_itself_is_bad_input_naming_the_key(string cycle, string key)
    {
        var message = await Task.Run(() => Error(cycle + "\n" + Document("{ op = wait }")));

        Assert.StartsWith($"exp.conf: {key}: expected a value, got a substitution that refers back to itself (", message);
    }

    [Theory(Timeout = 30_000)]
    [InlineData('{', '}', "x = ")]
    [InlineData('[', ']', "x = ")]
    public async Task Nesting_thousands_deep_is_bad_input_before_the_parser_sees_it(char open, char close, string head)
    {
        const int depth = 20_000;
        var text = head + new string(open, depth) + new string(close, depth) + "\n" + Document("{ op = wait }");

        var message = await Task.Run(() => Error(text));

        Assert.Equal($"exp.conf: line 1, column {head.Length + HoconDocument.MaxDepth + 1}: expected at most " +
                     $"{HoconDocument.MaxDepth} nested blocks and lists, got '{open}' one level deeper", message);
    }

    [Fact]
    public void Nesting_up_to_the_bound_loads()
    {
        var depth = HoconDocument.MaxDepth - 1;
        var text = "x = " + new string('[', depth) + new string(']', depth) + "\n" + Document("{ op = wait }");

        // x is parsed all the way down; what is wrong with it is only that it is not a root key.
        Assert.StartsWith("exp.conf: x: expected one of actornuma or scenario, got an unknown key", Error(text));
    }

    [Theory(Timeout = 30_000)]
    [InlineData("a = [ x = 1 ]", '=')]
    [InlineData("a = [ x : 1 ]", ':')]
    [InlineData("a = [ { x = 1 } = ]", '=')]
    public async Task A_separator_directly_inside_a_list_is_bad_input_not_a_parser_that_never_returns(string text, char separator)
    {
        var message = await Task.Run(() => Error(text + "\n" + Document("{ op = wait }")));

        Assert.Equal($"exp.conf: line 1, column {text.LastIndexOf(separator) + 1}: expected a value, ',' or ']' in the list " +
                     $"opened at line 1, column 5, got '{separator}'", message);
    }

    [Theory(Timeout = 30_000)]
    [InlineData("a = [ { e { } { r = 0 } } ]", 1, 15)]
    [InlineData("a = [ { e { } # note\n { r = 0 } } ]", 2, 2)]
    [InlineData("a = [ { { e = 1 } } ]", 1, 9)]
    [InlineData("a = [ { n = [1], { e = 1 } } ]", 1, 18)]
    [InlineData("a = [ { n = 1\n { e = 1 } } ]", 2, 2)]
    public async Task A_block_without_a_key_inside_a_list_element_is_bad_input_not_a_parser_that_never_returns(
        string text, int line, int column)
    {
        var message = await Task.Run(() => Error(text + "\n" + Document("{ op = wait }")));

        Assert.Equal($"exp.conf: line {line}, column {column}: expected a key before this '{{' (a block inside a list element " +
                     "needs one: name { ... }), got a block without a key", message);
    }

    [Fact]
    public void Blocks_in_a_row_elsewhere_still_load()
    {
        // Concatenated blocks outside lists, and directly in a list, are what the parser reads fine; so are keyed blocks
        // inside list elements, on the key's line or after an =.
        Assert.StartsWith("exp.conf: a: expected one of actornuma or scenario", Error("a = { e { } { r = 0 } }\n" + Document("{ op = wait }")));
        // Two blocks on one line of a list are one element, merged, as HOCON concatenates them.
        Assert.Equal(2, Load("{ op = wait }\n{ op = wait } { op = wait }").Scenario.Steps.Count);
        Assert.Equal(3, Load("{ op = expect-pages, task = a, addr = 0, pages = 1, nodes { \"0\" = 1 } }\n" +
                             "{ task = a, op = mmap, addr = 0, pages = 1, expect =\n { ret = 0 } }\n{ op = wait }").Scenario.Steps.Count);
    }
}

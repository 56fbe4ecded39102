using System.Globalization;
using System.Text.RegularExpressions;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>
/// What a scenario claims of every schedule, of some schedule, and which outcomes the kernel allows:
/// <c>properties { always = [...], sometimes = [...] }</c> and <c>outcomes = [...]</c> in the <c>scenario</c> block.
/// </summary>
public sealed record ScenarioProperties(
    IReadOnlyList<PropertySpec> Always, IReadOnlyList<PropertySpec> Sometimes, IReadOnlyList<OutcomePattern> Outcomes)
{
    public static readonly ScenarioProperties None = new([], [], []);
}

/// <summary>What a property tests.</summary>
public enum PropertyKind { NoCheckerViolation, NoKernelWarning, CheckerFires, StepOk, StepFailed, StepErrno, StepRet }

/// <summary>One property as written (<see cref="Text"/>), parsed: <c>no-checker-violation</c>, <c>no-kernel-warning</c>,
/// <c>checker NAME</c> (that checker reported a violation), <c>step N ok</c>, <c>step N failed</c>,
/// <c>step N errno E</c> (E an errno name, or 0 for none), <c>step N ret V</c>.</summary>
public sealed record PropertySpec(string Text, PropertyKind Kind, int Step = -1, string? Name = null, long Value = 0)
{
    public const string Expected =
        "a property: no-checker-violation, no-kernel-warning, checker NAME, step N ok, step N failed, step N errno E or step N ret V";
}

/// <summary>An allowed outcome as explore prints it; <c>*</c> stands for any run of characters.</summary>
public sealed record OutcomePattern(string Text)
{
    private readonly Regex _regex = new("^" + string.Join(".*", Text.Split('*').Select(Regex.Escape)) + "$",
        RegexOptions.CultureInvariant | RegexOptions.Singleline);

    public bool Matches(string outcome) => _regex.IsMatch(outcome);
}

/// <summary>Reads <c>scenario.properties</c> and <c>scenario.outcomes</c>; a bad property names its key path.</summary>
internal static class ScenarioPropertiesReader
{
    private static readonly string[] Keys = ["always", "sometimes"];

    public static ScenarioProperties Read(ConfigNode properties, ConfigNode outcomes, int steps)
    {
        if (!properties.IsSet && !outcomes.IsSet)
        {
            return ScenarioProperties.None;
        }

        IReadOnlyList<PropertySpec> List(string key)
        {
            var node = properties.IsSet ? properties.ReadBlock("a block with always and sometimes", Keys)[key] : properties;
            return node.IsSet ? node.ReadList("a list of properties such as [ \"no-checker-violation\" ]")
                .Select(p => Parse(p, steps)).ToArray() : [];
        }
        var allowed = outcomes.IsSet
            ? outcomes.ReadList("a list of outcomes as explore prints them (* matches anything)")
                .Select(o => new OutcomePattern(o.ReadString("an outcome as explore prints it"))).ToArray()
            : [];
        return new ScenarioProperties(List("always"), List("sometimes"), allowed);
    }

    private static PropertySpec Parse(ConfigNode node, int steps)
    {
        var text = node.ReadString(PropertySpec.Expected);
        var words = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        switch (words)
        {
            case ["no-checker-violation"]: return new(text, PropertyKind.NoCheckerViolation);
            case ["no-kernel-warning"]: return new(text, PropertyKind.NoKernelWarning);
            case ["checker", var name]: return new(text, PropertyKind.CheckerFires, Name: name);
            case ["step", var n, "ok"]: return new(text, PropertyKind.StepOk, Step(node, n, steps));
            case ["step", var n, "failed"]: return new(text, PropertyKind.StepFailed, Step(node, n, steps));
            case ["step", var n, "errno", var e]: return new(text, PropertyKind.StepErrno, Step(node, n, steps), Value: Errno(node, e));
            case ["step", var n, "ret", var v] when long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ret):
                return new(text, PropertyKind.StepRet, Step(node, n, steps), Value: ret);
            default: throw node.Error(PropertySpec.Expected);
        }
    }

    private static int Step(ConfigNode node, string n, int steps) =>
        int.TryParse(n, NumberStyles.None, CultureInfo.InvariantCulture, out var step) && step < steps
            ? step
            : throw node.Error($"a property naming a step of the scenario, from 0 to {steps - 1}");

    private static long Errno(ConfigNode node, string e) =>
        e == "0" ? 0
        : Enum.TryParse<Errno>(e, ignoreCase: false, out var errno) && errno != Mm.Errno.None && char.IsUpper(e[0])
            ? (long)errno
            : throw node.Error("a property naming an errno such as EIO, or 0 for none");
}

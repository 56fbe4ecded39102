using System.Reflection;
using Xunit.Sdk;

namespace ActorNuma.Simulation.Tests.Conventions;

/// <summary><c>dotnet test --filter kind=...</c> picks a lane only if every test says which lane it is in: every class of
/// this assembly with a test carries exactly one <c>[Trait("kind", ...)]</c>, one of unit, scenario, race and soak. (The
/// Mm and Kernel test projects set <c>kind=unit</c> for their whole assembly in AssemblyKind.cs.)</summary>
[Trait("kind", "unit")]
public sealed class TraitTests
{
    private static readonly string[] Kinds = ["unit", "scenario", "race", "soak"];

    public static TheoryData<string> TestClasses() => new(
        typeof(TraitTests).Assembly.GetTypes()
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttributes<FactAttribute>().Any()))
            .Select(t => t.FullName!).Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(TestClasses))]
    public void Every_test_class_names_its_kind(string name)
    {
        var type = typeof(TraitTests).Assembly.GetType(name)!;

        var kinds = type.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == "kind")
            .Select(a => (string?)a.ConstructorArguments[1].Value).ToList();

        var kind = Assert.Single(kinds);
        Assert.Contains(kind, Kinds);
    }
}

using System.Text.Json;
using System.Xml.Linq;
using ActorNuma.Simulation.Tests.Kernel;

namespace ActorNuma.Simulation.Tests.Conventions;

/// <summary>Directory.Packages.props pins every package in one place, transitive ones included
/// (CentralPackageTransitivePinningEnabled): each pinned package is one some project resolves, at the pinned version,
/// and no project file names a version of its own.</summary>
[Trait("kind", "unit")]
public sealed class PackageTests
{
    private static string Root => ScenarioRun.RepoRoot;

    private static IEnumerable<string> Projects() =>
        Directory.GetFiles(Path.Combine(Root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Path.Combine(Root, "tests"), "*.csproj", SearchOption.AllDirectories));

    public static TheoryData<string, string> Pins()
    {
        var props = XDocument.Load(Path.Combine(Root, "Directory.Packages.props"));
        var data = new TheoryData<string, string>();
        foreach (var pin in props.Descendants("PackageVersion"))
        {
            data.Add((string)pin.Attribute("Include")!, (string)pin.Attribute("Version")!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Pins))]
    public void Every_pinned_package_is_resolved_by_some_project_at_its_pinned_version(string package, string version)
    {
        // Each project's restore result (obj/project.assets.json) lists every package it uses, directly or not.
        var resolved = Projects()
            .Select(p => Path.Combine(Path.GetDirectoryName(p)!, "obj", "project.assets.json"))
            .Where(File.Exists)
            .SelectMany(assets => JsonDocument.Parse(File.ReadAllText(assets)).RootElement.GetProperty("libraries")
                .EnumerateObject().Select(l => l.Name))
            .Where(l => l.StartsWith(package + "/", StringComparison.OrdinalIgnoreCase))
            .Distinct().ToList();

        Assert.Equal([$"{package}/{version}"], resolved);
    }

    [Fact]
    public void No_project_file_names_a_package_version()
    {
        var versioned = Projects()
            .SelectMany(p => XDocument.Load(p).Descendants("PackageReference")
                // The sample suite's reference to the packed ActorNuma.TestKit names the version this repository packs
                // (its own package, built in .ci/run), not a pin of someone else's.
                .Where(r => !(r.Attribute("Include")?.Value.StartsWith("ActorNuma.", StringComparison.Ordinal) ?? false))
                .Where(r => r.Attribute("Version") is not null || r.Attribute("VersionOverride") is not null)
                .Select(r => $"{Path.GetFileName(p)}: {r.Attribute("Include")?.Value}"))
            .ToList();

        Assert.Empty(versioned);
    }
}

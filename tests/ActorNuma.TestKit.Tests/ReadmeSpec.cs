using System.Runtime.CompilerServices;

namespace ActorNuma.TestKit.Tests;

/// <summary>The code the READMEs show is the code the suites compile and run.</summary>
public sealed class ReadmeSpec
{
    private static string Repo([CallerFilePath] string path = "") => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));

    private static string Text(string relative) => File.ReadAllText(Path.Combine(Repo(), relative)).ReplaceLineEndings("\n");

    [Fact]
    public void The_package_readme_shows_the_first_test_as_it_runs() =>
        Assert.Contains(Text("tests/ActorNuma.TestKit.Tests/FirstSpec.cs").TrimEnd(), Text("src/ActorNuma.TestKit/README.md"));

    [Fact]
    public void The_repository_readme_shows_the_sample_as_it_runs() =>
        Assert.Contains(Text("tests/ActorNuma.TestKit.Sample.Tests/ReadmeExampleSpec.cs").TrimEnd(), Text("README.md"));
}

using PublicApiGenerator;

namespace ActorNuma.TestKit.Tests;

/// <summary>
/// The TestKit's public surface, and the kernel's public protocols it exposes (the messages a user's actor sends a task
/// or the kernel root, the replies it gets, the machine's read-only views), are an API users build on: each is kept in
/// <c>PublicApi/&lt;assembly&gt;.approved.txt</c>, as akka.net keeps its own, so that any change to it shows in review as
/// a change to that file.
/// </summary>
public sealed class PublicApiSpec
{
    [Theory]
    [InlineData("ActorNuma.TestKit")]
    [InlineData("ActorNuma.Kernel")]
    public void The_public_api_is_the_approved_one(string assembly)
    {
        var actual = System.Reflection.Assembly.Load(assembly).GeneratePublicApi(new ApiGeneratorOptions
        {
            ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Reflection.AssemblyMetadataAttribute"],
        }).ReplaceLineEndings("\n");
        var approvedPath = Path.Combine(AppContext.BaseDirectory, "PublicApi", $"{assembly}.approved.txt");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";
        if (approved == actual)
        {
            return;
        }
        // Written next to the approved file in the source tree: review it, and copy it over the approved one to accept.
        var received = Path.Combine(SourceDirectory(), "PublicApi", $"{assembly}.received.txt");
        File.WriteAllText(received, actual);
        Assert.Fail($"The public API of {assembly} changed. If the change is intended, review {received} and copy it over " +
                    $"PublicApi/{assembly}.approved.txt; the first difference:" + Environment.NewLine + FirstDifference(approved, actual));
    }

    private static string FirstDifference(string approved, string actual)
    {
        var a = approved.Split('\n');
        var b = actual.Split('\n');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            var x = i < a.Length ? a[i] : "(end)";
            var y = i < b.Length ? b[i] : "(end)";
            if (x != y)
            {
                return $"  line {i + 1}{Environment.NewLine}  approved: {x}{Environment.NewLine}  actual:   {y}";
            }
        }
        return "(none)";
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}

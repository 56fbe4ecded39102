namespace ActorNuma.Simulation.Scenarios;

/// <summary>The exceptions file access throws for a path the user gave, and what to say about them in the "got"
/// half of a one-line message.</summary>
public static class FileErrors
{
    /// <summary>A failure the user's path explains (missing, not permitted, not a valid name, device full), as opposed
    /// to a bug.</summary>
    public static bool IsAboutThePath(Exception e) =>
        e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException;

    public static string Describe(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "no such file",
        UnauthorizedAccessException => "permission denied",
        _ => ConfigNode.Quote(e.Message.Split('\n')[0].Trim()),
    };
}

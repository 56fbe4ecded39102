using Akka.Configuration;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>Loads scenario files: HOCON with an <c>actornuma</c> block (the machine, over the defaults of
/// reference.conf) and a <c>scenario</c> block (tasks and steps). Every problem is one <see cref="ScenarioException"/>
/// line naming the file and the key.</summary>
public static class ScenarioLoader
{
    public const string ReferenceResource = "ActorNuma.reference.conf";
    public const string DefaultScenarioResource = "ActorNuma.default-scenario.conf";

    /// <summary>The roots a scenario file may have. An <c>akka</c> block is refused rather than applied: the run builds
    /// its actor system's configuration itself (the seeded dispatcher, virtual time, the logger), and a block that
    /// changed those would quietly break determinism.</summary>
    private static readonly string[] RootKeys = ["actornuma", "scenario"];

    private static readonly Lazy<Config> Reference =
        new(() => HoconDocument.Parse(HoconDocument.ReadResource(ReferenceResource), "reference.conf"));

    private static readonly Lazy<ConfigNode> ReferenceNode =
        new(() => ConfigNode.Document(Reference.Value.Root, "reference.conf"));

    /// <summary>hocon/reference.conf, embedded in this assembly: every <c>actornuma</c> key with its default.</summary>
    public static Config ReferenceConfig => Reference.Value;

    internal static ConfigNode ReferenceRoot => ReferenceNode.Value;

    public static LoadedScenario LoadFile(string path) => Parse(ReadScenarioFile(path), path);

    /// <summary>The text of a HOCON file given on the command line; a missing, unreadable or directory path is one
    /// <see cref="ScenarioException"/> line.</summary>
    internal static string ReadScenarioFile(string path)
    {
        string text;
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new ScenarioException($"{ConfigNode.Quote(path)}: expected the path of a scenario file, got an empty name");
        }

        try
        {
            if (Directory.Exists(path))
            {
                throw new ScenarioException($"{path}: expected a readable scenario file, got a directory");
            }

            text = File.ReadAllText(path);
        }
        catch (Exception e) when (FileErrors.IsAboutThePath(e))
        {
            throw new ScenarioException($"{path}: expected a readable scenario file, got {FileErrors.Describe(e)}");
        }
        return text;
    }

    /// <summary>Parses scenario text; <paramref name="sourceName"/> names it in messages.</summary>
    public static LoadedScenario Parse(string hocon, string sourceName)
    {
        var root = ConfigNode.Document(HoconDocument.Parse(hocon, sourceName).Root, sourceName);
        if (root["akka"].IsSet)
        {
            throw root["akka"].Error("no akka block (the emulator configures its own actor system; " +
                                     "actornuma.log.level sets the log level)");
        }

        root.ReadBlock("a scenario document", RootKeys);
        var machine = MachineConfig.Read(root.WithFallback(ReferenceRoot)["actornuma"]);
        var scenario = ScenarioReader.Read(root["scenario"], machine.Topology);
        return new LoadedScenario(sourceName, machine, scenario);
    }

    /// <summary>hocon/scenarios/default.conf, embedded in this assembly.</summary>
    public static LoadedScenario LoadDefault() =>
        Parse(HoconDocument.ReadResource(DefaultScenarioResource), "default.conf");
}

namespace ActorNuma.Simulation.Scenarios;

/// <summary>A scenario file that cannot be used. The message is one line:
/// <c>&lt;file&gt;: &lt;full key path&gt;: &lt;what was expected&gt;, got &lt;what was found&gt;</c>.</summary>
public sealed class ScenarioException(string message) : Exception(message);

namespace ActorNuma.Kernel;

/// <summary>The public protocol of the per-node kswapd.</summary>
public static class Kswapd
{
    /// <summary><c>wakeup_kswapd(zone, order)</c>, sent to the node, which passes it to its kswapd.</summary>
    public sealed record Wakeup(int Node, int Order);
}

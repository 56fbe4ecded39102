namespace ActorNuma.Kernel;

/// <summary>The public protocol of the per-node kswapd, and the messages that open a reclaim run on a node.</summary>
public static class Kswapd
{
    /// <summary><c>wakeup_kswapd(zone, order)</c>, sent to the node, which passes it to its kswapd when the zone is at or
    /// below pages_low, with its free pages then (<see cref="FreePages"/>, for the trace).</summary>
    internal sealed record Wakeup(int Node, int Order, int FreePages = -1);

    /// <summary>The start of a reclaim run on a node: balance_pgdat's <c>loop_again</c> (kswapd) or the start of
    /// <c>try_to_free_pages</c> (direct reclaim). Both set <c>zone-&gt;temp_priority = DEF_PRIORITY</c>; kswapd also
    /// takes its <c>sc.nr_mapped</c> snapshot here (direct reclaim takes one at every priority).</summary>
    internal sealed record BeginReclaimRun(bool IsKswapd);
}

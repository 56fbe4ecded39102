namespace ActorNuma.Kernel;

public static partial class SwapDevice
{
    /// <summary>2.6.18 <c>migrate_page_move_mapping()</c> for swap-cache pages: the radix-tree slot of each swap entry
    /// now holds the new page (<c>radix_tree_replace_slot</c>); the slot's count is unchanged.</summary>
    public sealed record SwapCacheReplace(int[] Slots, int[] OldPfns, int[] NewPfns);
}

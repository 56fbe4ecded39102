using ActorNuma.Mm;

namespace ActorNuma.Kernel;

public sealed partial class NumaNodeActor
{
    private void HandleReclaim(object message) => Unhandled(message);

    private static void HandleReclaimAddedToSwap(SwapDevice.AddedToSwap m) =>
        throw new InvalidOperationException($"add_to_swap answer for unknown batch {m.Token}");

    private static void HandleReclaimUnmapResult(NumaTask.UnmapResult m) =>
        throw new InvalidOperationException($"try_to_unmap answer for unknown batch {m.Token}");

    private static void HandleReclaimWriteStarted(SwapDevice.SwapWriteStarted m) =>
        throw new InvalidOperationException($"swap_writepage answer for unknown batch {m.Token}");
}

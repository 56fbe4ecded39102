using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Checkers;

/// <summary>A frame's reference count is exactly its users: one per mapping PTE, the swap cache, the pagevec that holds
/// it, its isolator, and work in progress that holds it across a wait (a fault sleeping on the page lock or waiting for
/// its read: <see cref="NodeMemory.Holds"/>). One more is a leaked reference (a frame that can never be freed, as V2's putback leaves it);
/// one less is a use after free waiting to happen.</summary>
public sealed class PageRefcountChecker : IInvariantChecker
{
    private sealed class Scratch
    {
        /// <summary>Per frame of one node: whether work in progress holds it (<see cref="IReadOnlyNodeMemory.HeldFrames"/>).</summary>
        public bool[]? Held;
    }

    private readonly CheckerScratch<Scratch> _scratch = new();

    public string Name => "page-refcount";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var s = _scratch.Take();
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var places = m.Places;
            var flags = m.FlagWords;
            var counts = m.Counts;
            var mapcounts = m.Mapcounts;
            // Holds are few: mark their frames, and look up only those.
            var heldFrames = m.HeldFrames;
            var anyHeld = heldFrames.Count > 0;
            var isHeld = anyHeld ? CheckerScratch.Cleared(ref s.Held, m.Pages) : [];
            if (anyHeld)
            {
                foreach (var i in heldFrames)
                {
                    isHeld[i] = true;
                }
            }

            for (var i = 0; i < places.Length; i++)
            {
                var place = places[i];
                if (place is FramePlace.Free or FramePlace.Reserved)
                {
                    continue;
                }

                var held = anyHeld && isHeld[i] ? m.Holds(i).Count : 0;
                var expected = mapcounts[i] + ((flags[i] & (uint)PageFlags.SwapCache) != 0 ? 1 : 0)
                               + (place is FramePlace.Pagevec or FramePlace.Isolated ? 1 : 0) + held;
                var count = counts[i];
                if (count == expected)
                {
                    continue;
                }

                var holder = held == 0 ? default : m.Holds(i).Last;
                var holders = held == 0 ? "" : $", {held} held by task {holder.Task}'s {holder.What}";
                var what = count > expected
                    ? m.Mapcount(i) == 0 && !m.Test(i, PageFlags.SwapCache) && place == FramePlace.Lru
                        ? "a leaked reference: no task maps it and nothing else holds it, so it can never be freed"
                        : "a leaked reference"
                    : "a missing reference";
                violations.Add($"pfn {m.PfnOf(i)} (node {m.Node}, {Where(m, i)}, {PageFlagNames.Format(m.Flags(i))}): count {count}, " +
                               $"users {expected} (mapcount {m.Mapcount(i)}{holders}): {what}");
            }
        }
        _scratch.Return(s);
    }

    /// <summary>Where the frame is and who holds it there: the CPU whose pagevec, the isolator, the list.</summary>
    internal static string Where(IReadOnlyNodeMemory m, int i) => m.Place(i) switch
    {
        FramePlace.Pagevec => $"in cpu {m.Owner(i)}'s pagevec",
        FramePlace.Isolated => $"isolated by {((Isolator)m.Owner(i) == Isolator.Reclaim ? "reclaim" : "migration")}",
        FramePlace.Lru => m.Test(i, PageFlags.Active) ? "on the active list" : "on the inactive list",
        var place => place.ToString(),
    };
}

using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Checkers;

/// <summary>PG_lru is set iff the page is on an LRU list, PG_active iff on the active list.</summary>
public sealed class LruFlagsChecker : IInvariantChecker
{
    private sealed class Scratch
    {
        /// <summary>Per frame of one node: which list it is on, 1 the active, 2 the inactive (a frame on both counts as
        /// on the active), 0 none.</summary>
        public byte[]? On;
    }

    private readonly CheckerScratch<Scratch> _scratch = new();

    public string Name => "lru-flags";

    public void Check(KernelMachine machine, ICollection<string> violations)
    {
        var s = _scratch.Take();
        foreach (var node in machine.Nodes)
        {
            var m = node.Memory;
            var on = CheckerScratch.Cleared(ref s.On, m.Pages);
            foreach (var i in m.LruFrames(active: false))
            {
                on[i] = 2;
            }

            foreach (var i in m.LruFrames(active: true))
            {
                on[i] = 1;
            }

            var flags = m.FlagWords;
            for (var i = 0; i < flags.Length; i++)
            {
                var lru = (flags[i] & (uint)PageFlags.Lru) != 0;
                if (lru != (on[i] != 0))
                {
                    violations.Add($"pfn {m.PfnOf(i)}: PG_lru is {(lru ? "set" : "clear")} but the page is {(on[i] != 0 ? "" : "not ")}on an LRU list");
                }

                var isActive = (flags[i] & (uint)PageFlags.Active) != 0;
                if (on[i] != 0 && isActive != (on[i] == 1))
                {
                    violations.Add($"pfn {m.PfnOf(i)}: PG_active is {(isActive ? "set" : "clear")} on the {(on[i] == 1 ? "active" : "inactive")} list");
                }
            }
        }
        _scratch.Return(s);
    }
}

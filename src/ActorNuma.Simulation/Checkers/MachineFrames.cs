using System.Runtime.CompilerServices;
using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Checkers;

/// <summary>Every node's frames numbered machine-wide (node n's frame i is <see cref="Offset"/>(n) + i), and the number
/// of the frame a PTE names, found as <c>machine.Nodes[topology.PfnToNid(pfn)].Memory.Index(pfn)</c> finds it: for a
/// checker that looks up the frame of every PTE, which then reads that frame's fields from machine-wide arrays it
/// filled once per check instead of calling the node's view once per entry and field.</summary>
internal sealed class MachineFrames
{
    private int[] _firstPfn = [];
    private int[] _pages = [];
    private int[] _offset = [];
    private Topology? _topology;
    /// <summary>The first node's first pfn when every node's frames follow the previous node's and lie where the topology
    /// puts them (as the kernel's machine lays them out): then a pfn's number is its distance from this one, with no
    /// division by the node size; -1 otherwise.</summary>
    private int _contiguousFrom = -1;

    /// <summary>Frames on every node together.</summary>
    public int Total { get; private set; }

    /// <summary>The machine-wide number of node <paramref name="node"/>'s first frame.</summary>
    public int Offset(int node) => _offset[node];

    /// <summary>Numbers the frames of <paramref name="machine"/>'s nodes as they are now.</summary>
    public void Load(KernelMachine machine)
    {
        var nodes = machine.Nodes;
        if (_offset.Length != nodes.Count)
        {
            (_firstPfn, _pages, _offset) = (new int[nodes.Count], new int[nodes.Count], new int[nodes.Count]);
        }

        _topology = machine.Topology;
        Total = 0;
        var contiguous = true;
        for (var n = 0; n < nodes.Count; n++)
        {
            var m = nodes[n].Memory;
            (_firstPfn[n], _pages[n], _offset[n]) = (m.FirstPfn, m.Pages, Total);
            contiguous &= m.FirstPfn == _firstPfn[0] + Total && m.FirstPfn >= 0
                          && (m.Pages == 0 || (_topology.PfnToNid(m.FirstPfn) == n && _topology.PfnToNid(m.FirstPfn + m.Pages - 1) == n));
            Total += m.Pages;
        }

        _contiguousFrom = contiguous && nodes.Count > 0 ? _firstPfn[0] : -1;
    }

    /// <summary>The machine-wide number of the frame <paramref name="pfn"/>. A pfn outside every node throws, as looking
    /// its node and frame up does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Of(int pfn)
    {
        var g = pfn - _contiguousFrom;
        return _contiguousFrom >= 0 && (uint)g < (uint)Total ? g : ByNode(pfn);
    }

    private int ByNode(int pfn)
    {
        var nid = _topology!.PfnToNid(pfn);
        var i = pfn - _firstPfn[nid];
        return (uint)i < (uint)_pages[nid] ? _offset[nid] + i : NotAFrame(pfn, nid);
    }

    private static int NotAFrame(int pfn, int nid) => throw new IndexOutOfRangeException($"pfn {pfn} is not one of node {nid}'s frames");
}

using ActorNuma.Kernel;
using ActorNuma.Mm;
using BenchmarkDotNet.Attributes;

namespace ActorNuma.Benchmarks;

/// <summary>Allocation under a memory policy: <c>alloc_page_vma()</c>'s zonelist choice, then a frame off the free list
/// and back.</summary>
[MemoryDiagnoser]
public class AllocationBenchmarks
{
    private const int Pages = 4096;
    private readonly int[][] _zonelists = Zonelists.BuildAll(new Topology(4, 1, Pages));
    private readonly MemPolicy _interleave = new(MpolMode.Interleave, NodeMask.FirstN(4));
    private readonly MemPolicy _bind = new(MpolMode.Bind, NodeMask.Of(2, 3));
    private readonly Vma _vma = new(0x100000000UL, 0x100000000UL + ((ulong)Pages << MmConstants.PageShift), 0, VmFlags.Read | VmFlags.Write);
    private readonly NodeMemory _node = new(0, 0, Pages, new Watermarks(0, 0, 0), holdsZeroPage: false);
    private int _ilNext;

    [Benchmark(OperationsPerInvoke = Pages)]
    public int PlanAllocVmaInterleave()
    {
        var sum = 0;
        for (var i = 0; i < Pages; i++)
        {
            sum += PolicyAllocation.PlanAllocVma(_interleave, _vma, 0x100000000UL + ((ulong)i << MmConstants.PageShift), 0, _zonelists, ref _ilNext).IntendedNode;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public int PlanAllocVmaBind()
    {
        var sum = 0;
        for (var i = 0; i < Pages; i++)
        {
            sum += PolicyAllocation.PlanAllocVma(_bind, _vma, 0x100000000UL, 0, _zonelists, ref _ilNext).IntendedNode;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public int AllocAndFreeFrame()
    {
        var last = 0;
        for (var i = 0; i < Pages; i++)
        {
            last = _node.AllocFrame();
        }

        for (var i = 0; i < Pages; i++)
        {
            _node.PutPage(i); // count 1 -> 0: __free_pages()
        }

        return last;
    }
}

/// <summary>LRU list operations and the per-CPU pagevec: <c>lru_cache_add</c> into a pagevec, its drain onto the LRU,
/// <c>isolate_lru_page</c> and <c>putback_lru_page</c>, <c>mark_page_accessed</c>'s activation.</summary>
[MemoryDiagnoser]
public class LruBenchmarks
{
    private const int Pages = 4096;
    private NodeMemory _node = null!;
    private readonly Pagevec _pagevec = new();
    private readonly int[] _drained = new int[Pagevec.PagevecSize];

    [IterationSetup]
    public void Setup()
    {
        _node = new NodeMemory(0, 0, Pages, new Watermarks(0, 0, 0), holdsZeroPage: false);
        for (var i = 0; i < Pages; i++)
        {
            _node.AllocFrame();
        }

        _pagevec.DrainInto(_drained);
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public int PagevecAddAndDrainToLru()
    {
        var drained = 0;
        for (var i = 0; i < Pages; i++)
        {
            if (_pagevec.Add(i) > 0)
            {
                continue; // pagevec_add() returns the space left
            }

            var count = _pagevec.DrainInto(_drained);
            foreach (var pfn in _drained.AsSpan(0, count))
            {
                _node.AddToLru(_node.Index(pfn), active: true);
            }

            drained += Pagevec.PagevecSize;
        }
        return drained;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public int IsolateAndPutBack()
    {
        for (var i = 0; i < Pages; i++)
        {
            _node.AddToLru(i, active: false);
        }

        var isolated = 0;
        for (var i = 0; i < Pages; i++)
        {
            if (_node.IsolateLruPage(i, Isolator.Migration) == IsolateRc.Isolated)
            {
                isolated++;
            }
        }

        for (var i = 0; i < Pages; i++)
        {
            _node.PutbackLruPage(i);
        }

        return isolated;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public int ActivateFromInactive()
    {
        for (var i = 0; i < Pages; i++)
        {
            _node.AddToLru(i, active: false);
        }

        for (var i = 0; i < Pages; i++)
        {
            _node.ActivatePage(i);
        }

        return _node.Tail(active: true);
    }
}

/// <summary>Page table: setting and reading PTEs, and the sparse walk over a range (<c>check_pte_range</c>'s loop).</summary>
[MemoryDiagnoser]
public class PageTableBenchmarks
{
    private const int Pages = 1 << 16;
    private readonly PageTable _table = new();

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < Pages; i += 2)
        {
            _table.Set((ulong)i, Pte.Present(i, write: true));
        }
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public ulong GetEveryPte()
    {
        ulong sum = 0;
        for (var i = 0; i < Pages; i++)
        {
            sum += _table.Get((ulong)i).Raw;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Pages)]
    public int WalkRange()
    {
        var present = 0;
        foreach (var (_, pte) in _table.Range(0, Pages))
        {
            if (pte.IsPresent)
            {
                present++;
            }
        }

        return present;
    }
}

/// <summary>The swap map: <c>get_swap_page</c>, <c>swap_duplicate</c>, <c>swap_free</c>, and the swap cache link.</summary>
[MemoryDiagnoser]
public class SwapMapBenchmarks
{
    private const int Slots = 4096;
    private readonly SwapMap _map = new(Slots);

    [Benchmark(OperationsPerInvoke = Slots)]
    public int GetDuplicateFree()
    {
        var last = 0;
        for (var i = 0; i < Slots; i++)
        {
            last = _map.GetSwapPage();
            _map.SwapDuplicate(last);
        }
        for (var slot = 1; slot <= Slots; slot++)
        {
            _map.SwapFree(slot);
            _map.SwapFree(slot);
        }
        return last;
    }

    [Benchmark(OperationsPerInvoke = Slots)]
    public int SwapCacheAddDelete()
    {
        var slots = new int[Slots];
        for (var i = 0; i < Slots; i++)
        {
            slots[i] = _map.GetSwapPage();
            _map.AddToSwapCache(slots[i], i);
        }
        foreach (var slot in slots)
        {
            _map.DeleteFromSwapCache(slot, _map.CachedPfn(slot));
            _map.SwapFree(slot);
        }
        return slots[^1];
    }
}

/// <summary>One trace record, kept nowhere, as a bench or soak run records them: its fields as text or, for a layout
/// event, as numbers (formatted and hashed later, on the hashing task, as the trace's segments fill).</summary>
[MemoryDiagnoser]
public class TraceBenchmarks
{
    private const int Events = 4096;
    private readonly KernelTrace _trace = new(() => TimeSpan.Zero, keep: 0);

    [Benchmark(OperationsPerInvoke = Events)]
    public long EmitInterpolated()
    {
        for (var i = 0; i < Events; i++)
        {
            _trace.Emit("mm_page_fault", $"task 1 vpn {i:x} pfn {i} node 0 write");
        }

        return _trace.Events;
    }

    [Benchmark(OperationsPerInvoke = Events)]
    public long EmitEach()
    {
        _trace.EmitEach("mm_vmscan_lru_isolate", Events, 0, static (fields, _, k) => fields.Append("pfn ").Append(k));
        return _trace.Events;
    }

    private static readonly TraceLayout Writepage = new("mm_vmscan_writepage", "node", "pfn", "slot");

    [Benchmark(OperationsPerInvoke = Events)]
    public long EmitEachLayout()
    {
        _trace.EmitEach(Writepage, Events, 0, static (_, k) => new TraceValues(0, k, k + 1));
        return _trace.Events;
    }
}

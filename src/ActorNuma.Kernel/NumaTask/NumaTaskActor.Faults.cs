using System.Runtime.InteropServices;
using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>Accesses and the page faults they take: <c>handle_pte_fault</c> → <c>do_anonymous_page</c> (a zero page for
/// a load, a new page for a store), and the round of faults batched per peer. <c>do_wp_page</c> is in
/// NumaTaskActor.WpPage.cs, <c>do_swap_page</c> in NumaTaskActor.SwapIn.cs, the allocation in NumaTaskActor.Alloc.cs.</summary>
/// <remarks>Kernel: mm/memory.c handle_mm_fault(), do_anonymous_page().</remarks>
public sealed partial class NumaTaskActor
{
    private sealed class TouchOp(Touch call)
    {
        public Touch Call { get; } = call;
        public ulong Next;
        public ulong End;
        public long Faults;
        public long Major;
        public Errno Error;
        public bool Oom;
        /// <summary>The current chunk's pages with their VMAs: one list for every chunk of the touch (a chunk starts
        /// only once every fault of the one before it is done).</summary>
        public List<(ulong Vpn, Vma Vma)> Pages { get; } = new();
    }

    private void DoTouch(Touch m)
    {
        if (m.Pages < 0 || (m.Addr & (MmConstants.PageSize - 1)) != 0) { Complete(SyscallResult.Fail(Errno.EINVAL)); return; }
        var first = m.Addr >> MmConstants.PageShift;
        var op = new TouchOp(m) { Next = first, End = first + (ulong)m.Pages };
        TouchChunk(op, () =>
        {
            var result = op.Error == Errno.None
                ? SyscallResult.Ok((long)(op.End - first))
                : SyscallResult.Fail(op.Error) with { Ret = -1 };
            Complete(result with { Faults = op.Faults, MajorFaults = op.Major });
        });
    }

    /// <summary>Faults one chunk of pages, all in flight at once, then the next chunk; <paramref name="finished"/> runs
    /// after the last chunk, after a bad address (SIGSEGV, reported as EFAULT) or after the OOM kill. A chunk whose
    /// faults all completed at once (loads of never-touched pages map the zero page without a message) goes on to the
    /// next in a loop, not by recursion, so a read of millions of such pages keeps a flat stack.</summary>
    private void TouchChunk(TouchOp op, Action finished)
    {
        while (true)
        {
            // A fault that ended in VM_FAULT_OOM kills the task on its way back to user space (2.6.14 do_page_fault's
            // out_of_memory label): no round starts after it.
            if (op.Next >= op.End || op.Error != Errno.None || op.Oom)
            {
                if (op.Oom) { OomKillSelf(); return; }
                finished();
                return;
            }
            var pages = ChunkPages(op);
            var batch = new FaultBatch(this, op, pages.Count);
            var inLoop = true;
            var doneInLoop = false;
            var done = Join(pages.Count, () =>
            {
                if (inLoop)
                {
                    doneInLoop = true;
                }
                else
                {
                    TouchChunk(op, finished);
                }
            });
            foreach (var (vpn, pageVma) in pages)
            {
                AccessPage(batch, pageVma, vpn, op.Call.Write, done);
            }

            batch.Flush();
            inLoop = false;
            if (!doneInLoop)
            {
                return;
            }
        }
    }

    /// <summary>The next chunk's pages with their VMAs (in <see cref="TouchOp.Pages"/>, refilled); a page outside every
    /// VMA ends the touch there with EFAULT.</summary>
    private List<(ulong Vpn, Vma Vma)> ChunkPages(TouchOp op)
    {
        var chunkEnd = Math.Min(op.End, op.Next + (ulong)_machine.Settings.FaultBatch);
        var pages = op.Pages;
        pages.Clear();
        pages.EnsureCapacity((int)(chunkEnd - op.Next));
        Vma? vma = null;
        for (var vpn = op.Next; vpn < chunkEnd; vpn++)
        {
            // find_vma gives the VMA that holds the address when one does, so the previous page's VMA is the answer
            // as long as it still contains the address: the search runs once per VMA, not once per page.
            if (vma is null || !vma.Contains(vpn << MmConstants.PageShift))
            {
                vma = _state.OwnVmas.FindVma(vpn << MmConstants.PageShift);
            }

            if (vma is null || !vma.Contains(vpn << MmConstants.PageShift))
            {
                op.Error = Errno.EFAULT;
                op.End = vpn;
                break;
            }
            pages.Add((vpn, vma));
        }
        op.Next = Math.Min(chunkEnd, op.End);
        return pages;
    }

    /// <summary>One load or store to one page, as <c>handle_pte_fault</c> dispatches it.</summary>
    private void AccessPage(FaultBatch batch, Vma vma, ulong vpn, bool write, Action done)
    {
        var pte = _state.OwnPageTable.Get(vpn);
        if (pte.IsPresent && (!write || pte.Writable))
        {
            var value = write ? NextValue() : 0;
            _state.OwnPageTable.Set(vpn, write ? pte.MkYoung().MkDirty() : pte.MkYoung());
            batch.Access(vpn, pte.Pfn, write, value, done);
            return;
        }
        batch.Op.Faults++;
        Count(VmEvent.Pgfault);
        if (pte.IsMigration)
        {
            MigrationEntryWait(batch.Op, vma, vpn, write, done);
        }
        else if (pte.IsNone)
        {
            if (write)
            {
                batch.Alloc(vma, vpn, NextValue(), AllocPurpose.AnonFault, done);
            }
            else
            {
                MapZeroPage(vpn, done);
            }
        }
        else if (pte.IsSwap)
        {
            batch.SwapPte(new SwapFault(vma, vpn, pte.SwapSlot, write, done));
        }
        else
        {
            DoWpPage(batch, vma, vpn, pte.Pfn, done);
        }
    }

    /// <summary>do_anonymous_page for a load: the zero page, read-only. It is PG_reserved and never counted.</summary>
    private void MapZeroPage(ulong vpn, Action done)
    {
        _state.OwnPageTable.Set(vpn, Pte.Present(Topology.ZeroPfn, write: false));
        CheckRead(vpn, 0);
        done();
    }

    /// <summary>Allocations that can share one AllocPages message: the same zonelist (by content: BIND builds a new one
    /// for every allocation, as bind_zonelist does), interleave or not, and purpose.</summary>
    private readonly record struct PlanKey(int[] Zonelist, bool Interleave, AllocPurpose Purpose)
    {
        public bool Equals(PlanKey other) =>
            Interleave == other.Interleave && Purpose == other.Purpose
            && (ReferenceEquals(Zonelist, other.Zonelist) || Zonelist.AsSpan().SequenceEqual(other.Zonelist));

        public override int GetHashCode()
        {
            var h = new HashCode();
            foreach (var n in Zonelist)
            {
                h.Add(n);
            }

            h.Add(Interleave);
            h.Add(Purpose);
            return h.ToHashCode();
        }
    }

    /// <summary>The data checker: a load must see what this task last stored to the page (0 if never).</summary>
    private void CheckRead(ulong vpn, uint value)
    {
        var expected = _state.OwnPageTable.LastWritten(vpn);
        if (value == expected)
        {
            return;
        }

        var msg = $"task {Pid} ({_state.Name}) read 0x{value:x8} at 0x{vpn << MmConstants.PageShift:x}, last wrote 0x{expected:x8}";
        _machine.ReportDataViolation(msg);
        _log.Error("data checker: {Violation}", msg);
    }

    private uint NextValue()
    {
        var v = unchecked((uint)Pid * 0x9E3779B1u ^ ++_writeSeq);
        return v == 0 ? ++_writeSeq : v;
    }

    private IActorRef NodeOfPfn(int pfn) => Directory.Node(Topology.PfnToNid(pfn));

    /// <summary>Collects the requests of one round of faults, one message per node and kind. <paramref name="expected"/>
    /// is how many faults the round is likely to hold (its lists start that large).</summary>
    private sealed class FaultBatch(NumaTaskActor task, TouchOp op, int expected = 0)
    {
        private Dictionary<int, List<(ulong Vpn, AccessItem Item, Action Done)>>? _access;
        /// <summary>The round's allocations grouped by <see cref="PlanKey"/> as they come, in order of each key's first
        /// page (what GroupBy gave), rented from the task when the first one comes: one AllocPages message per group.</summary>
        private AllocGrouping? _allocs;
        /// <summary>Per group, what its faults do once their pages are there: runs of consecutive faults that do the same.</summary>
        private List<List<FaultRun>>? _runs;
        private SwapFaults? _swapFaults;

        public TouchOp Op { get; } = op;

        public void Access(ulong vpn, int pfn, bool write, uint value, Action done)
        {
            var node = task.Topology.PfnToNid(pfn);
            _access ??= new();
            if (!_access.TryGetValue(node, out var list))
            {
                _access[node] = list = new();
            }

            list.Add((vpn, new AccessItem(pfn, write, value), done));
        }

        /// <summary>A new anonymous page (or COW copy) holding <paramref name="value"/>, mapped writable. A COW copy names
        /// the page it replaces (<paramref name="cowFrom"/>): if the PTE no longer maps it when the copy arrives, the copy
        /// is released and <paramref name="backedOut"/> runs instead of <paramref name="done"/>.</summary>
        public void Alloc(Vma vma, ulong vpn, uint value, AllocPurpose purpose, Action done, int cowFrom = -1, Action? backedOut = null)
        {
            _allocs ??= task.RentAllocGrouping();
            _runs ??= new();
            var (group, position) = _allocs.Add(new AllocItem((uint)vpn, value, 0), task.Plan(vma, vpn), purpose);
            if (group == _runs.Count)
            {
                _runs.Add(new List<FaultRun>(1));
            }

            var runs = _runs[group];
            var run = new FaultRun(position, done, cowFrom, backedOut, (uint)(vpn >> 32));
            if (runs.Count == 0 || !runs[^1].SameAs(run))
            {
                runs.Add(run);
            }
        }

        /// <summary>A fault on a swap PTE, handled with the others of the round.</summary>
        public void SwapPte(SwapFault fault) => (_swapFaults ??= new(expected)).Add(fault);

        public void Flush()
        {
            if (_swapFaults is { } swapFaults)
            {
                // The list goes to the swap-in round, which owns it from here on.
                _swapFaults = null;
                task.DoSwapPages(Op, swapFaults);
            }
            if (_access is { } access)
            {
                _access = null;
                FlushAccesses(access);
            }
            if (_allocs is { } allocs)
            {
                _allocs = null;
                for (var g = 0; g < allocs.Count; g++)
                {
                    var items = allocs.ItemsOf(g);
                    var group = new AllocGroup(task, items, _runs![g].ToArray());
                    task.Allocate(allocs.PlanOf(g), items, allocs.KeyOf(g).Purpose, Op,
                        onPage: group.Mapped, onMapped: _ => { }, onRaced: _ => { },
                        onOom: items => { Op.Oom = true; foreach (var i in items) { group.DoneOf(i.Vpn)(); } });
                }
                _runs = null;
                task.ReturnAllocGrouping(allocs);
            }
        }

        private void FlushAccesses(Dictionary<int, List<(ulong Vpn, AccessItem Item, Action Done)>> access)
        {
            foreach (var (node, list) in access)
            {
                var token = task.Expect<PagesAccessed>(r =>
                {
                    var values = r.Values;
                    for (var k = 0; k < list.Count; k++)
                    {
                        var (vpn, item, done) = list[k];
                        if (item.Write)
                        {
                            task._state.OwnPageTable.SetLastWritten(vpn, item.Value);
                        }
                        else
                        {
                            task.CheckRead(vpn, values[k]);
                        }

                        done();
                    }
                });
                var items = new AccessItem[list.Count];
                for (var k = 0; k < items.Length; k++)
                {
                    items[k] = list[k].Item;
                }

                task.Directory.Node(node).Tell(new AccessPages(token, task.Self, items));
            }
        }

        /// <summary>Consecutive faults of a group (from <see cref="Start"/> on) that do the same once their page is
        /// there: the same continuation, the same COW source and back-out, the same high half of the vpn (the items carry
        /// the low half). The faults of a chunk's new pages share one continuation, so a group is usually one run.</summary>
        private readonly record struct FaultRun(int Start, Action Done, int CowFrom, Action? BackedOut, uint VpnHigh)
        {
            public bool SameAs(FaultRun other) => ReferenceEquals(Done, other.Done) && CowFrom == other.CowFrom &&
                                                  ReferenceEquals(BackedOut, other.BackedOut) && VpnHigh == other.VpnHigh;
        }

        /// <summary>The pages of one AllocPages message and what each fault does once its page is there. Replies name
        /// pages by vpn; they come in item order within a reply, so a cursor finds the page without a lookup, and a
        /// vpn-to-position map is built only when a reply starts elsewhere (another node's share, a slow path). The
        /// group reads each item's vpn and contents from the array the message carries, which nobody writes once sent.</summary>
        private sealed class AllocGroup(NumaTaskActor task, AllocItem[] items, FaultRun[] runs)
        {
            private Dictionary<uint, int>? _positionOf;
            private int _cursor;

            private int PositionOf(uint vpn)
            {
                if (_cursor < items.Length && items[_cursor].Vpn == vpn)
                {
                    return _cursor++;
                }

                if (_positionOf is null)
                {
                    _positionOf = new Dictionary<uint, int>(items.Length);
                    // Add, not the indexer: two faults on one vpn in a round are a bug, as ToDictionary had it.
                    for (var k = 0; k < items.Length; k++)
                    {
                        _positionOf.Add(items[k].Vpn, k);
                    }
                }
                var pos = _positionOf[vpn];
                _cursor = pos + 1;
                return pos;
            }

            /// <summary>The run that holds the fault at <paramref name="position"/>: the last one starting at or before it.</summary>
            private FaultRun RunAt(int position)
            {
                int lo = 0, hi = runs.Length - 1;
                while (lo < hi)
                {
                    var mid = (lo + hi + 1) / 2;
                    if (runs[mid].Start <= position)
                    {
                        lo = mid;
                    }
                    else
                    {
                        hi = mid - 1;
                    }
                }
                return runs[lo];
            }

            public Action DoneOf(uint vpn) => RunAt(PositionOf(vpn)).Done;

            /// <summary>do_anonymous_page's (or do_wp_page's) end: the PTE maps the new page, writable, young and dirty,
            /// and a copy's old page loses this mapping there and then (<c>page_remove_rmap</c> +
            /// <c>page_cache_release</c> under the page table lock), never before: a copy the allocator refuses leaves
            /// the old page mapped (VM_FAULT_OOM). A copy whose PTE changed since the fault (<c>!pte_same</c>) is
            /// released: its node drops the mapping the allocation gave it, and the store faults again.</summary>
            /// <remarks>Kernel: 2.6.14 mm/memory.c do_wp_page().</remarks>
            public void Mapped(AllocatedPage page)
            {
                var pos = PositionOf(page.Vpn);
                var (_, done, cowFrom, backedOut, vpnHigh) = RunAt(pos);
                var vpn = (ulong)vpnHigh << 32 | items[pos].Vpn;
                if (cowFrom >= 0 && !task.PteMaps(vpn, cowFrom))
                {
                    task.NodeOfPfn(page.Pfn).Tell(new ZapPages(0, null, task.Pid, [page.Pfn]));
                    backedOut!();
                    return;
                }
                task._state.OwnPageTable.Set(vpn, Pte.Present(page.Pfn, write: true, young: true, dirty: true));
                task._state.OwnPageTable.SetLastWritten(vpn, items[pos].Contents);
                if (cowFrom >= 0 && cowFrom != task.Topology.ZeroPfn)
                {
                    task.NodeOfPfn(cowFrom).Tell(new ZapPages(0, null, task.Pid, [cowFrom]));
                }

                done();
            }
        }
    }

    /// <summary>Allocation items gathered by <see cref="PlanKey"/> as they come, in order of each key's first item (what
    /// GroupBy gave; a round has few plans, so a linear search finds the group). Each group's items come out as one array
    /// of its exact size, the one its AllocPages message carries: the items wait in one list that the task reuses round
    /// after round (<see cref="RentAllocGrouping"/>), so a round allocates no growing list per group.</summary>
    private sealed class AllocGrouping
    {
        private readonly List<(PlanKey Key, AllocPlan Plan, int Count)> _groups = new();
        private readonly List<(AllocItem Item, int Group)> _items = new();

        /// <summary>The number of groups.</summary>
        public int Count => _groups.Count;

        /// <summary>Adds <paramref name="item"/> to the group of its plan and purpose; returns the group and the item's
        /// position in it.</summary>
        public (int Group, int Position) Add(AllocItem item, AllocPlan plan, AllocPurpose purpose)
        {
            var key = new PlanKey(plan.Zonelist, plan.Interleave, purpose);
            var groups = CollectionsMarshal.AsSpan(_groups);
            var g = 0;
            while (g < groups.Length && !groups[g].Key.Equals(key))
            {
                g++;
            }

            if (g == groups.Length)
            {
                _groups.Add((key, plan, 0));
                groups = CollectionsMarshal.AsSpan(_groups);
            }

            var position = groups[g].Count++;
            _items.Add((item, g));
            return (g, position);
        }

        public PlanKey KeyOf(int group) => _groups[group].Key;

        public AllocPlan PlanOf(int group) => _groups[group].Plan;

        /// <summary>The group's items in the order they came, in a new array of their number.</summary>
        public AllocItem[] ItemsOf(int group)
        {
            var result = new AllocItem[_groups[group].Count];
            var j = 0;
            foreach (var (item, g) in _items)
            {
                if (g == group)
                {
                    result[j++] = item;
                }
            }

            return result;
        }

        public void Clear()
        {
            _groups.Clear();
            _items.Clear();
        }
    }

    /// <summary>Spare groupings for rounds being gathered. A round takes one while it gathers and gives it back when its
    /// messages are out; a round gathered while another is (a fault that completes a chunk starts the next one) takes
    /// another.</summary>
    private readonly Stack<AllocGrouping> _allocGroupings = new();

    private AllocGrouping RentAllocGrouping() => _allocGroupings.TryPop(out var g) ? g : new AllocGrouping();

    private void ReturnAllocGrouping(AllocGrouping grouping)
    {
        grouping.Clear();
        _allocGroupings.Push(grouping);
    }
}

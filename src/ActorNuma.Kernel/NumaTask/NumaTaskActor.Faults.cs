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
            var batch = new FaultBatch(this, op);
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

    /// <summary>The next chunk's pages with their VMAs; a page outside every VMA ends the touch there with EFAULT.</summary>
    private List<(ulong Vpn, Vma Vma)> ChunkPages(TouchOp op)
    {
        var chunkEnd = Math.Min(op.End, op.Next + (ulong)_machine.Settings.FaultBatch);
        var pages = new List<(ulong Vpn, Vma Vma)>((int)(chunkEnd - op.Next));
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
            Interleave == other.Interleave && Purpose == other.Purpose && Zonelist.AsSpan().SequenceEqual(other.Zonelist);

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

    /// <summary>Collects the requests of one round of faults, one message per node and kind.</summary>
    private sealed class FaultBatch(NumaTaskActor task, TouchOp op)
    {
        private readonly Dictionary<int, List<(ulong Vpn, AccessItem Item, Action Done)>> _access = new();
        /// <summary>The round's allocations grouped by <see cref="PlanKey"/> as they come, in order of each key's first
        /// page (what GroupBy gave): one AllocPages message per group.</summary>
        private readonly List<AllocGroup> _allocGroups = new();

        public TouchOp Op { get; } = op;

        public void Access(ulong vpn, int pfn, bool write, uint value, Action done)
        {
            var node = task.Topology.PfnToNid(pfn);
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
            var plan = task.Plan(vma, vpn);
            var key = new PlanKey(plan.Zonelist, plan.Interleave, purpose);
            AllocGroup? group = null;
            // Few distinct plans per round (at most one per zonelist), so a linear search beats hashing every page.
            foreach (var g in _allocGroups)
            {
                if (g.Key.Equals(key)) { group = g; break; }
            }

            if (group is null)
            {
                _allocGroups.Add(group = new AllocGroup(task, key, plan));
            }

            group.Add(new AllocItem((uint)vpn, value, 0), vpn, done, cowFrom, backedOut);
        }

        private readonly List<SwapFault> _swapFaults = new();

        /// <summary>A fault on a swap PTE, handled with the others of the round.</summary>
        public void SwapPte(SwapFault fault) => _swapFaults.Add(fault);

        public void Flush()
        {
            if (_swapFaults.Count > 0)
            {
                task.DoSwapPages(Op, _swapFaults.ToList());
                _swapFaults.Clear();
            }
            foreach (var (node, items) in _access)
            {
                var list = items;
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
                task.Directory.Node(node).Tell(new AccessPages(token, task.Self, list.Select(i => i.Item).ToArray()));
            }
            _access.Clear();
            foreach (var group in _allocGroups)
            {
                var g = group;
                task.Allocate(g.Plan, g.Items.ToArray(), g.Key.Purpose, Op,
                    onPage: g.Mapped, onMapped: _ => { }, onRaced: _ => { },
                    onOom: items => { Op.Oom = true; foreach (var i in items) { g.DoneOf(i.Vpn)(); } });
            }
            _allocGroups.Clear();
        }

        /// <summary>The pages of one AllocPages message and what each fault does once its page is there. Replies name
        /// pages by vpn; they come in item order within a reply, so a cursor finds the page without a lookup, and a
        /// vpn-to-position map is built only when a reply starts elsewhere (another node's share, a slow path).</summary>
        private sealed class AllocGroup(NumaTaskActor task, PlanKey key, AllocPlan plan)
        {
            public PlanKey Key { get; } = key;
            public AllocPlan Plan { get; } = plan;
            public List<AllocItem> Items { get; } = new();
            private readonly List<(ulong Vpn, Action Done, int CowFrom, Action? BackedOut)> _faults = new();
            private Dictionary<uint, int>? _positionOf;
            private int _cursor;

            public void Add(AllocItem item, ulong vpn, Action done, int cowFrom, Action? backedOut)
            {
                Items.Add(item);
                _faults.Add((vpn, done, cowFrom, backedOut));
            }

            private int PositionOf(uint vpn)
            {
                if (_cursor < Items.Count && Items[_cursor].Vpn == vpn)
                {
                    return _cursor++;
                }

                if (_positionOf is null)
                {
                    _positionOf = new Dictionary<uint, int>(Items.Count);
                    // Add, not the indexer: two faults on one vpn in a round are a bug, as ToDictionary had it.
                    for (var k = 0; k < Items.Count; k++)
                    {
                        _positionOf.Add(Items[k].Vpn, k);
                    }
                }
                var pos = _positionOf[vpn];
                _cursor = pos + 1;
                return pos;
            }

            public Action DoneOf(uint vpn) => _faults[PositionOf(vpn)].Done;

            /// <summary>do_anonymous_page's (or do_wp_page's) end: the PTE maps the new page, writable, young and dirty,
            /// and a copy's old page loses this mapping there and then (<c>page_remove_rmap</c> +
            /// <c>page_cache_release</c> under the page table lock), never before: a copy the allocator refuses leaves
            /// the old page mapped (VM_FAULT_OOM). A copy whose PTE changed since the fault (<c>!pte_same</c>) is
            /// released: its node drops the mapping the allocation gave it, and the store faults again.</summary>
            /// <remarks>Kernel: 2.6.14 mm/memory.c do_wp_page().</remarks>
            public void Mapped(AllocatedPage page)
            {
                var pos = PositionOf(page.Vpn);
                var (vpn, done, cowFrom, backedOut) = _faults[pos];
                if (cowFrom >= 0 && !task.PteMaps(vpn, cowFrom))
                {
                    task.NodeOfPfn(page.Pfn).Tell(new ZapPages(0, null, task.Pid, [page.Pfn]));
                    backedOut!();
                    return;
                }
                task._state.OwnPageTable.Set(vpn, Pte.Present(page.Pfn, write: true, young: true, dirty: true));
                task._state.OwnPageTable.SetLastWritten(vpn, Items[pos].Contents);
                if (cowFrom >= 0 && cowFrom != task.Topology.ZeroPfn)
                {
                    task.NodeOfPfn(cowFrom).Tell(new ZapPages(0, null, task.Pid, [cowFrom]));
                }

                done();
            }
        }
    }

}

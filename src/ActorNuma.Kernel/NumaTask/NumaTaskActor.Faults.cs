using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>Accesses and the page faults they take: <c>handle_pte_fault</c> → <c>do_anonymous_page</c> (a zero page for
/// a load, a new page for a store), <c>do_wp_page</c> (copy on write), <c>do_swap_page</c> (swap cache hit, or a read
/// into a page allocated under the policy in force now).</summary>
/// <remarks>Kernel: mm/memory.c handle_mm_fault(), do_anonymous_page(), do_wp_page(), do_swap_page().</remarks>
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
                if (inLoop) doneInLoop = true;
                else TouchChunk(op, finished);
            });
            foreach (var (vpn, pageVma) in pages) AccessPage(batch, pageVma, vpn, op.Call.Write, done);
            batch.Flush();
            inLoop = false;
            if (!doneInLoop) return;
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
            if (vma is null || !vma.Contains(vpn << MmConstants.PageShift)) vma = _state.Vmas.FindVma(vpn << MmConstants.PageShift);
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
        var pte = _state.PageTable.Get(vpn);
        if (pte.IsPresent && (!write || pte.Writable))
        {
            var value = write ? NextValue() : 0;
            _state.PageTable.Set(vpn, write ? pte.MkYoung().MkDirty() : pte.MkYoung());
            batch.Access(vpn, pte.Pfn, write, value, done);
            return;
        }
        batch.Op.Faults++;
        Count(VmEvent.Pgfault);
        if (pte.IsNone)
        {
            if (write) batch.Alloc(vma, vpn, NextValue(), AllocPurpose.AnonFault, done);
            else MapZeroPage(vpn, done);
        }
        else if (pte.IsSwap) batch.SwapPte(new SwapFault(vma, vpn, pte.SwapSlot, write, done));
        else DoWpPage(batch, vma, vpn, pte.Pfn, done);
    }

    /// <summary>do_anonymous_page for a load: the zero page, read-only. It is PG_reserved and never counted.</summary>
    private void MapZeroPage(ulong vpn, Action done)
    {
        _state.PageTable.Set(vpn, Pte.Present(Topology.ZeroPfn, write: false));
        CheckRead(vpn, 0);
        done();
    }

    /// <summary><c>do_wp_page</c>: a store to a read-only present page. The zero page is always copied; another page
    /// is reused when its node says this mapping is its only user, else copied to a page allocated under the policy.
    /// The kernel drops the page table lock while it asks and copies, then re-checks <c>pte_same()</c>: when the PTE
    /// changed meanwhile (a migration's or kswapd's try_to_unmap made it a swap entry), the new page is released and
    /// the store faults again, now on the swap entry.</summary>
    /// <remarks>Kernel: 2.6.14 mm/memory.c do_wp_page().</remarks>
    private void DoWpPage(FaultBatch batch, Vma vma, ulong vpn, int oldPfn, Action done)
    {
        var value = NextValue();
        void FaultAgain() => RetryWrite(batch.Op, vma, vpn, done);
        if (oldPfn == Topology.ZeroPfn)
        {
            batch.Alloc(vma, vpn, value, AllocPurpose.CowCopy, done, cowFrom: oldPfn, backedOut: FaultAgain);
            return;
        }
        RequestOnce(NodeOfPfn(oldPfn), t => new WpPage(t, Self, Pid, oldPfn), r =>
        {
            var reply = (WpPageReply)r;
            if (!PteMaps(vpn, oldPfn)) { FaultAgain(); return; }
            if (reply.Reuse)
            {
                _state.PageTable.Set(vpn, Pte.Present(oldPfn, write: true, young: true, dirty: true));
                var single = new FaultBatch(this, batch.Op);
                single.Access(vpn, oldPfn, write: true, value, done);
                single.Flush();
                return;
            }
            var copy = new FaultBatch(this, batch.Op);
            copy.Alloc(vma, vpn, value, AllocPurpose.CowCopy, () =>
            {
                // The new page is mapped: the old one loses this mapping (page_remove_rmap + page_cache_release).
                NodeOfPfn(oldPfn).Tell(new ZapPages(0, null, Pid, [oldPfn]));
                done();
            }, cowFrom: oldPfn, backedOut: FaultAgain);
            copy.Flush();
        });
    }

    private bool PteMaps(ulong vpn, int pfn)
    {
        var pte = _state.PageTable.Get(vpn);
        return pte.IsPresent && pte.Pfn == pfn;
    }

    /// <summary>The store runs again after a fault that backed out: a new fault on whatever the PTE is now.</summary>
    private void RetryWrite(TouchOp op, Vma vma, ulong vpn, Action done)
    {
        var again = new FaultBatch(this, op);
        AccessPage(again, vma, vpn, write: true, done);
        again.Flush();
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
            foreach (var n in Zonelist) h.Add(n);
            h.Add(Interleave);
            h.Add(Purpose);
            return h.ToHashCode();
        }
    }

    private sealed record SwapFault(Vma Vma, ulong Vpn, int Slot, bool Write, Action Done);

    /// <summary><c>do_swap_page</c> for a round of faults on swap PTEs: look the slots up in the swap cache; hits map
    /// the pages where they are (minor faults), misses read their slot's cluster (swapin_readahead) into pages
    /// allocated under the policy in force now (major faults). Then <c>swap_free</c> and, with swap over half full,
    /// <c>remove_exclusive_swap_page</c>; a store the page cannot take goes on to do_wp_page.</summary>
    private void DoSwapPages(TouchOp op, List<SwapFault> faults)
    {
        if (faults.Count == 0) return;
        var bySlot = new Dictionary<int, SwapFault>(faults.Count);
        var slots = new int[faults.Count];
        var vpns = new uint[faults.Count];
        for (var k = 0; k < faults.Count; k++)
        {
            var f = faults[k];
            bySlot.Add(f.Slot, f);   // Add: one fault per slot in a round (ToDictionary's rule)
            slots[k] = f.Slot;
            vpns[k] = (uint)f.Vpn;
        }
        var left = faults.Count;
        Request(Directory.Swap,
            t => new SwapDevice.LookupSwapCache(t, Self, Pid, slots, vpns),
            r =>
            {
                switch (r)
                {
                    case SwapCacheMapped m:
                        left -= m.Pages.Length;
                        SwapMapped(op, m.Pages, bySlot, major: false);
                        break;
                    case SwapDevice.SwapCacheMiss m:
                        left -= m.Slots.Length;
                        ReadSwapPages(op, m, bySlot);
                        break;
                }
                return left == 0;
            });
    }

    /// <summary>Misses: <c>swapin_readahead</c> reads each miss's cluster (<c>valid_swaphandles</c>), the pages placed
    /// by <c>alloc_page_vma</c> at the faulting address and the ones after it (the kernel's guess), under the policy in
    /// force now: the seed's disadvantage C, where a page comes back is decided at fault time. A miss whose slot an
    /// earlier miss of the round already reads is a later fault in the kernel: it looks the cache up again (a minor
    /// fault) once the round's reads are in.</summary>
    /// <remarks>Kernel: 2.6.14 mm/memory.c do_swap_page(), swapin_readahead(); mm/swap_state.c read_swap_cache_async().</remarks>
    private void ReadSwapPages(TouchOp op, SwapDevice.SwapCacheMiss m, Dictionary<int, SwapFault> bySlot)
    {
        var window = 1 << _machine.Settings.EffectivePageCluster;
        var requested = new HashSet<int>(m.Slots.Length * window);
        var later = new List<SwapFault>();
        // The pages to read, grouped as they come by plan in order of each plan's first page (as GroupBy did), by linear
        // search: a round has few plans. Items go straight into their group (no list of every item with its plan:
        // at a few thousand pages that list was a large-object array, and each one cost a full GC).
        var groups = new List<(PlanKey Key, AllocPlan Plan, List<AllocItem> Items)>();
        void Add(AllocItem item, AllocPlan plan)
        {
            var key = new PlanKey(plan.Zonelist, plan.Interleave, AllocPurpose.SwapIn);
            var g = 0;
            while (g < groups.Count && !groups[g].Key.Equals(key)) g++;
            if (g == groups.Count) groups.Add((key, plan, []));
            groups[g].Items.Add(item);
        }
        for (var k = 0; k < m.Slots.Length; k++)
        {
            var f = bySlot[m.Slots[k]];
            if (requested.Contains(f.Slot)) { later.Add(f); continue; }
            var (start, count) = (m.ClusterStart[k], m.ClusterCount[k]);
            Vma? vma = f.Vma;
            var next = VmNext(vma);
            var addr = f.Vpn << MmConstants.PageShift;
            for (var slot = start; slot < start + count; slot++)
            {
                if (requested.Add(slot))
                {
                    var kind = slot == f.Slot ? SwapInKind.ReadaheadFault : SwapInKind.Readahead;
                    var vpn = kind == SwapInKind.ReadaheadFault ? f.Vpn : addr >> MmConstants.PageShift;
                    Add(new AllocItem((uint)vpn, 0, slot, kind), PlanAt(vma, addr));
                }
                (vma, next, addr) = NextReadaheadAddress(vma, next, addr);
            }
            if (requested.Add(f.Slot)) Add(new AllocItem((uint)f.Vpn, 0, f.Slot, SwapInKind.Fault), Plan(f.Vma, f.Vpn));
        }
        var allRead = Join(groups.Count, () => DoSwapPages(op, later));
        foreach (var (_, plan, group) in groups)
        {
            Allocate(plan, group.ToArray(), AllocPurpose.SwapIn, op,
                onPage: _ => { },
                onMapped: mapped => SwapMapped(op, mapped.Pages, bySlot, major: true),
                onRaced: raced => DoSwapPages(op, raced.Slots.Where(s => bySlot.ContainsKey(s) && IsFaultOf(group, s)).Select(s => bySlot[s]).ToList()),
                onOom: failed =>
                {
                    op.Oom = true;
                    foreach (var i in failed.Where(i => i.Kind != SwapInKind.Readahead)) bySlot[i.SwapSlot].Done();
                },
                completed: allRead);
        }
        static bool IsFaultOf(List<AllocItem> group, int slot) =>
            group.Exists(i => i.SwapSlot == slot && i.Kind != SwapInKind.Readahead);
    }

    /// <summary>swapin_readahead's walk to the next address (CONFIG_NUMA, "Find the next applicable VMA for the NUMA
    /// policy"): the address always advances by one page. Past the VMA's end the walk takes the next VMA, but drops it
    /// again (NULL: the task policy) while the address is still below that VMA's start, i.e. in a hole; with no VMA it
    /// takes the next one once the address reaches its start. As in the kernel, <paramref name="next"/> has already
    /// moved past a VMA that was dropped for a hole, so that VMA is never taken up again.</summary>
    /// <remarks>Kernel: 2.6.14 mm/memory.c swapin_readahead().</remarks>
    private (Vma? Vma, Vma? Next, ulong Addr) NextReadaheadAddress(Vma? vma, Vma? next, ulong addr)
    {
        addr += MmConstants.PageSize;
        if (addr == 0) vma = null;
        if (vma is not null)
        {
            if (addr >= vma.End)
            {
                vma = next;
                next = VmNext(vma);
            }
            if (vma is not null && addr < vma.Start) vma = null;
        }
        else if (next is not null && addr >= next.Start)
        {
            vma = next;
            next = VmNext(vma);
        }
        return (vma, next, addr);
    }

    /// <summary><c>vma-&gt;vm_next</c>: the VMA after <paramref name="vma"/> in address order.</summary>
    private Vma? VmNext(Vma? vma) => vma is null ? null : _state.Vmas.FindVma(vma.End);

    /// <summary>alloc_page_vma(vma, addr), or alloc_pages_current without a VMA.</summary>
    private AllocPlan PlanAt(Vma? vma, ulong addr) =>
        vma is not null ? Plan(vma, addr >> MmConstants.PageShift)
            : PolicyAllocation.PlanAllocCurrent(_state.Policy, CpuNode, _machine.Zonelists, ref _ilNext);

    /// <summary>The end of do_swap_page for pages now in the swap cache and on their node: the PTE maps each one
    /// read-only, <c>swap_free</c> (and vm_swap_full) goes to the swap device, and a store goes on to do_wp_page. The
    /// kernel asks <c>can_share_swap_page</c> with the page locked, which orders it against a try_to_unmap that adds a
    /// slot reference; here the slot's count lives in the swap device, so the question is asked there, through
    /// do_wp_page, after this fault's swap_free: a count carried over from the lookup could be stale, and a page
    /// mapped writable on it would take a store another task still reaches through the slot.</summary>
    /// <remarks>Kernel: 2.6.14 mm/memory.c do_swap_page(), do_wp_page(); mm/swapfile.c can_share_swap_page().</remarks>
    private void SwapMapped(TouchOp op, MappedSwapPage[] pages, Dictionary<int, SwapFault> bySlot, bool major)
    {
        var faulted = new List<MappedSwapPage>(pages.Length);
        foreach (var page in pages)
        {
            if (page.Kind == SwapInKind.Readahead) continue;
            var f = bySlot[page.Slot];
            faulted.Add(page);
            if (major) { op.Major++; Count(VmEvent.Pgmajfault); }
            _state.PageTable.Set(f.Vpn, Pte.Present(page.Pfn, write: false, young: true));
            CheckRead(f.Vpn, page.Contents);
        }
        if (faulted.Count == 0) return;
        var slots = new int[faulted.Count];
        var pfns = new int[faulted.Count];
        for (var k = 0; k < faulted.Count; k++) (slots[k], pfns[k]) = (faulted[k].Slot, faulted[k].Pfn);
        Directory.Swap.Tell(new SwapDevice.SwapFreeAfterSwapIn(slots, pfns));
        var next = new FaultBatch(this, op);
        foreach (var page in faulted)
        {
            var f = bySlot[page.Slot];
            if (f.Write) DoWpPage(next, f.Vma, f.Vpn, page.Pfn, f.Done);
            else f.Done();
        }
        next.Flush();
    }

    /// <summary>The data checker: a load must see what this task last stored to the page (0 if never).</summary>
    private void CheckRead(ulong vpn, uint value)
    {
        var expected = _state.PageTable.LastWritten(vpn);
        if (value == expected) return;
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
            if (!_access.TryGetValue(node, out var list)) _access[node] = list = new();
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
                if (g.Key.Equals(key)) { group = g; break; }
            if (group is null) _allocGroups.Add(group = new AllocGroup(task, key, plan));
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
                task.RequestOnce(task.Directory.Node(node), t => new AccessPages(t, task.Self, list.Select(i => i.Item).ToArray()), r =>
                {
                    var values = ((PagesAccessed)r).Values;
                    for (var k = 0; k < list.Count; k++)
                    {
                        var (vpn, item, done) = list[k];
                        if (item.Write) task._state.PageTable.SetLastWritten(vpn, item.Value);
                        else task.CheckRead(vpn, values[k]);
                        done();
                    }
                });
            }
            _access.Clear();
            foreach (var group in _allocGroups)
            {
                var g = group;
                task.Allocate(g.Plan, g.Items.ToArray(), g.Key.Purpose, Op,
                    onPage: g.Mapped, onMapped: _ => { }, onRaced: _ => { },
                    onOom: items => { Op.Oom = true; foreach (var i in items) g.DoneOf(i.Vpn)(); });
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
                if (_cursor < Items.Count && Items[_cursor].Vpn == vpn) return _cursor++;
                if (_positionOf is null)
                {
                    _positionOf = new Dictionary<uint, int>(Items.Count);
                    // Add, not the indexer: two faults on one vpn in a round are a bug, as ToDictionary had it.
                    for (var k = 0; k < Items.Count; k++) _positionOf.Add(Items[k].Vpn, k);
                }
                var pos = _positionOf[vpn];
                _cursor = pos + 1;
                return pos;
            }

            public Action DoneOf(uint vpn) => _faults[PositionOf(vpn)].Done;

            /// <summary>do_anonymous_page's (or do_wp_page's) end: the PTE maps the new page, writable, young and dirty.
            /// A copy whose PTE changed since the fault (<c>!pte_same</c>) is released: its node drops the mapping the
            /// allocation gave it, and the store faults again.</summary>
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
                task._state.PageTable.Set(vpn, Pte.Present(page.Pfn, write: true, young: true, dirty: true));
                task._state.PageTable.SetLastWritten(vpn, Items[pos].Contents);
                done();
            }
        }
    }

    /// <summary>The allocation plan of <c>alloc_page_vma(vma, addr)</c> under the policy in force now.</summary>
    private AllocPlan Plan(Vma vma, ulong vpn)
    {
        var policy = PolicyAllocation.EffectivePolicy(vma, _state.Policy);
        return PolicyAllocation.PlanAllocVma(policy, vma, vpn << MmConstants.PageShift, CpuNode, _machine.Zonelists, ref _ilNext);
    }

    /// <summary>2.6.14 <c>__alloc_pages</c> from the task's side: the zonelist at pages_low; when every node refuses,
    /// wake their kswapds and go again at pages_min; when that fails too, reclaim directly, then the OOM path.</summary>
    private void Allocate(AllocPlan plan, AllocItem[] items, AllocPurpose purpose, TouchOp op,
        Action<AllocatedPage> onPage, Action<SwapCacheMapped> onMapped, Action<SwapInRaced> onRaced, Action<AllocItem[]> onOom,
        AllocPass pass = AllocPass.Low, Action? completed = null)
    {
        if (plan.Zonelist.Length == 0) { onOom(items); completed?.Invoke(); return; }
        var left = items.Length;
        var pendingSlowPaths = 0;
        Request(Directory.Node(plan.Zonelist[0]),
            t => new AllocPages(t, Self, Pid, _state.Cpu, items, plan.Zonelist, 0, pass, plan.Interleave, purpose),
            r =>
            {
                switch (r)
                {
                    case PagesAllocated m:
                        foreach (var p in m.Pages) onPage(p);
                        left -= m.Pages.Length;
                        break;
                    case SwapCacheMapped m: left -= m.Pages.Length; onMapped(m); break;
                    case SwapInRaced m: left -= m.Vpns.Length; onRaced(m); break;
                    case AllocFailed m:
                        left -= m.Items.Length;
                        pendingSlowPaths++;
                        AllocSlowPath(plan, m.Items, purpose, op, m.Pass, onPage, onMapped, onRaced, onOom, () =>
                        {
                            if (--pendingSlowPaths == 0 && left == 0) completed?.Invoke();
                        });
                        break;
                }
                if (left == 0 && pendingSlowPaths == 0) completed?.Invoke();
                return left == 0;
            });
    }
}

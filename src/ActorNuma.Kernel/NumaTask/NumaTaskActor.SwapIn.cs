using System.Buffers;
using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>Faults on swap PTEs: <c>do_swap_page</c> with the swap-cache lookup, <c>swapin_readahead</c> and the mapping
/// of the pages read.</summary>
/// <remarks>Kernel: 2.6.14 mm/memory.c do_swap_page(), swapin_readahead(); mm/swap_state.c read_swap_cache_async().</remarks>
public sealed partial class NumaTaskActor
{
    private readonly record struct SwapFault(Vma Vma, ulong Vpn, int Slot, bool Write, Action Done);

    /// <summary>The faults of a round: faults of its own (a round as the accesses took them), or some of an earlier
    /// round's, by position. The later faults of a miss round (those whose slot another miss's cluster reads) look the
    /// cache up again as a round of their own once the reads are in; naming them by position copies none of them, and
    /// that round is most of every swap-in round. Its own faults are kept in 16 bytes each: the VMA, the continuation
    /// and the access kind, which the faults of a chunk share, are kept once per run of faults that share them.</summary>
    private sealed class SwapFaults
    {
        private readonly List<(ulong Vpn, int Slot, int Context)>? _own;
        private readonly List<(Vma Vma, Action Done, bool Write)>? _contexts;
        private readonly SwapFaults? _of;
        private readonly List<int>? _at;

        /// <summary>An empty round of its own, with room for <paramref name="capacity"/> faults.</summary>
        public SwapFaults(int capacity) => (_own, _contexts) = (new(capacity), new(1));

        /// <summary>The faults of <paramref name="of"/> at <paramref name="at"/>, in that order; takes the list over.</summary>
        public SwapFaults(SwapFaults of, List<int> at) => (_of, _at) = (of, at);

        public int Count => _own?.Count ?? _at!.Count;

        /// <summary>The fault at <paramref name="k"/>: a loop down to the round that owns it, not a recursion, so the
        /// read (several per fault) is not a call chain.</summary>
        public SwapFault this[int k]
        {
            get
            {
                var round = Own(ref k);
                var (vpn, slot, context) = round._own![k];
                var (vma, done, write) = round._contexts![context];
                return new SwapFault(vma, vpn, slot, write, done);
            }
        }

        /// <summary>The slot of the fault at <paramref name="k"/>, without the rest of it.</summary>
        public int SlotAt(int k) => Own(ref k)._own![k].Slot;

        /// <summary>The vpn of the fault at <paramref name="k"/>, without the rest of it.</summary>
        public ulong VpnAt(int k) => Own(ref k)._own![k].Vpn;

        /// <summary>The round that owns the fault at <paramref name="k"/>, with <paramref name="k"/> its position there.</summary>
        private SwapFaults Own(ref int k)
        {
            var round = this;
            while (round._own is null)
            {
                k = round._at![k];
                round = round._of!;
            }

            return round;
        }

        /// <summary>Adds a fault to a round of its own.</summary>
        public void Add(SwapFault f)
        {
            var contexts = _contexts!;
            if (contexts.Count == 0 || !SameContext(contexts[^1], f))
            {
                contexts.Add((f.Vma, f.Done, f.Write));
            }

            _own!.Add((f.Vpn, f.Slot, contexts.Count - 1));
        }

        private static bool SameContext((Vma Vma, Action Done, bool Write) c, SwapFault f) =>
            ReferenceEquals(c.Vma, f.Vma) && ReferenceEquals(c.Done, f.Done) && c.Write == f.Write;
    }

    /// <summary>The faults of one swap-cache lookup, found by the slot each answer names. A round's slots are usually
    /// close together (a task's pages went out in order, and readahead reads whole clusters): then a table over the
    /// slots' range holds each one's position (one int per slot of the range); otherwise the slots are sorted, with the
    /// position of each one's fault, and searched by halving (two ints a fault, where a dictionary by slot took a node
    /// per fault and a fault object each).</summary>
    private sealed class SwapRound
    {
        private readonly int[]? _sortedSlots;
        private readonly int[]? _indexOf;
        /// <summary>Dense rounds: 1 + the position of the fault on slot <see cref="_first"/> + i, 0 for none.</summary>
        private readonly int[]? _dense;
        private readonly int _first;

        /// <summary>Takes the list over. One fault per slot in a round: a second one is a bug (as Dictionary.Add had it).</summary>
        public SwapRound(SwapFaults faults)
        {
            Faults = faults;
            int first = int.MaxValue, last = int.MinValue;
            for (var k = 0; k < faults.Count; k++)
            {
                var slot = faults.SlotAt(k);
                first = Math.Min(first, slot);
                last = Math.Max(last, slot);
            }

            if (faults.Count > 0 && (long)last - first < 4L * faults.Count + 64)
            {
                _first = first;
                _dense = new int[last - first + 1];
                for (var k = 0; k < faults.Count; k++)
                {
                    ref var at = ref _dense[faults.SlotAt(k) - first];
                    if (at != 0)
                    {
                        throw Duplicate(faults.SlotAt(k));
                    }

                    at = k + 1;
                }

                return;
            }

            _sortedSlots = new int[faults.Count];
            _indexOf = new int[faults.Count];
            for (var k = 0; k < faults.Count; k++)
            {
                (_sortedSlots[k], _indexOf[k]) = (faults.SlotAt(k), k);
            }

            Array.Sort(_sortedSlots, _indexOf);
            for (var k = 1; k < _sortedSlots.Length; k++)
            {
                if (_sortedSlots[k] == _sortedSlots[k - 1])
                {
                    throw Duplicate(_sortedSlots[k]);
                }
            }
        }

        private static ArgumentException Duplicate(int slot) =>
            new($"An item with the same key has already been added. Key: {slot}");

        public SwapFaults Faults { get; }

        public bool TryIndexOf(int slot, out int index)
        {
            if (_dense is { } dense)
            {
                var offset = (long)slot - _first;
                index = (ulong)offset < (ulong)dense.Length ? dense[offset] - 1 : -1;
                return index >= 0;
            }

            var at = Array.BinarySearch(_sortedSlots!, slot);
            index = at >= 0 ? _indexOf![at] : -1;
            return at >= 0;
        }

        public int IndexOf(int slot) =>
            TryIndexOf(slot, out var index) ? index : throw new KeyNotFoundException($"The given key '{slot}' was not present in the dictionary.");

        public SwapFault this[int slot] => Faults[IndexOf(slot)];
    }

    /// <summary><c>do_swap_page</c> for a round of faults on swap PTEs: look the slots up in the swap cache; hits map
    /// the pages where they are (minor faults), misses read their slot's cluster (swapin_readahead) into pages
    /// allocated under the policy in force now (major faults). Then <c>swap_free</c> and, with swap over half full,
    /// <c>remove_exclusive_swap_page</c>; a store the page cannot take goes on to do_wp_page. The round owns
    /// <paramref name="faults"/> from here on.</summary>
    private void DoSwapPages(TouchOp op, SwapFaults faults)
    {
        faults = StillOnSwap(op, faults);
        if (faults.Count == 0)
        {
            return;
        }

        var round = new SwapRound(faults);
        var slots = new int[faults.Count];
        var vpns = new uint[faults.Count];
        for (var k = 0; k < faults.Count; k++)
        {
            slots[k] = faults.SlotAt(k);
            vpns[k] = (uint)faults.VpnAt(k);
        }
        var left = faults.Count;
        var token = ExpectUntil<SwapDevice.ILookupSwapCacheReply>(r =>
            {
                switch (r)
                {
                    case SwapCacheMapped m:
                        left -= m.Pages.Length;
                        SwapMapped(op, m.Pages, round, major: false);
                        break;
                    case SwapDevice.SwapCacheMiss m:
                        left -= m.Slots.Length;
                        ReadSwapPages(op, m, round);
                        break;
                }
                return left == 0;
            });
        Directory.Swap.Tell(new SwapDevice.LookupSwapCache(token, Self, Pid, slots, vpns));
    }

    /// <summary>do_swap_page's <c>pte_same()</c> before it tries (again): a fault whose PTE no longer holds its swap
    /// entry backs out and the access runs again on whatever the PTE is now. A retry after a lost race needs it: a
    /// migration may have rewritten the PTE to its new page meanwhile (2.6.16 remove_from_swap, 2.6.18's migration
    /// entries), and the slot may be free by then, so looking it up again would miss and fail for ever.</summary>
    /// <remarks>Kernel: 2.6.14 mm/memory.c do_swap_page() ("Back out if somebody else faulted in this pte while we
    /// released the pte lock").</remarks>
    private SwapFaults StillOnSwap(TouchOp op, SwapFaults faults)
    {
        List<SwapFault>? again = null;
        for (var k = 0; k < faults.Count; k++)
        {
            var f = faults[k];
            if (!PteHoldsSwap(f.Vpn, f.Slot))
            {
                (again ??= new()).Add(f);
            }
        }

        if (again is null)
        {
            return faults;
        }

        // The faults that stay, as the first look found them (the retries below may change PTEs).
        var stay = new SwapFaults(faults.Count - again.Count);
        for (var k = 0; k < faults.Count; k++)
        {
            var f = faults[k];
            if (!again.Contains(f))
            {
                stay.Add(f);
            }
        }

        var retry = new FaultBatch(this, op, again.Count);
        foreach (var f in again)
        {
            AccessPage(retry, f.Vma, f.Vpn, f.Write, f.Done);
        }

        retry.Flush();
        return stay;
    }

    private bool PteHoldsSwap(ulong vpn, int slot)
    {
        var pte = _state.OwnPageTable.Get(vpn);
        return pte.IsSwap && pte.SwapSlot == slot;
    }

    /// <summary>Misses: <c>swapin_readahead</c> reads each miss's cluster (<c>valid_swaphandles</c>), the pages placed
    /// by <c>alloc_page_vma</c> at the faulting address and the ones after it (the kernel's guess), under the policy in
    /// force now: the seed's disadvantage C, where a page comes back is decided at fault time. A miss whose slot an
    /// earlier miss of the round already reads is a later fault in the kernel: it looks the cache up again (a minor
    /// fault) once the round's reads are in.</summary>
    /// <remarks>Kernel: 2.6.14 mm/memory.c do_swap_page(), swapin_readahead(); mm/swap_state.c read_swap_cache_async().</remarks>
    private void ReadSwapPages(TouchOp op, SwapDevice.SwapCacheMiss m, SwapRound round)
    {
        var window = 1 << _machine.Settings.EffectivePageCluster;
        var requested = _swapInRequested;
        requested.Clear();
        // The faults whose slot an earlier miss's cluster reads (positions in the round), and for each fault of the round
        // the group (plus one) that reads its own slot for it.
        var later = new List<int>(m.Slots.Length);
        var faultGroup = new int[round.Faults.Count];
        // The pages to read, grouped as they come by plan in order of each plan's first page (as GroupBy did). The
        // grouping is rented from the task: its list of every item with its group is kept from round to round, so a
        // large round grows it once, not every time (a large-object array per round cost a full GC each).
        var groups = RentAllocGrouping();
        for (var k = 0; k < m.Slots.Length; k++)
        {
            var index = round.IndexOf(m.Slots[k]);
            var f = round.Faults[index];
            if (requested.Contains(f.Slot)) { later.Add(index); continue; }
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
                    var (g, _) = groups.Add(new AllocItem((uint)vpn, 0, slot, kind), PlanAt(vma, addr), AllocPurpose.SwapIn);
                    if (kind == SwapInKind.ReadaheadFault)
                    {
                        faultGroup[index] = g + 1;
                    }
                }
                (vma, next, addr) = NextReadaheadAddress(vma, next, addr);
            }
            if (requested.Add(f.Slot))
            {
                var (g, _) = groups.Add(new AllocItem((uint)f.Vpn, 0, f.Slot, SwapInKind.Fault), Plan(f.Vma, f.Vpn), AllocPurpose.SwapIn);
                faultGroup[index] = g + 1;
            }
        }
        var allRead = Join(groups.Count, () => DoSwapPages(op, FaultsAt(round, later)));
        for (var g = 0; g < groups.Count; g++)
        {
            var group = g;
            Allocate(groups.PlanOf(g), groups.ItemsOf(g), AllocPurpose.SwapIn, op,
                onPage: _ => { },
                onMapped: mapped => SwapMapped(op, mapped.Pages, round, major: true),
                onRaced: raced => DoSwapPages(op, RacedFaults(round, raced.Slots, faultGroup, group)),
                onOom: failed =>
                {
                    op.Oom = true;
                    foreach (var i in failed)
                    {
                        if (i.Kind != SwapInKind.Readahead)
                        {
                            round[i.SwapSlot].Done();
                        }
                    }
                },
                completed: allRead);
        }
        ReturnAllocGrouping(groups);
    }

    /// <summary>Each round's set of the slots a miss round reads, cleared and refilled (read and written only while a
    /// round of misses is planned, which nothing interrupts).</summary>
    private readonly HashSet<int> _swapInRequested = new();

    /// <summary>The faults at <paramref name="positions"/> of the round, in that order, as a new round's.</summary>
    private static SwapFaults FaultsAt(SwapRound round, List<int> positions) => new(round.Faults, positions);

    /// <summary>The faults of a group's read whose page another reader brought into the swap cache first: the raced
    /// slots that are faults of the round whose own page this group was reading.</summary>
    private static SwapFaults RacedFaults(SwapRound round, int[] racedSlots, int[] faultGroup, int group)
    {
        var faults = new SwapFaults(0);
        foreach (var slot in racedSlots)
        {
            if (round.TryIndexOf(slot, out var index) && faultGroup[index] == group + 1)
            {
                faults.Add(round.Faults[index]);
            }
        }

        return faults;
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
        if (addr == 0)
        {
            vma = null;
        }

        if (vma is not null)
        {
            if (addr >= vma.End)
            {
                vma = next;
                next = VmNext(vma);
            }
            if (vma is not null && addr < vma.Start)
            {
                vma = null;
            }
        }
        else if (next is not null && addr >= next.Start)
        {
            vma = next;
            next = VmNext(vma);
        }
        return (vma, next, addr);
    }

    /// <summary><c>vma-&gt;vm_next</c>: the VMA after <paramref name="vma"/> in address order.</summary>
    private Vma? VmNext(Vma? vma) => vma is null ? null : _state.OwnVmas.FindVma(vma.End);

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
    private void SwapMapped(TouchOp op, MappedSwapPage[] pages, SwapRound round, bool major)
    {
        // The positions in pages of the faults this mapped, and of each fault in the round, borrowed for the call.
        var faulted = ArrayPool<int>.Shared.Rent(pages.Length);
        var inRound = ArrayPool<int>.Shared.Rent(pages.Length);
        try
        {
            var count = 0;
            for (var k = 0; k < pages.Length; k++)
            {
                var page = pages[k];
                if (page.Kind == SwapInKind.Readahead)
                {
                    continue;
                }

                var index = round.IndexOf(page.Slot);
                var f = round.Faults[index];
                if (!PteHoldsSwap(f.Vpn, page.Slot))
                {
                    // out_nomap: the PTE changed while the page was read or locked; the node's mapping and reference go,
                    // and the access runs again on what the PTE holds now.
                    NodeOfPfn(page.Pfn).Tell(new ZapPages(0, null, Pid, [page.Pfn]));
                    AccessAgain(op, f.Vma, f.Vpn, f.Write, f.Done);
                    continue;
                }
                inRound[count] = index;
                faulted[count++] = k;
                if (major) { op.Major++; Count(VmEvent.Pgmajfault); }
                _state.OwnPageTable.Set(f.Vpn, Pte.Present(page.Pfn, write: false, young: true));
                CheckRead(f.Vpn, page.Contents);
            }
            if (count == 0)
            {
                return;
            }

            var slots = new int[count];
            var pfns = new int[count];
            for (var j = 0; j < count; j++)
            {
                (slots[j], pfns[j]) = (pages[faulted[j]].Slot, pages[faulted[j]].Pfn);
            }

            Directory.Swap.Tell(new SwapDevice.SwapFreeAfterSwapIn(slots, pfns));
            var next = new FaultBatch(this, op);
            for (var j = 0; j < count; j++)
            {
                var page = pages[faulted[j]];
                var f = round.Faults[inRound[j]];
                if (f.Write)
                {
                    DoWpPage(next, f.Vma, f.Vpn, page.Pfn, f.Done);
                }
                else
                {
                    f.Done();
                }
            }
            next.Flush();
        }
        finally
        {
            ArrayPool<int>.Shared.Return(faulted);
            ArrayPool<int>.Shared.Return(inRound);
        }
    }
}

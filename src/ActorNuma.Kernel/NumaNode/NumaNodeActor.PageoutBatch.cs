using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>The state of the pageout path (NumaNodeActor.Pageout.cs): what a batch of pages is, where each of its pages
/// stands, the scratch and rounds a batch borrows, and the pools they go back to.</summary>
public sealed partial class NumaNodeActor
{
    /// <summary>Where a page of a pageout batch ended. <see cref="Keep"/> is swapout_pages' "retry" (the page stays on
    /// its list for the next pass) and shrink_list's <c>keep</c>/<c>keep_locked</c>.</summary>
    private enum PageoutVerdict : byte { Pending, Freed, Keep, Activate, Failed }

    /// <summary>Which kernel loop drives a batch.</summary>
    private enum PageoutCaller : byte { SwapoutPages, ShrinkList }

    /// <summary>What distinguishes the two callers of the pageout steps.</summary>
    /// <param name="Caller">swapout_pages or shrink_list; also fixes the order in which a batch's answers are handled
    /// (see <see cref="HandleSwapWriteStarted"/> and <see cref="AfterPageoutAnswer"/>).</param>
    /// <param name="NoSlot">add_to_swap found no slot: swapout_pages counts the page failed, shrink_list activates it.</param>
    /// <param name="Young">try_to_unmap met a young PTE (SWAP_FAIL): swapout_pages retries next pass, shrink_list
    /// activates.</param>
    /// <param name="IgnoreYoung">try_to_unmap ignores the young bit (2.6.16 migration).</param>
    private readonly record struct PageoutMode(PageoutCaller Caller, PageoutVerdict NoSlot, PageoutVerdict Young, bool IgnoreYoung)
    {
        public static PageoutMode SwapoutPages(bool ignoreYoung) =>
            new(PageoutCaller.SwapoutPages, PageoutVerdict.Failed, PageoutVerdict.Keep, ignoreYoung);

        public static readonly PageoutMode ShrinkList =
            new(PageoutCaller.ShrinkList, PageoutVerdict.Activate, PageoutVerdict.Activate, IgnoreYoung: false);

        /// <summary>free_it drops the isolation reference at once (swapout_pages) instead of releasing the freed pages
        /// together when the list is done (shrink_list).</summary>
        public bool ReleaseAtOnce => Caller == PageoutCaller.SwapoutPages;
    }

    /// <summary>One list of pages going through the pageout steps, and where each stands. Per-page state lives in arrays
    /// indexed by the page's position in the list (the order verdicts are reported in); <see cref="PositionOf"/> maps a
    /// frame back to it for the answers of the swap device and the mapping tasks, which name pages by pfn. The arrays
    /// are the scratch's and may be longer than the list: only the first <see cref="Count"/> entries are the batch's.</summary>
    private sealed class PageoutBatch
    {
        /// <param name="scratch">Rented with <see cref="PageoutScratch.Begin"/>(<paramref name="count"/>), its
        /// <see cref="PageoutScratch.Idxs"/> filled with the list's frames.</param>
        public PageoutBatch(PageoutMode mode, int count, PageoutScratch scratch)
        {
            Mode = mode;
            _scratch = scratch;
            Count = count;
            // A pfn named twice is one page.
            Pending = scratch.Positions.Build(scratch.Idxs, count, scratch.Hints);
        }

        public long Token { get; set; }
        public PageoutMode Mode { get; }
        /// <summary>Pages in the list (repeats included).</summary>
        public int Count { get; }
        /// <summary>The frame index of each page, in list order (-1: a repeat of an earlier one).</summary>
        public int[] Idxs => Scratch.Idxs;
        public PageoutVerdict[] Verdicts => Scratch.Verdicts;
        /// <summary>Mapper replies still awaited per page, and whether any said young or not mapped.</summary>
        public (int Waiting, bool Young, bool Again)[] Unmaps => Scratch.Unmaps;
        public int PositionOf(int idx) => Scratch.Positions.Of(idx);
        public int Pending;
        /// <summary>shrink_list: <c>page_referenced()</c> of each page (pageout keeps a referenced dirty page).</summary>
        public int[]? Referenced;
        /// <summary>The swapout pass this batch is, for swapout_pages.</summary>
        public SwapoutPass? Swapout { get; init; }
        /// <summary>The shrink_cache batch this list is, and what runs when it is done, for shrink_list.</summary>
        public ShrinkZoneJob? Job { get; init; }
        public Action<int>? Done { get; init; }

        /// <summary>What the batch's pages wait for from other actors since its last flush (null: nothing).</summary>
        public PageoutRound? Round { get; set; }

        private PageoutScratch? _scratch;

        /// <summary>The batch's collections; a batch used after <see cref="TakeScratch"/> is a BUG of this file. Read for
        /// every page, several times: the throw lives in a helper of its own so that the JIT inlines the read.</summary>
        private PageoutScratch Scratch => _scratch ?? Released(Token);

        [System.Diagnostics.CodeAnalysis.DoesNotReturn]
        private static PageoutScratch Released(long token) =>
            throw new KernelBugException($"pageout batch {token} used after its end released its collections");

        /// <summary>Hands the collections back once the batch is over (see <see cref="ReleaseEndedPageouts"/>).</summary>
        public PageoutScratch TakeScratch()
        {
            var scratch = Scratch;
            _scratch = null;
            return scratch;
        }
    }

    /// <summary>The per-page collections of a pageout batch, which live as long as it does: its pages, their verdicts and
    /// unmap answers, and a frame's position in the list. A batch takes one set from the node's pool when it opens and
    /// the node takes it back after the message in which the batch ended (a batch still flushes in that message): a
    /// migration runs a batch per node and pass, and building these afresh for each was most of what a pass allocated
    /// besides its messages. A migration sends every batch of a pass at once, so the pool holds as many sets as batches
    /// were open together, each as long as the longest list it served.</summary>
    private sealed class PageoutScratch(int[] hints)
    {
        /// <summary>The node's position hint of every frame (<see cref="PageListPositions"/>), shared by its lists.</summary>
        public int[] Hints { get; } = hints;
        public int[] Idxs { get; private set; } = [];
        public PageoutVerdict[] Verdicts { get; private set; } = [];
        public (int Waiting, bool Young, bool Again)[] Unmaps { get; private set; } = [];
        public PageListPositions Positions { get; } = new();

        /// <summary>Makes the per-page arrays hold <paramref name="count"/> pages, verdicts pending and no unmap
        /// awaited; returns <see cref="Idxs"/> for the caller to fill.</summary>
        public int[] Begin(int count)
        {
            if (Idxs.Length < count)
            {
                Idxs = new int[count];
                Verdicts = new PageoutVerdict[count];
                Unmaps = new (int, bool, bool)[count];
            }
            else
            {
                Array.Clear(Verdicts, 0, count);
                Array.Clear(Unmaps, 0, count);
            }

            return Idxs;
        }
    }

    /// <summary>What the pages of one batch wait for from other actors, gathered while a message is handled and sent by
    /// the batch's next flush, one message per peer: pages for a swap slot, for each mapping task the PTEs to unmap, and
    /// pages for the disk. A flush empties it and hands it back, and every message ends with the flushes of the batches
    /// it moved on, so the node needs only as many as batches one message touches, where lists kept for a batch's whole
    /// life would make a set per batch in flight (a migration sends all the batches of a pass at once).</summary>
    private sealed class PageoutRound
    {
        public List<int> NeedSlot { get; } = new();
        /// <summary>By mapping task, in the order the tasks first appear in the round (the order they are told).</summary>
        public Dictionary<int, List<NumaTask.UnmapItem>> NeedUnmap { get; } = new();
        public List<SwapDevice.WriteItem> NeedWrite { get; } = new();

        /// <summary>Lists of NeedUnmap go back here after a flush: a pass flushes many times (once per page the lock
        /// or writeback woke), and growing a fresh list each time cost more than the unmapping itself.</summary>
        private readonly Stack<List<NumaTask.UnmapItem>> _spareUnmapLists = new();

        public List<NumaTask.UnmapItem> UnmapList(int task)
        {
            if (!NeedUnmap.TryGetValue(task, out var list))
            {
                NeedUnmap[task] = list = _spareUnmapLists.TryPop(out var spare) ? spare : new();
            }

            return list;
        }

        /// <summary>Empties everything for the next batch that needs a round (the dictionary itself is cleared, so the
        /// tasks of the next round are told in the order they first appear in it).</summary>
        public void Clear()
        {
            foreach (var list in NeedUnmap.Values)
            {
                list.Clear();
                _spareUnmapLists.Push(list);
            }
            NeedUnmap.Clear();
            NeedSlot.Clear();
            NeedWrite.Clear();
        }
    }

    /// <summary>Sets of pageout collections no batch holds (<see cref="PageoutScratch"/>).</summary>
    private readonly Stack<PageoutScratch> _pageoutScratch = new();

    /// <summary>Rounds no batch holds (<see cref="PageoutRound"/>).</summary>
    private readonly Stack<PageoutRound> _pageoutRounds = new();

    /// <summary>Batches that ended in the message being handled: their collections go back to the pool after it.</summary>
    private readonly List<PageoutBatch> _endedPageouts = new();

    private PageoutScratch RentPageoutScratch() =>
        _pageoutScratch.TryPop(out var scratch) ? scratch : new PageoutScratch(_pageoutHints ??= new int[_m.Pages]);

    /// <summary>Each frame's position in the pageout list that holds it (<see cref="PageListPositions"/>): one int per
    /// frame, made with the node's first pageout list.</summary>
    private int[]? _pageoutHints;

    /// <summary>The batch's round, taken from the pool when the batch has none since its last flush.</summary>
    private PageoutRound RoundOf(PageoutBatch batch) =>
        batch.Round ??= _pageoutRounds.TryPop(out var round) ? round : new PageoutRound();

    /// <summary>Runs at the end of every message, after the last flush: the collections of the batches that ended go
    /// back to the pool.</summary>
    private void ReleaseEndedPageouts()
    {
        if (_endedPageouts.Count == 0)
        {
            return;
        }

        foreach (var batch in _endedPageouts)
        {
            _pageoutScratch.Push(batch.TakeScratch());
            ReleaseRound(batch);
        }

        _endedPageouts.Clear();
    }

    private void ReleaseRound(PageoutBatch batch)
    {
        if (batch.Round is not { } round)
        {
            return;
        }

        round.Clear();
        _pageoutRounds.Push(round);
        batch.Round = null;
    }
}

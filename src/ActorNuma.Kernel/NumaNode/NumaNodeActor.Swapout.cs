using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>One pass of V2 <c>swapout_pages()</c> over the pages of this node: the head of the loop body (lock_page,
/// wait_on_page_writeback), as the pass number has it, then the pageout steps it shares with shrink_list
/// (NumaNodeActor.Pageout.cs):
/// <code>
///   lock ─► writeback? ─► add_to_swap ─► try_to_unmap ─► pageout ─► free
///   busy/pass 0: retry   no slot: failed  young: retry   I/O started: retry
/// </code></summary>
/// <remarks>Kernel: V2 1/2 mm/vmscan.c swapout_pages().</remarks>
public sealed partial class NumaNodeActor
{
    private void HandleSwapoutPass(SwapoutPass m)
    {
        var scratch = RentPageoutScratch();
        var idxs = scratch.Begin(m.Pfns.Length);
        for (var k = 0; k < m.Pfns.Length; k++)
        {
            var idx = Idx(m.Pfns[k]);
            if (_m.Place(idx) != FramePlace.Isolated)
            {
                throw new InvalidOperationException($"swapout_pages: pfn {m.Pfns[k]} is not isolated ({_m.Place(idx)})");
            }

            idxs[k] = idx;
        }
        var batch = OpenPageout(new PageoutBatch(PageoutMode.SwapoutPages(m.UnmapIgnoresYoung), m.Pfns.Length, scratch) { Swapout = m });
        for (var k = 0; k < batch.Count; k++)
        {
            if (idxs[k] >= 0)
            {
                StepLock(batch, idxs[k]);
            }
        }

        FlushPageout(batch);
    }

    /// <summary>The pass is done: its pages sorted by verdict in request order, back to the migrating task.</summary>
    private void FinishSwapoutPass(PageoutBatch batch)
    {
        var r = batch.Swapout!;
        // One walk in request order counts the pages of each verdict, a second fills the answer's arrays (no array for
        // the verdicts a swapout pass does not report, and an empty one for a verdict no page has).
        Span<int> counts = stackalloc int[5];
        for (var k = 0; k < batch.Count; k++)
        {
            counts[(int)batch.Verdicts[k]]++;
        }

        var freed = PfnArray(counts[(int)PageoutVerdict.Freed]);
        var retry = PfnArray(counts[(int)PageoutVerdict.Keep]);
        var failed = PfnArray(counts[(int)PageoutVerdict.Failed]);
        counts.Clear();
        for (var k = 0; k < batch.Count; k++)
        {
            if (batch.Idxs[k] < 0)
            {
                continue;
            }

            var v = batch.Verdicts[k];
            var into = v switch
            {
                PageoutVerdict.Freed => freed,
                PageoutVerdict.Keep => retry,
                PageoutVerdict.Failed => failed,
                _ => null,
            };
            if (into is not null)
            {
                into[counts[(int)v]++] = Pfn(batch.Idxs[k]);
            }
        }
        var result = new SwapoutPassResult(r.Token, _node, freed, retry, failed);
        Trace.Emit("mm_migrate_swapout_pass", $"node={_node} pass={r.Pass} freed={result.Freed.Length} retry={result.Retry.Length} failed={result.Failed.Length}");
        r.ReplyTo.Tell(result);
    }

    private static int[] PfnArray(int length) => length == 0 ? [] : new int[length];

    /// <summary>Passes below the profile's threshold only try the lock; later ones wait for it.</summary>
    private void StepLock(PageoutBatch batch, int idx)
    {
        if (batch.Swapout!.Pass < batch.Swapout.BlockingLockFromPass)
        {
            if (_m.TestAndSet(idx, PageFlags.Locked)) { ResolvePage(batch, idx, PageoutVerdict.Keep, unlock: false); return; }
            StepWriteback(batch, idx);
            return;
        }
        SwapoutLocked(batch, idx);
    }

    /// <summary>lock_page in a blocking pass, and where a page woken on the lock goes on from.</summary>
    private void SwapoutLocked(PageoutBatch batch, int idx)
    {
        if (_m.TestAndSet(idx, PageFlags.Locked)) { Sleep(idx, PageFlags.Locked, new Waiter(batch)); return; }
        StepWriteback(batch, idx);
        FlushAfterMessage(batch);
    }

    /// <summary>wait_on_page_writeback, and where a page woken by end_page_writeback goes on from.</summary>
    private void SwapoutWritebackDone(PageoutBatch batch, int idx)
    {
        if (_m.Test(idx, PageFlags.Writeback)) { Sleep(idx, PageFlags.Writeback, new Waiter(batch)); return; }
        PageoutAddToSwap(batch, idx);
        FlushAfterMessage(batch);
    }

    /// <summary>A page under writeback: pass 0 retries it later, later passes wait for the write.</summary>
    private void StepWriteback(PageoutBatch batch, int idx)
    {
        if (!_m.Test(idx, PageFlags.Writeback)) { PageoutAddToSwap(batch, idx); return; }
        if (batch.Swapout!.Pass == 0) { ResolvePage(batch, idx, PageoutVerdict.Keep, unlock: true); return; }
        Sleep(idx, PageFlags.Writeback, new Waiter(batch));
    }

    /// <summary>Batches that pages woken from lock_page or wait_on_page_writeback moved on: one message (end_page_writeback
    /// of a whole write, an unlock) wakes many pages, and flushing after each sent a message per page to the swap device.
    /// They are flushed once, in the order first woken, when the message that woke them is handled; other actors
    /// cannot tell, since they see this node only between messages.</summary>
    private readonly List<PageoutBatch> _wokenBatches = new();

    private void FlushAfterMessage(PageoutBatch batch)
    {
        foreach (var b in _wokenBatches)
        {
            if (b.Token == batch.Token)
            {
                return;
            }
        }

        _wokenBatches.Add(batch);
    }

    /// <summary>Runs at the end of every message: the flushes <see cref="FlushAfterMessage"/> put off.</summary>
    private void FlushWokenBatches()
    {
        if (_wokenBatches.Count == 0)
        {
            return;
        }
        // A flush does not wake pages (it only sends), so the list cannot grow while it is walked.
        foreach (var batch in _wokenBatches)
        {
            FlushPageout(batch);
        }

        _wokenBatches.Clear();
    }
}

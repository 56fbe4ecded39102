using static ActorNuma.Kernel.NumaTask;
using static ActorNuma.Kernel.NumaNode;

namespace ActorNuma.Kernel;

/// <summary>Write faults on read-only present pages: <c>do_wp_page</c>, copy on write or reuse.</summary>
/// <remarks>Kernel: 2.6.14 mm/memory.c do_wp_page().</remarks>
public sealed partial class NumaTaskActor
{
    /// <summary><c>do_wp_page</c>: a store to a read-only present page. The zero page is always copied; another page
    /// is reused when its node says this mapping is its only user, else copied to a page allocated under the policy.
    /// The kernel drops the page table lock while it asks and copies, then re-checks <c>pte_same()</c>: when the PTE
    /// changed meanwhile (a migration's or kswapd's try_to_unmap made it a swap entry), the new page is released and
    /// the store faults again, now on the swap entry.</summary>
    /// <remarks>Kernel: 2.6.14 mm/memory.c do_wp_page().</remarks>
    private void DoWpPage(FaultBatch batch, Vma vma, ulong vpn, int oldPfn, Action done)
    {
        var value = NextValue();
        void FaultAgain() => AccessAgain(batch.Op, vma, vpn, write: true, done);
        if (oldPfn == Topology.ZeroPfn)
        {
            batch.Alloc(vma, vpn, value, AllocPurpose.CowCopy, done, cowFrom: oldPfn, backedOut: FaultAgain);
            return;
        }
        var token = Expect<IWpPageReply>(reply =>
        {
            if (!PteMaps(vpn, oldPfn)) { FaultAgain(); return; }
            if (reply.Reuse)
            {
                _state.OwnPageTable.Set(vpn, Pte.Present(oldPfn, write: true, young: true, dirty: true));
                var single = new FaultBatch(this, batch.Op);
                single.Access(vpn, oldPfn, write: true, value, done);
                single.Flush();
                return;
            }
            var copy = new FaultBatch(this, batch.Op);
            copy.Alloc(vma, vpn, value, AllocPurpose.CowCopy, done, cowFrom: oldPfn, backedOut: FaultAgain);
            copy.Flush();
        });
        NodeOfPfn(oldPfn).Tell(new WpPage(token, Self, Pid, oldPfn));
    }

    private bool PteMaps(ulong vpn, int pfn)
    {
        var pte = _state.OwnPageTable.Get(vpn);
        return pte.IsPresent && pte.Pfn == pfn;
    }

    /// <summary>The access runs again after a fault that backed out: a new fault on whatever the PTE is now.</summary>
    private void AccessAgain(TouchOp op, Vma vma, ulong vpn, bool write, Action done)
    {
        var again = new FaultBatch(this, op);
        AccessPage(again, vma, vpn, write, done);
        again.Flush();
    }
}

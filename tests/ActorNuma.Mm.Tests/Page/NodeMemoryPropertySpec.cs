using CsCheck;

namespace ActorNuma.Mm.Tests.Page;

/// <summary>Random sequences of alloc / lru add / activate / rotate / isolate / putback / put_page / page_cache_release on
/// one <see cref="NodeMemory"/>, checked after every step against a small model of who holds which reference. Every
/// sequence comes from one fixed seed (CsCheck's generators on a <see cref="PCG"/> of it), printed on failure with the
/// sequence's number and its steps: the run is the same every time, and another seed is a local hunt.</summary>
public sealed class NodeMemoryPropertySpec
{
    private const int Pages = 24;

    private enum Op { Alloc, LruAdd, LruAddActive, Activate, Rotate, Isolate, Putback, PutOwn, IsolatorFrees, Release }

    /// <summary>What the test believes about one frame it has allocated.</summary>
    private sealed class Frame
    {
        public bool Own = true;       // the owner's reference (the mapping's)
        public bool Isolated;         // the isolator's reference; PG_lru clear
        public bool OnLru;            // PG_lru set and linked
        public bool Active;
        public bool Pending;          // count 0 on the LRU, waiting for __page_cache_release
        public bool EverOnLru;
        public int ExpectedCount => (Own ? 1 : 0) + (Isolated ? 1 : 0);
    }

    private static readonly Gen<(Op Op, int Pick)[]> Steps =
        Gen.Select(Gen.Enum<Op>(), Gen.Int[0, 1000]).Array[1, 120];

    private const ulong Seed = 20251205;
    private const int Sequences = 400;

    [Fact]
    public void Random_lru_traffic_keeps_every_frame_accounted_for_and_the_lru_counters_true()
    {
        var pcg = new PCG(1, Seed);
        for (var i = 0; i < Sequences; i++)
        {
            var steps = Steps.Generate(pcg, null, out _);
            try
            {
                Run(steps);
            }
            catch (Exception e)
            {
                throw new Xunit.Sdk.XunitException(
                    $"seed {Seed}, sequence {i} of {Sequences}: {e.Message}\nsteps: {string.Join(", ", steps.Select(s => $"{s.Op}({s.Pick})"))}");
            }
        }
    }

    private static void Run((Op Op, int Pick)[] steps)
    {
        var m = new NodeMemory(node: 0, firstPfn: 0, Pages, new Watermarks(2, 3, 4), holdsZeroPage: true);
        var frames = new Dictionary<int, Frame>();
        foreach (var (op, pick) in steps)
        {
            Apply(m, frames, op, pick);
            Check(m, frames);
        }
    }

    private static void Apply(NodeMemory m, Dictionary<int, Frame> frames, Op op, int pick)
    {
        if (op == Op.Alloc)
        {
            var free = m.FreePages;
            var i = m.AllocFrame();
            if (free == 0) { Assert.Equal(-1, i); return; }
            Assert.False(frames.ContainsKey(i));
            frames[i] = new Frame();
            return;
        }
        if (frames.Count == 0)
        {
            return;
        }

        var keys = frames.Keys.Order().ToArray();
        var idx = keys[pick % keys.Length];
        var f = frames[idx];
        switch (op)
        {
            case Op.LruAdd or Op.LruAddActive when !f.EverOnLru:
                m.AddToLru(idx, op == Op.LruAddActive);
                f.OnLru = f.EverOnLru = true;
                f.Active = op == Op.LruAddActive;
                break;
            case Op.Activate:
                m.ActivatePage(idx);
                if (f.OnLru)
                {
                    f.Active = true;
                }

                break;
            case Op.Rotate when f.OnLru && !f.Active:
                m.MoveToInactiveTail(idx);
                Assert.Equal(idx, m.Tail(active: false));
                break;
            case Op.Isolate:
                Isolate(m, idx, f);
                break;
            case Op.Putback when f.Isolated:
                Assert.True(m.PutbackLruPage(idx));
                f.Isolated = false;
                f.OnLru = true;
                DropReference(m, frames, idx, f);
                break;
            case Op.PutOwn when f.Own:
                f.Own = false;
                DropReference(m, frames, idx, f);
                break;
            case Op.IsolatorFrees when f.Isolated && !f.Own:
                // swapout_pages' free_it: ClearPageActive, then the isolation reference goes.
                m.Clear(idx, PageFlags.Active);
                f.Active = false;
                f.Isolated = false;
                DropReference(m, frames, idx, f);
                break;
            case Op.Release when f.Pending:
                Assert.True(m.PageCacheRelease(idx));
                frames.Remove(idx);
                break;
        }
    }

    private static void Isolate(NodeMemory m, int idx, Frame f)
    {
        var rc = m.IsolateLruPage(idx, Isolator.Migration);
        var expected = !f.OnLru ? IsolateRc.NotOnLru : f.Pending ? IsolateRc.BeingFreed : IsolateRc.Isolated;
        Assert.Equal(expected, rc);
        if (rc != IsolateRc.Isolated)
        {
            return;
        }

        f.Isolated = true;
        f.OnLru = false;
    }

    private static void DropReference(NodeMemory m, Dictionary<int, Frame> frames, int idx, Frame f)
    {
        var result = m.PutPage(idx);
        if (f.ExpectedCount > 0) { Assert.Equal(PutResult.Alive, result); return; }
        if (f.OnLru)
        {
            Assert.Equal(PutResult.ReleasePending, result);
            f.Pending = true;
            return;
        }
        Assert.Equal(PutResult.Freed, result);
        frames.Remove(idx);
    }

    private static void Check(NodeMemory m, Dictionary<int, Frame> frames)
    {
        // Every frame is free, the zero page, or one the test holds.
        Assert.Equal(Pages, m.FreePages + frames.Count + 1);
        Assert.Equal(m.FreePages, m.FreeList().Count());
        var places = m.CountPlaces();
        Assert.Equal(m.FreePages, places[(int)FramePlace.Free]);
        Assert.Equal(1, places[(int)FramePlace.Reserved]);

        var (active, inactive) = m.WalkLru();
        Assert.Equal(m.NrActive, active.Count);
        Assert.Equal(m.NrInactive, inactive.Count);
        Assert.Equal(m.NrActive + m.NrInactive, places[(int)FramePlace.Lru]);
        Assert.Equal(active.Count, active.Distinct().Count());
        Assert.Equal(inactive, m.FromTail(active: false).Reverse());
        Assert.Equal(active, m.FromTail(active: true).Reverse());

        foreach (var (idx, f) in frames)
        {
            Assert.Equal(f.ExpectedCount, m.Count(idx));
            Assert.Equal(f.OnLru, m.Test(idx, PageFlags.Lru));
            Assert.Equal(f.Active, m.Test(idx, PageFlags.Active));
            var place = f.OnLru ? FramePlace.Lru : f.Isolated ? FramePlace.Isolated : FramePlace.InFlight;
            Assert.Equal(place, m.Place(idx));
            Assert.Equal(f.OnLru && f.Active, active.Contains(idx));
            Assert.Equal(f.OnLru && !f.Active, inactive.Contains(idx));
        }
    }
}

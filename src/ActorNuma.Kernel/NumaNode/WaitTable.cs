using ActorNuma.Mm;

namespace ActorNuma.Kernel;

/// <summary><c>zone-&gt;wait_table</c>: sleepers on a page bit (PG_locked, PG_writeback) hash by page into a fixed
/// table of queues, as <c>page_waitqueue()</c> does; a wake-up runs the sleepers of that page and bit in the order
/// they slept and leaves the rest of the queue asleep (the filter <c>wake_bit_function</c> applies).</summary>
/// <remarks>2.6.14 <c>wait_table_size()</c> gives one queue per 256 pages, 4 to 4096 of them. Which queue a page
/// hashes to never changes who wakes, so the emulator keeps one per 16 pages (up to 64K): a migration that puts
/// most of a node to sleep on writeback at once then still finds a page's sleepers in a short scan. The queues are
/// chains through one pool of entries, as the kernel's are lists of <c>wait_bit_queue</c>s on the sleepers' stacks:
/// the table holds as many entries as sleep at once, not a list per queue that every queue a migration touches grows
/// (a fresh machine's node allocated about 25 bytes per migrated page that way).</remarks>
internal sealed class WaitTable<TWaiter> where TWaiter : struct
{
    /// <summary>Per page bit (by its number), per queue, 1 + the pool index of the queue's first and of its last entry;
    /// 0 when the queue is empty. A bit's queues are made when something first sleeps on it.</summary>
    private readonly int[]?[] _heads = new int[32][];
    private readonly int[]?[] _tails = new int[32][];
    private readonly int _size;
    private readonly int _shift;
    /// <summary>The entries, in chunks: the pool grows to as many as sleep at once (half a node, in a migration that
    /// writes it all back) without copying, and no chunk is a large-object allocation. A chunk holds a quarter of the
    /// node's pages, 16 to 2,048 entries: an explore schedule's machine of a few dozen pages a node, booted thousands
    /// of times a second, does not take 32 KB per node for its few sleepers.</summary>
    private readonly List<Entry[]> _chunks = new();
    private readonly int _chunkShift;
    private readonly int _chunkMask;
    /// <summary>1 + the pool index of the first free entry (the free entries chain through Next); 0: none.</summary>
    private int _free;
    /// <summary>Pool entries ever used: those past it were never handed out.</summary>
    private int _used;

    /// <summary>A sleeper on a page (the bit is its queue's), 16 bytes.</summary>
    private struct Entry
    {
        public int Idx;
        public int Next;
        public TWaiter W;
    }

    public WaitTable(int pages)
    {
        var size = 4;
        while (size < pages / 16 && size < 1 << 16)
        {
            size <<= 1;
        }

        _size = size;
        _chunkShift = Math.Clamp(System.Numerics.BitOperations.Log2((uint)Math.Max(1, pages / 4)), 4, 11);
        _chunkMask = (1 << _chunkShift) - 1;
        _shift = 32 - System.Numerics.BitOperations.Log2((uint)size);
    }

    /// <summary>Sleepers in the table, for the liveness view.</summary>
    public int Count { get; private set; }

    private int Queue(int idx) => (int)((uint)idx * 0x9E3779B1u >> _shift);

    private static int Number(PageFlags bit) => System.Numerics.BitOperations.TrailingZeroCount((uint)bit);

    private ref Entry At(int at) => ref _chunks[at >> _chunkShift][at & _chunkMask];

    public void Add(int idx, PageFlags bit, TWaiter w)
    {
        int at;
        if (_free != 0)
        {
            at = _free - 1;
            _free = At(at).Next;
        }
        else
        {
            if (_used == _chunks.Count << _chunkShift)
            {
                _chunks.Add(new Entry[1 << _chunkShift]);
            }

            at = _used++;
        }

        At(at) = new Entry { Idx = idx, W = w };
        var heads = _heads[Number(bit)] ??= new int[_size];
        var tails = _tails[Number(bit)] ??= new int[_size];
        var q = Queue(idx);
        if (tails[q] == 0)
        {
            heads[q] = at + 1;
        }
        else
        {
            At(tails[q] - 1).Next = at + 1;
        }

        tails[q] = at + 1;
        Count++;
    }

    /// <summary>Takes the sleepers of (page, bit) off their queue, in the order they slept (one that sleeps again
    /// queues anew).</summary>
    public bool Take(int idx, PageFlags bit, out TWaiter first, out List<TWaiter>? more)
    {
        first = default;
        more = null;
        if (_heads[Number(bit)] is not { } heads)
        {
            return false;
        }

        var tails = _tails[Number(bit)]!;
        var q = Queue(idx);
        var found = false;
        var before = 0;   // 1 + the entry kept before the current one
        for (var at = heads[q]; at != 0;)
        {
            ref var e = ref At(at - 1);
            var next = e.Next;
            if (e.Idx != idx)
            {
                before = at;
                at = next;
                continue;
            }

            if (!found)
            {
                first = e.W;
                found = true;
            }
            else
            {
                (more ??= new()).Add(e.W);
            }

            // Unlinked, and onto the free chain (its waiter dropped, so the pool keeps no batch alive).
            if (before == 0)
            {
                heads[q] = next;
            }
            else
            {
                At(before - 1).Next = next;
            }

            if (tails[q] == at)
            {
                tails[q] = before;
            }

            e = new Entry { Next = _free };
            _free = at;
            Count--;
            at = next;
        }

        return found;
    }
}

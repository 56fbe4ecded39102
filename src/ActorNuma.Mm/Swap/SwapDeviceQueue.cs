namespace ActorNuma.Mm;

/// <summary>One direction (write or read) of the swap device: up to <see cref="QueueDepth"/> page requests in flight,
/// each taking <see cref="ServiceTime"/>, served first come first served. A request of several pages completes when its
/// last page does, as a merged block request ends all its bios at once.</summary>
/// <remarks>swap_writepage() and swap_readpage() submit one bio a page; the device works on as many at once as its queue
/// takes (a 2005 IDE disk one, an NVMe drive dozens). Time is whatever clock the caller passes: the virtual clock in
/// deterministic runs, the wall clock in concurrent ones, so both modes compute the same completion times for the same
/// arrivals.</remarks>
public sealed class SwapDeviceQueue
{
    /// <summary>When each place in the queue is next free, kept in no particular order.</summary>
    private readonly TimeSpan[] _freeAt;

    public SwapDeviceQueue(int queueDepth, TimeSpan serviceTime)
    {
        if (queueDepth < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(queueDepth), queueDepth, "at least one request in flight");
        }

        if (serviceTime < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(serviceTime), serviceTime, "not negative");
        }

        QueueDepth = queueDepth;
        ServiceTime = serviceTime;
        _freeAt = new TimeSpan[queueDepth];
    }

    public int QueueDepth { get; }
    public TimeSpan ServiceTime { get; }

    /// <summary>Queues <paramref name="pages"/> page requests arriving at <paramref name="now"/>, each to the place
    /// that frees first, and returns when the last of them completes.</summary>
    public TimeSpan Submit(TimeSpan now, int pages)
    {
        if (pages < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pages), pages, "not negative");
        }

        var last = now;
        for (var k = 0; k < pages; k++)
        {
            var place = EarliestFree();
            var start = _freeAt[place] > now ? _freeAt[place] : now;
            _freeAt[place] = start + ServiceTime;
            if (_freeAt[place] > last)
            {
                last = _freeAt[place];
            }
        }
        return last;
    }

    private int EarliestFree()
    {
        var best = 0;
        for (var i = 1; i < _freeAt.Length; i++)
        {
            if (_freeAt[i] < _freeAt[best])
            {
                best = i;
            }
        }

        return best;
    }
}

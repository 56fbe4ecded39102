namespace ActorNuma.Mm.Tests.Swap;

/// <summary>One direction of the swap device: a queue of a given depth serving page requests first come first served,
/// each for the device's service time.</summary>
public sealed class SwapDeviceQueueSpec
{
    private static TimeSpan Us(double us) => TimeSpan.FromMicroseconds(us);

    [Fact]
    public void With_one_request_in_flight_a_request_of_n_pages_takes_n_service_times()
    {
        var q = new SwapDeviceQueue(queueDepth: 1, Us(100));

        Assert.Equal(Us(1_000 + 800), q.Submit(Us(1_000), pages: 8));
    }

    [Fact]
    public void A_request_arriving_while_the_device_is_busy_waits_behind_the_earlier_ones()
    {
        var q = new SwapDeviceQueue(queueDepth: 1, Us(100));
        q.Submit(Us(0), pages: 8);

        Assert.Equal(Us(800 + 100), q.Submit(Us(50), pages: 1));
    }

    [Fact]
    public void A_request_arriving_after_the_device_went_idle_starts_at_once()
    {
        var q = new SwapDeviceQueue(queueDepth: 1, Us(100));
        q.Submit(Us(0), pages: 2);

        Assert.Equal(Us(5_000 + 100), q.Submit(Us(5_000), pages: 1));
    }

    [Fact]
    public void A_deep_queue_serves_as_many_pages_at_once_as_it_has_places()
    {
        var q = new SwapDeviceQueue(queueDepth: 32, Us(10));

        // 64 pages: two rounds of 32; 65 would need a third.
        Assert.Equal(Us(20), q.Submit(Us(0), pages: 64));
        Assert.Equal(Us(30), q.Submit(Us(0), pages: 1));
    }

    [Fact]
    public void A_deep_queue_gives_a_late_request_the_places_that_freed_first()
    {
        var q = new SwapDeviceQueue(queueDepth: 2, Us(100));
        q.Submit(Us(0), pages: 3);      // places free at 200 and 100

        // At 150 one place is free and one busy until 200: two pages end at 250 and 300.
        Assert.Equal(Us(300), q.Submit(Us(150), pages: 2));
    }

    [Fact]
    public void A_device_without_latency_completes_at_the_time_of_the_request()
    {
        var q = new SwapDeviceQueue(queueDepth: 1, TimeSpan.Zero);

        Assert.Equal(Us(70), q.Submit(Us(70), pages: 4096));
    }

    [Fact]
    public void A_queue_of_no_places_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SwapDeviceQueue(queueDepth: 0, Us(10)));
    }
}

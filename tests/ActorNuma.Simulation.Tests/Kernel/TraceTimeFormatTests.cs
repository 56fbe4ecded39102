using System.Globalization;
using ActorNuma.Kernel;
using CsCheck;

namespace ActorNuma.Simulation.Tests.Kernel;

/// <summary>The trace writes an event's time as <c>TotalMilliseconds.ToString("F3")</c> (the digits every trace hash is
/// made of); its integer shortcut must give the same digits for every time.</summary>
[Trait("kind", "unit")]
public sealed class TraceTimeFormatTests
{
    private static string Expected(long ticks) =>
        TimeSpan.FromTicks(ticks).TotalMilliseconds.ToString("F3", CultureInfo.InvariantCulture);

    private static string Actual(long ticks)
    {
        var text = new char[32];
        return new string(text, 0, KernelTrace.FormatMilliseconds(TimeSpan.FromTicks(ticks), text));
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(4L)]
    [InlineData(5L)]
    [InlineData(6L)]
    [InlineData(15L)]
    [InlineData(25L)]
    [InlineData(9_995L)]
    [InlineData(9_996L)]
    [InlineData(10_000L)]
    [InlineData(123_456_789L)]
    [InlineData(999_999_999_999_994L)]
    [InlineData(999_999_999_999_999L)]
    [InlineData(1_000_000_000_000_000L)]
    [InlineData(-1L)]
    [InlineData(-123_456_789L)]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    public void Times_at_the_edges_read_as_the_double_writes_them(long ticks) =>
        Assert.Equal(Expected(ticks), Actual(ticks));

    [Fact]
    public void Any_time_reads_as_the_double_writes_it() =>
        Gen.Select(Gen.Int[0, 3], Gen.Long[0, 1_000_000_000_000_000L], Gen.Long[0, 100_000_000L], (range, big, small) => range switch
        {
            0 => big,
            1 => small,
            2 => small / 10 * 10 + 5,   // half-way between two microseconds
            _ => big / 10 * 10 + 5,
        }).Sample(ticks => Assert.Equal(Expected(ticks), Actual(ticks)), iter: 200_000);
}

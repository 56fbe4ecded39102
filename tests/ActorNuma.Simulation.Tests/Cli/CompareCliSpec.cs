using ActorNuma.Cli;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Tests.Kernel;

namespace ActorNuma.Simulation.Tests.Cli;

/// <summary>actornuma compare: the seed's disadvantages A, B and C of swap-based migration as numbers, against 2.6.18's
/// direct migration, in a table and a PNG; bad input is one line and exit 2.</summary>
[Trait("kind", "unit")]
[Collection("Console")]
public sealed class CompareCliSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actornuma-compare-cli").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Scenario => ScenarioRun.PathOf("compare-migration-forms.conf");

    [Fact]
    public void Swap_migration_costs_swap_io_slots_and_faults_and_v2s_readahead_breaks_interleave_where_2_6_18_copies()
    {
        var rows = MigrationComparison.Run(ScenarioRun.Load("compare-migration-forms.conf"),
            ["2.6.14-v2", "2.6.16-swap", "2.6.16", "2.6.18"], seed: 1);
        var (v2, swap16, k16, k18) = (rows[0], rows[1], rows[2], rows[3]);

        Assert.Equal(["swap", "swap", "swap-cache copy", "migration entries"], rows.Select(r => r.Form));
        // A: 64 writes and 64 reads at 100 us each against 64 copies at 2 us; 2.6.16 copies through the swap cache with
        // no I/O and no fault.
        Assert.Equal(TimeSpan.FromMilliseconds(12.8), v2.VirtualTime);
        Assert.Equal(TimeSpan.FromMicroseconds(128), k16.VirtualTime);
        Assert.Equal(TimeSpan.FromMicroseconds(128), k18.VirtualTime);
        Assert.Equal((64, 64), (swap16.Pswpout, swap16.Pswpin));
        Assert.Equal((0, 0), (k16.Pswpout, k16.Pswpin));
        Assert.Equal((0, 0), (k18.Pswpout, k18.Pswpin));
        Assert.Equal(128, v2.Faults);
        Assert.Equal((64, 0), (k16.Faults, k16.MajorFaults));
        Assert.Equal(64, k18.Faults);
        // B: the swap form needs a slot for every page at once; 2.6.16 one at a time (add_to_swap, then the copy and
        // remove_from_swap free it before the next page); 2.6.18 none.
        Assert.Equal(64, v2.PeakSwapSlots);
        Assert.Equal(1, k16.PeakSwapSlots);
        Assert.Equal(0, k18.PeakSwapSlots);
        // C: V2's head-ordered list gives the highest addresses the first slots; readahead at a fault places the
        // cluster at ascending addresses, so pages land off their interleave node; 2.6.16's swap form (tail order) does
        // not. 2.6.16 as merged allocates the n-th new page at vm_start + n pages but pairs the list's first page with
        // the last new page (newpage = lru_to_page(to)), so with 64 pages every one sits on the other node.
        Assert.Equal(60, v2.InterleaveOffNode);
        Assert.Equal(0, swap16.InterleaveOffNode);
        Assert.Equal(64, k16.InterleaveOffNode);
        Assert.Equal(0, k18.InterleaveOffNode);
        Assert.All(rows, r => Assert.Equal(0, r.Violations));
    }

    [Fact]
    public void The_command_prints_one_column_per_profile_and_writes_a_png()
    {
        var (code, output, error) = CliRunner.Run("compare", Scenario, "--profiles", "2.6.16,2.6.18", "--out", _dir);

        Assert.Equal("", error);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("measure", output);
        Assert.Matches(@"form\s+swap-cache copy\s+migration entries", output);
        Assert.Matches(@"B  swap slots at peak\s+1\s+0", output);
        var png = File.ReadAllBytes(Path.Combine(_dir, "compare.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
    }

    [Fact]
    public void Latencies_given_on_the_command_line_replace_the_scenarios()
    {
        var (code, output, _) = CliRunner.Run("compare", Scenario, "--profiles", "2.6.18", "--copy-latency", "10us", "--out", _dir);

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("copy_latency=10us", output);
        Assert.Matches(@"A  virtual time \(ms\)\s+0\.640", output);
    }

    [Theory]
    [InlineData("--profiles", "2.6.99")]
    [InlineData("--copy-latency", "fast")]
    public void A_bad_flag_is_one_line_and_exit_2(string flag, string value)
    {
        var (code, output, error) = CliRunner.Run("compare", Scenario, flag, value);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Equal("", output);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains(flag, error);
    }
}

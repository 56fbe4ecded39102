using ActorNuma.Cli;
using ActorNuma.Mm;

namespace ActorNuma.Simulation.Tests.Soak;

/// <summary>The plots at the end of a soak come from the metrics it streamed; a damaged row must not cost the run its
/// plots.</summary>
[Trait("kind", "unit")]
public sealed class SoakPlotsSpec : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("actornuma-soak-plots").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_stray_fragment_between_metrics_rows_is_skipped_and_every_plot_is_written()
    {
        const string header = "interval,time_s,rounds,syscalls,messages,pgfault,pgmajfault,pswpin,pswpout,pgscan_kswapd," +
                              "pgscan_direct,pgsteal,pageoutrun,allocstall,migrated,oom_kill,free_node0,free_node1,swap_used";
        File.WriteAllLines(Path.Combine(_dir, "metrics.csv"),
        [
            header,
            "0,1.0,171,746,53507,8788,2033,5508,3931,523,6204,2731,10,62,3066,0,438,135,2413",
            "6",
            "1,2.0,139,609,45083,7117,1602,4363,3375,576,6258,2623,9,64,2378,0,278,938,2534",
            "2,3.0,165,748,51661,8825,1980,5542,2909,246,5699,2624,5,62,2115,0,224,217,2419",
        ]);
        File.WriteAllLines(Path.Combine(_dir, "latency.csv"),
            ["call,bucket_from_us,bucket_to_us,calls", "mbind MOVE,0,1,3", "mbind MOVE,9.514,11.314,5", "migrate_pages,32,38.05,2"]);
        File.WriteAllLines(Path.Combine(_dir, "process.csv"),
        [
            "interval,time_s,wall_s,working_set_bytes,gc_heap_bytes,gc_gen0,gc_gen1,gc_gen2,gc_pause_ms,task_records",
            "0,0,0.198,78004224,10797904,1,0,0,2.253,4",
            "1,1.0033,0.894,85606400,13104120,26,1,1,25.006,5",
        ]);
        File.WriteAllText(Path.Combine(_dir, "summary.md"), "# soak\n");

        SoakPlots.Write(_dir, new Watermarks(45, 56, 67), virtualTime: true);

        foreach (var png in SoakPlots.Files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
        {
            var bytes = File.ReadAllBytes(Path.Combine(_dir, png));
            Assert.True(bytes.Length > 1000, png);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
        Assert.Contains("free-pages.png", File.ReadAllText(Path.Combine(_dir, "index.html")));
    }
}

using System.Diagnostics;
using System.Globalization;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Bench;

/// <summary>The numbers the issues set targets for, measured by running scenarios: new-page faults per second in both
/// modes, bytes per emulated page, and pages migrated per second through the swap path (zero latency).</summary>
public static class Benchmarks
{
    public sealed record Figure(string Name, double Value, string Unit, string Detail);

    /// <summary>The figures <c>actornuma bench</c> can measure; <see cref="RunAll"/> takes any subset.</summary>
    public static readonly IReadOnlyList<string> FigureNames = ["faults", "migration", "memory", "explore"];

    /// <param name="eachRun">Also report every measured run (in the order run) through <paramref name="progress"/>.</param>
    /// <param name="schedules">Schedules per catalogue scenario of the explore figure (<see cref="ExploreBenchmark"/>).</param>
    /// <param name="catalogue">The directory of the race catalogue the explore figure explores.</param>
    public static IEnumerable<string> RunAll(int pages, int runs, Action<string>? progress = null,
        IReadOnlyCollection<string>? only = null, IReadOnlyCollection<RunMode>? modes = null, bool eachRun = false,
        int schedules = 10_000, string catalogue = ExploreBenchmark.DefaultCatalogue)
    {
        bool Wanted(string name) => only is null || only.Count == 0 || only.Contains(name);
        var figures = new List<Figure>();
        foreach (var mode in new[] { RunMode.Concurrent, RunMode.Deterministic })
        {
            if (modes is { Count: > 0 } && !modes.Contains(mode)) continue;
            if (Wanted("faults")) figures.Add(Median(runs, () => Faults(pages, mode), progress, eachRun));
            if (Wanted("migration")) figures.Add(Median(runs, () => Migration(pages, mode), progress, eachRun));
        }
        if (Wanted("memory"))
        {
            figures.Add(ModelBytesPerPage(pages));
            figures.Add(BytesPerPage(pages));
        }
        if (Wanted("explore")) figures.AddRange(ExploreBenchmark.Run(catalogue, schedules, Environment.ProcessorCount, progress));
        return figures.Select(Format);
    }

    private const int WarmupRuns = 2;

    public static string Format(Figure f) =>
        $"{f.Name,-34} {f.Value.ToString(f.Value >= 1000 ? "N0" : "F1", CultureInfo.InvariantCulture),14} {f.Unit,-8} {f.Detail}";

    /// <summary>The median of <paramref name="runs"/> measured runs, after warm-up runs that are not counted: the first
    /// runs of a process execute tier-0 JIT code (on two cores the tier-1 compiles compete with the run) and pay for
    /// growing the heap.</summary>
    private static Figure Median(int runs, Func<Figure> measure, Action<string>? progress, bool eachRun)
    {
        for (var k = 0; k < WarmupRuns; k++) measure();
        var inOrder = Enumerable.Range(0, runs).Select(_ => measure()).ToList();
        var all = inOrder.OrderBy(f => f.Value).ToList();
        var median = all[all.Count / 2];
        progress?.Invoke($"  ({median.Name}: runs {string.Join(", ", all.Select(f => f.Value.ToString("N0", CultureInfo.InvariantCulture)))})");
        if (eachRun) foreach (var f in inOrder) progress?.Invoke("    " + Format(f));
        return median;
    }

    /// <summary>Two tasks, one on each node, each write-faulting half the pages into a fresh mapping.</summary>
    public static Figure Faults(int pages, RunMode mode)
    {
        var half = pages / 2;
        var scenario = Machine(half, mode, swapSlots: 0) + $$"""
            scenario {
              name = "bench-faults"
              tasks = [ { name = a, cpu = 0 }, { name = b, cpu = 1 } ]
              steps = [
            {{TwoTasksFault(half)}}
              ]
            }
            """;
        var gc = GcCounts.Now();
        var r = Run(scenario, "bench-faults");
        gc = GcCounts.Now() - gc;
        var wall = Wall(r, 2, 4);
        return new Figure($"faults/s ({Mode(mode)})", 2.0 * half / wall.TotalSeconds, "faults/s",
            $"{2 * half} new-page write faults by 2 tasks in {wall.TotalMilliseconds:F0} ms; run's {gc}");
    }

    /// <summary>Two tasks each move their half from their node to the other through swap: mbind(MPOL_MF_MOVE) evicts,
    /// a touch faults the pages back in on the new node. (Swap readahead reads neighbouring slots of the other task too
    /// and places them under the reader's policy, as 2.6.14 does, so a few pages come back on the wrong node.)</summary>
    public static Figure Migration(int pages, RunMode mode)
    {
        var half = pages / 2;
        var scenario = Machine(half, mode, swapSlots: pages + 1024) + $$"""
            scenario {
              name = "bench-migration"
              tasks = [ { name = a, cpu = 0 }, { name = b, cpu = 1 } ]
              steps = [
            {{TwoTasksFault(half)}}
                { task = a, op = mbind, addr = "0x100000000", pages = {{half}}, mode = bind, nodes = [1], flags = [move], async = on }
                { task = b, op = mbind, addr = "0x100000000", pages = {{half}}, mode = bind, nodes = [0], flags = [move], async = on }
                { op = wait }
                { task = a, op = touch, addr = "0x100000000", pages = {{half}}, async = on }
                { task = b, op = touch, addr = "0x100000000", pages = {{half}}, async = on }
                { op = wait }
              ]
            }
            """;
        var gc = GcCounts.Now();
        var r = Run(scenario, "bench-migration");
        gc = GcCounts.Now() - gc;
        if (r.Steps.Any(s => !s.Ok) || r.Violations.Count > 0)
            throw new InvalidOperationException($"migration benchmark run failed: {string.Join("; ", r.Steps.Where(s => !s.Ok).Select(s => s.Message))} {string.Join("; ", r.Violations)}");
        var wall = Wall(r, 5, 7) + Wall(r, 8, 10);
        return new Figure($"migrated pages/s ({Mode(mode)})", 2.0 * half / wall.TotalSeconds, "pages/s",
            $"{2 * half} pages evicted and faulted back on the other node in {wall.TotalMilliseconds:F0} ms " +
            $"(evict {Wall(r, 5, 7).TotalMilliseconds:F0} ms, fault back {Wall(r, 8, 10).TotalMilliseconds:F0} ms; swap latency 0; " +
            $"passes {Passes(r, 5)}+{Passes(r, 6)}, major faults {r.Vmstat.GetValueOrDefault("pgmajfault")}); run's {gc}");
    }

    /// <summary>Heap bytes per emulated page: a machine with every page faulted and as many swap slots as pages, minus a
    /// machine of 16 pages a node; the frame, its PTE and its swap slot are what is left.</summary>
    public static Figure BytesPerPage(int pages)
    {
        long With(int perNode, bool fault)
        {
            long bytes = 0;
            var scenario = Machine(perNode, RunMode.Deterministic, swapSlots: perNode * 2, headroom: false) + $$"""
                scenario {
                  name = "bench-memory"
                  tasks = [ { name = a, cpu = 0 } ]
                  steps = [
                    { task = a, op = mmap, addr = "0x100000000", pages = {{perNode * 2}} }
                    {{(fault ? $"{{ task = a, op = touch, addr = \"0x100000000\", pages = {perNode * 2 - 200}, write = on }}" : "")}}
                  ]
                }
                """;
            Run(scenario, "bench-memory", new RunOptions
            {
                CheckEveryStep = false,
                TraceKeep = 0,
                Tune = s => s with { KswapdEnabled = false },
                AtEnd = _ => bytes = GC.GetTotalMemory(forceFullCollection: true),
            });
            return bytes;
        }
        var small = With(16, fault: false);
        var big = With(pages / 2, fault: true);
        var perPage = (double)(big - small) / pages;
        return new Figure("machine bytes per emulated page", perPage, "B/page",
            $"{pages} pages faulted, {pages} swap slots, whole booted machine minus a 32-page one (actors, trace, queues included)");
    }

    /// <summary>From the start of step <paramref name="from"/> to the end of the last of steps from..to.</summary>
    /// <summary>Heap bytes per page of the model's own structures: a node's frames (flags, counts, contents, LRU links,
    /// rmap), a PTE (and the value its task last wrote) in a page table, and a swap slot (count, contents, swap-cache
    /// link) for every page.</summary>
    public static Figure ModelBytesPerPage(int pages)
    {
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var node = new Mm.NodeMemory(0, 0, pages, new Mm.Watermarks(0, 0, 0), holdsZeroPage: false);
        var swap = new Mm.SwapMap(pages);
        var table = new Mm.PageTable();
        for (var i = 0; i < pages; i++)
        {
            var idx = node.AllocFrame();
            node.AddRmap(idx, 1, (uint)i);
            table.Set((ulong)i, Mm.Pte.Present(node.PfnOf(idx), write: true));
            table.SetLastWritten((ulong)i, (uint)i + 1);
        }
        var after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(node);
        GC.KeepAlive(swap);
        GC.KeepAlive(table);
        return new Figure("model bytes per emulated page", (double)(after - before) / pages, "B/page",
            $"{pages} frames + {pages} PTEs + {pages} swap slots (NodeMemory, PageTable, SwapMap)");
    }

    /// <summary>Steps 0-4 of both runs: each task maps its half and write-faults it, at the same time.</summary>
    private static string TwoTasksFault(int half) => $$"""
        { task = a, op = mmap, addr = "0x100000000", pages = {{half}} }
        { task = b, op = mmap, addr = "0x100000000", pages = {{half}} }
        { task = a, op = touch, addr = "0x100000000", pages = {{half}}, write = on, async = on }
        { task = b, op = touch, addr = "0x100000000", pages = {{half}}, write = on, async = on }
        { op = wait }
        """;

    /// <summary>Collections and the time the GC paused the process, over a whole run (boot and report included).</summary>
    private readonly record struct GcCounts(int Gen0, int Gen1, int Gen2, TimeSpan Pause, long Allocated)
    {
        public static GcCounts Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2),
            GC.GetTotalPauseDuration(), GC.GetTotalAllocatedBytes(precise: true));

        public static GcCounts operator -(GcCounts a, GcCounts b) =>
            new(a.Gen0 - b.Gen0, a.Gen1 - b.Gen1, a.Gen2 - b.Gen2, a.Pause - b.Pause, a.Allocated - b.Allocated);

        public override string ToString() =>
            $"allocated {Allocated / 1e6:F0} MB, GC paused {Pause.TotalMilliseconds:F0} ms (collections: {Gen0} gen0, {Gen1} gen1, {Gen2} gen2)";
    }

    private static object? Passes(RunReport r, int step) =>
        r.Steps.Single(s => s.Index == step).Value?["migration"] is IReadOnlyDictionary<string, object?> m ? m["passes"] : null;

    private static TimeSpan Wall(RunReport r, int from, int to)
    {
        var steps = r.Steps.Where(s => s.Index >= from && s.Index <= to).ToList();
        return Stopwatch.GetElapsedTime(steps.Min(s => s.Started), steps.Max(s => s.Ended));
    }

    private static string Mode(RunMode m) => m.ToString().ToLowerInvariant();

    private static string Machine(int perNodeData, RunMode mode, int swapSlots, bool headroom = true) => $$"""
        actornuma {
          topology { nodes = 2, cpus-per-node = 1, pages-per-node = {{(headroom ? perNodeData + perNodeData / 4 + 4096 : perNodeData)}} }
          swap { slots = {{swapSlots}}, write-latency = 0us, read-latency = 0us }
          kernel { profile = v2-fixed }
          kswapd { enabled = off }
          run { mode = {{Mode(mode)}}, seed = 1 }
          log.level = ERROR
        }

        """;

    /// <summary>A bench run checks the invariants once, at the end, and keeps no trace events in memory (it writes no
    /// trace file; every event is still formatted and hashed). It batches 512 faults and 4096 migration pages to a
    /// message.</summary>
    private static RunReport Run(string hocon, string name, RunOptions? options = null)
    {
        var scenario = ScenarioLoader.Parse(hocon, name + ".conf");
        return ScenarioRunner.Run(scenario, (options ?? new RunOptions { CheckEveryStep = false, TraceKeep = 0 }) with
        {
            Tune = options?.Tune ?? (s => s with { FaultBatch = 512, MigrateBatch = 4096 }),
        });
    }
}

using System.Diagnostics;
using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scenarios;
using ActorNuma.Simulation.Soak;

namespace ActorNuma.Simulation.Bench;

/// <summary>What <c>actornuma bench</c> measures and how hard.</summary>
public sealed record BenchOptions
{
    /// <summary>Small sizes and few runs: the whole bench in under a minute, for CI (which fails on a crash or a wrong
    /// result, never on a time).</summary>
    public bool Quick { get; init; }
    /// <summary>Pages of the faults and migration runs; the other figures derive their sizes from it.</summary>
    public int Pages { get; init; } = 262_144;
    /// <summary>Figure groups to measure (<see cref="Benchmarks.FigureNames"/>); empty: all.</summary>
    public IReadOnlyCollection<string> Only { get; init; } = [];
    /// <summary>Run modes of the faults, migration, allocation and soak figures; empty: both.</summary>
    public IReadOnlyCollection<RunMode> Modes { get; init; } = [];
    public ConvergencePolicy Convergence { get; init; } = new(Window: 3, Tolerance: 0.10, MaxRuns: 25);
    /// <summary>Also report every measured run, in the order run.</summary>
    public bool EachRun { get; init; }
    /// <summary>Schedules per race-catalogue scenario for the explore figure.</summary>
    public int Schedules { get; init; } = 10_000;

    public static BenchOptions QuickDefaults() => new()
    {
        Quick = true,
        Pages = 16_384,
        Schedules = 300,
        Convergence = new ConvergencePolicy(Window: 3, Tolerance: 0.10, MaxRuns: 5),
    };
}

/// <summary>The figures the performance issue sets targets for, each measured until it converges, with its target and
/// its ratio to the raw Akka.NET rate of the same run: raw Tell and ping-pong rates, new-page faults/s, migrated
/// pages/s (swap form), bytes allocated per fault and per migrated page, bytes per emulated page, cost against pages and
/// nodes, schedules explored/s on the race catalogue and soak events/s.</summary>
public static class Benchmarks
{
    public static readonly IReadOnlyList<string> FigureNames =
        ["raw", "faults", "migration", "allocation", "memory", "scaling", "explore", "soak"];

    public static BenchReport RunAll(BenchOptions o, Action<string>? progress = null)
    {
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        bool Wanted(string name) => o.Only.Count == 0 || o.Only.Contains(name);
        var modes = new[] { RunMode.Concurrent, RunMode.Deterministic }.Where(m => o.Modes.Count == 0 || o.Modes.Contains(m)).ToArray();
        var figures = new List<Figure>();
        double? tell = null;

        void Add(Figure f, bool rate = false)
        {
            if (rate && tell is { } t)
            {
                f = f with { TellRatio = f.Value / t };
            }

            figures.Add(f);
            progress?.Invoke(f.Line());
        }
        Figure Converge(Func<Figure> run) => o.Convergence.Measure(run, progress, o.EachRun);

        if (Wanted("raw") || Wanted("faults") || Wanted("migration") || Wanted("explore") || Wanted("soak"))
        {
            using var raw = new RawAkka();
            var oneWay = Converge(() => raw.OneWay(o.Quick ? 200_000 : 2_000_000));
            tell = oneWay.Value;
            if (Wanted("raw"))
            {
                Add(oneWay);
                Add(Converge(() => raw.PingPong(o.Quick ? 50_000 : 500_000)));
            }
        }
        foreach (var mode in modes)
        {
            if (Wanted("faults"))
            {
                Add(Converge(() => Faults(o.Pages, mode)) with { Target = Target.Min(10_000_000) }, rate: true);
            }

            if (Wanted("migration"))
            {
                Add(Converge(() => Migration(o.Pages, mode)) with
                {
                    Target = Target.Min(mode == RunMode.Concurrent ? 2_000_000 : 1_500_000),
                }, rate: true);
            }
        }
        if (Wanted("allocation"))
        {
            var pages = Math.Min(o.Pages, 65_536);
            foreach (var mode in modes)
            {
                Add(Converge(() => AllocatedPerFault(pages, mode)) with { Target = Target.Max(64) });
                var perPage = Converge(() => AllocatedPerMigratedPage(pages, mode));
                Add(perPage with { Target = Target.Max(64), Detail = perPage.Detail + "; " + AllocationByHandler(pages, mode) });
            }
        }
        if (Wanted("memory"))
        {
            Add(ModelBytesPerPage(o.Pages) with { Target = Target.Max(64) });
            foreach (var pages in o.Quick ? new[] { 65_536, 262_144 } : [1 << 20, 4 << 20])
            {
                Add(BytesPerPage(pages));
            }
        }
        if (Wanted("scaling"))
        {
            foreach (var f in PagesScaling(Math.Max(1024, o.Pages / 16), o))
            {
                Add(f);
            }

            foreach (var f in NodesScaling(o.Quick ? 512 : 4096, o))
            {
                Add(f);
            }
        }
        if (Wanted("explore"))
        {
            foreach (var f in Exploration(o.Quick, o.Schedules))
            {
                Add(f with { Target = Target.Min(2_000) });
            }
        }

        if (Wanted("soak"))
        {
            foreach (var mode in modes)
            {
                Add(Soak(mode, o.Quick ? TimeSpan.FromSeconds(3) : TimeSpan.FromSeconds(20)) with
                {
                    Target = Target.Min(mode == RunMode.Concurrent ? 1_000_000 : 500_000),
                }, rate: true);
            }
        }

        return new BenchReport(GcDescription(), JitDescription(), Environment.ProcessorCount, o.Quick,
            started.ToString("O"), clock.Elapsed.TotalSeconds, figures);
    }

    /// <summary>The GC the figures were measured under.</summary>
    public static string GcDescription() =>
        $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, " +
        $"{(System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.Batch ? "non-concurrent" : "concurrent")}, " +
        $"gen0 budget {Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? Environment.GetEnvironmentVariable("COMPlus_GCgen0size") ?? "runtime default"}, " +
        "a full collection before each run";

    /// <summary>The JIT configuration (tiering, PGO, ReadyToRun as the environment sets them) and what it compiled.</summary>
    public static string JitDescription()
    {
        static string Env(string name) => Environment.GetEnvironmentVariable("DOTNET_" + name) ?? "default";
        return $"TieredCompilation={Env("TieredCompilation")} TieredPGO={Env("TieredPGO")} ReadyToRun={Env("ReadyToRun")}; " +
               $"{System.Runtime.JitInfo.GetCompiledMethodCount()} methods compiled in {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:F0} ms so far";
    }

    /// <summary>Two tasks, one on each node, each write-faulting half the pages into a fresh mapping.</summary>
    public static Figure Faults(int pages, RunMode mode) => Faults(pages, mode, swapSlots: 0, out _);

    /// <summary>Where the bytes of a migrated page go: what each kernel handler allocated in a migration run minus the same
    /// handler in a run that only faults the same pages in, per page, the largest first.</summary>
    public static string AllocationByHandler(int pages, RunMode mode, int top = 6)
    {
        var migration = new Kernel.HandlerAllocation();
        var faultIn = new Kernel.HandlerAllocation();
        Migration(pages, mode, 2, out _, migration);
        Faults(pages, mode, swapSlots: pages + 1024, out _, allocation: faultIn);
        var before = faultIn.Snapshot().ToDictionary(h => (h.Actor, h.Message), h => h.Bytes);
        var perPage = migration.Snapshot()
            .Select(h => (Handler: $"{h.Actor.Replace("Actor", "", StringComparison.Ordinal)} {h.Message}",
                Bytes: (double)(h.Bytes - before.GetValueOrDefault((h.Actor, h.Message))) / pages))
            .OrderByDescending(h => h.Bytes).ToArray();
        var total = perPage.Sum(h => h.Bytes);
        return $"by handler ({total:F0} B a page in all, at {pages} pages): " +
               string.Join(", ", perPage.Take(top).Select(h => $"{h.Handler} {h.Bytes:F0}"));
    }

    /// <param name="machinePages">The pages the machine is sized for (default <paramref name="pages"/>): a larger machine
    /// than the faults need keeps the boot's allocation the same between runs that fault different numbers of pages.</param>
    private static Figure Faults(int pages, RunMode mode, int swapSlots, out RunReport report, int machinePages = 0,
        Kernel.HandlerAllocation? allocation = null)
    {
        var half = pages / 2;
        var scenario = BenchScenarios.Machine(2, Math.Max(machinePages, pages) / 2, mode, swapSlots) + BenchScenarios.FaultIn("bench-faults", 2, half);
        CollectEarlierRuns();
        var gc = GcCounts.Now();
        var r = report = Run(scenario, "bench-faults", allocation: allocation);
        gc = GcCounts.Now() - gc;
        if (r.Steps.Any(s => !s.Ok) || r.Vmstat.GetValueOrDefault("pgfault") < 2L * half)
        {
            throw new InvalidOperationException($"faults benchmark run failed: {Failures(r)}; pgfault {r.Vmstat.GetValueOrDefault("pgfault")}");
        }

        var wall = Wall(r, 2, 4);
        return new Figure($"faults/s ({Mode(mode)})", 2.0 * half / wall.TotalSeconds, "faults/s",
            $"{2 * half} new-page write faults by 2 tasks in {wall.TotalMilliseconds:F0} ms; run's {gc}");
    }

    /// <summary>Each of <paramref name="nodes"/> tasks moves its share from its node to the next one through swap:
    /// mbind(MPOL_MF_MOVE) evicts, a touch faults the pages back in on the new node. (Swap readahead reads neighbouring
    /// slots of another task too and places them under the reader's policy, as 2.6.14 does, so a few pages come back on
    /// the wrong node.)</summary>
    public static Figure Migration(int pages, RunMode mode, int nodes = 2) => Migration(pages, mode, nodes, out _);

    private static Figure Migration(int pages, RunMode mode, int nodes, out RunReport report, Kernel.HandlerAllocation? allocation = null)
    {
        var share = pages / nodes;
        var scenario = BenchScenarios.Machine(nodes, share, mode, swapSlots: pages + 1024) + BenchScenarios.MoveToNextNode(nodes, share);
        CollectEarlierRuns();
        var gc = GcCounts.Now();
        var r = report = Run(scenario, "bench-migration", allocation: allocation);
        gc = GcCounts.Now() - gc;
        if (r.Steps.Any(s => !s.Ok) || r.Violations.Count > 0)
        {
            throw new InvalidOperationException($"migration benchmark run failed: {Failures(r)} {string.Join("; ", r.Violations)}");
        }

        var (evict, back) = BenchScenarios.MigrationSteps(nodes);
        var wall = Wall(r, evict.From, evict.To) + Wall(r, back.From, back.To);
        return new Figure($"migrated pages/s ({Mode(mode)}{(nodes == 2 ? "" : $", {nodes} nodes")})", nodes * (double)share / wall.TotalSeconds, "pages/s",
            $"{nodes * share} pages evicted and faulted back on the next node in {wall.TotalMilliseconds:F0} ms " +
            $"(evict {Wall(r, evict.From, evict.To).TotalMilliseconds:F0} ms, fault back {Wall(r, back.From, back.To).TotalMilliseconds:F0} ms; " +
            $"swap latency 0; passes {Passes(r, evict.From)}, major faults {r.Vmstat.GetValueOrDefault("pgmajfault")}); run's {gc}");
    }

    /// <summary>Bytes allocated per new-page fault: the allocation of a run with <paramref name="pages"/> faults minus
    /// that of a run with a quarter of them on the same machine, over the difference, so boot (the frames, whose bytes
    /// per page are the "model bytes" figure), the report and every fixed cost cancel out. The page-table pages the
    /// faults fill in are counted: the kernel allocates them at fault time too.</summary>
    public static Figure AllocatedPerFault(int pages, RunMode mode)
    {
        var small = Allocated(() => Faults(pages / 4, mode, swapSlots: 0, out _, machinePages: pages));
        var big = Allocated(() => Faults(pages, mode, swapSlots: 0, out _, machinePages: pages));
        return new Figure($"bytes allocated per fault ({Mode(mode)})", (big - small) / (pages - pages / 4.0), "B/fault",
            $"(allocated by {pages} faults - by {pages / 4}, one machine of {pages} pages) / {pages - pages / 4}; trace events formatted and hashed");
    }

    /// <summary>Bytes allocated per migrated page (eviction through swap and the fault that brings it back): a migration
    /// run minus a run that only faults the same pages in on the same machine, at two sizes, over the difference.</summary>
    public static Figure AllocatedPerMigratedPage(int pages, RunMode mode)
    {
        double MigrationOnly(int n) =>
            Allocated(() => Migration(n, mode)) - Allocated(() => Faults(n, mode, swapSlots: n + 1024, out _));
        var small = MigrationOnly(pages / 4);
        var big = MigrationOnly(pages);
        return new Figure($"bytes allocated per migrated page ({Mode(mode)})", (big - small) / (pages - pages / 4.0), "B/page",
            $"(migration - fault-in alone) at {pages} and {pages / 4} pages, over the difference; evict + fault back");
    }

    private static double Allocated(Action run)
    {
        var before = GC.GetTotalAllocatedBytes(precise: true);
        run();
        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    /// <summary>Heap bytes per emulated page: a machine with every page faulted and as many swap slots as pages, minus a
    /// machine of 16 pages a node; the frame, its PTE and its swap slot are what is left.</summary>
    public static Figure BytesPerPage(int pages)
    {
        long With(int perNode, bool fault)
        {
            long bytes = 0;
            var scenario = BenchScenarios.Machine(2, perNode, RunMode.Deterministic, swapSlots: perNode * 2, headroom: false) +
                           BenchScenarios.MapAndFault(perNode * 2, fault ? perNode * 2 - 200 : 0);
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
        return new Figure($"machine bytes per emulated page ({pages / 1024}k)", (double)(big - small) / pages, "B/page",
            $"{pages} pages faulted, {pages} swap slots, whole booted machine minus a 32-page one (actors, trace, queues included)");
    }

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

    /// <summary>Migration (concurrent) at 1x, 4x and 16x <paramref name="basePages"/>: the time of each against the
    /// first. Target: 16x the pages at most 20x the time (4x at most 5x).</summary>
    public static IEnumerable<Figure> PagesScaling(int basePages, BenchOptions o)
    {
        var times = new[] { 1, 4, 16 }.Select(k => (k, Seconds: SecondsPerRun(basePages * k, 2, o))).ToArray();
        foreach (var (k, s) in times.Skip(1))
        {
            yield return new Figure($"migration time {k}x pages / 1x", s / times[0].Seconds, "ratio",
                $"{basePages * k} vs {basePages} pages, 2 nodes, concurrent: {s * 1000:F0} ms vs {times[0].Seconds * 1000:F0} ms")
            { Target = Target.Max(k * 1.25) };
        }
    }

    /// <summary>Migration (concurrent) on 2, 8 and 32 nodes with the same pages per node, so the work grows with the
    /// nodes: the time of each against 2 nodes. Target: the time grows at most 1.25x as fast as the nodes (the issue's
    /// "8x the nodes at most 10x").</summary>
    public static IEnumerable<Figure> NodesScaling(int pagesPerNode, BenchOptions o)
    {
        var times = new[] { 2, 8, 32 }.Select(n => (n, Seconds: SecondsPerRun(pagesPerNode * n, n, o))).ToArray();
        foreach (var (n, s) in times.Skip(1))
        {
            yield return new Figure($"migration time {n} nodes / 2 nodes", s / times[0].Seconds, "ratio",
                $"{pagesPerNode} pages a node ({n / 2}x the nodes and pages), concurrent: {s * 1000:F0} ms vs {times[0].Seconds * 1000:F0} ms")
            { Target = Target.Max(n / 2 * 1.25) };
        }
    }

    private static double SecondsPerRun(int pages, int nodes, BenchOptions o)
    {
        var f = o.Convergence.Measure(() => Migration(pages, RunMode.Concurrent, nodes), null, eachRun: false);
        return nodes * (double)(pages / nodes) / f.Value;
    }

    /// <summary>Schedules explored per second on the race catalogue (random strategy, one worker per core), after a
    /// warm-up exploration of the same scenario: <c>actornuma explore &lt;file&gt; --count N</c>. The figure is wall-clock
    /// schedules per second, so it depends on how much of the machine the explorer gets; the detail also gives schedules
    /// per second of processor time (every thread of the process, GC and JIT included), what a schedule costs whatever
    /// else runs. --quick explores the first scenario only.</summary>
    public static IEnumerable<Figure> Exploration(bool quick, int schedules)
    {
        var catalogue = BenchScenarios.RaceCatalogue().ToList();
        foreach (var (name, scenario) in quick ? catalogue.Take(1) : catalogue)
        {
            Explorer.Explore(scenario, new ExploreOptions { Seeds = Enumerable.Range(1_000_000, Math.Min(schedules, 500)).ToArray() });
            var s = Explorer.Explore(scenario, new ExploreOptions { Seeds = Enumerable.Range(1, schedules).ToArray() });
            if (s.Results.Count != schedules)
            {
                throw new InvalidOperationException($"explore {name}: {s.Results.Count} of {schedules} schedules ran");
            }

            yield return new Figure($"schedules/s ({name})", s.SchedulesPerSecond, "sched/s",
                $"{schedules} random schedules on {Environment.ProcessorCount} workers in {s.Elapsed.TotalSeconds:F1} s; " +
                $"{s.SchedulesPerCpuSecond:N0} per cpu-second; {s.Results.Average(r => r.SchedulerSteps):F0} steps a schedule; " +
                $"{s.Outcomes.Count} outcomes, {s.Failing.Count} failing");
        }
    }

    /// <summary>Faults plus migrated pages per second of the default soak workload.</summary>
    public static Figure Soak(RunMode mode, TimeSpan duration)
    {
        var dir = Directory.CreateTempSubdirectory("actornuma-bench-soak-").FullName;
        try
        {
            var r = SoakRunner.Run(SoakLoader.LoadDefault(), new SoakOptions { Seed = 1, Mode = mode, Duration = duration, OutDir = dir });
            if (r.Violation is not null)
            {
                throw new InvalidOperationException($"soak ({Mode(mode)}) found: {r.Violation}");
            }

            return new Figure($"soak events/s ({Mode(mode)})", r.EventsPerSecond, "events/s",
                $"default workload, seed 1, {r.Wall.TotalSeconds:F1} s: {r.Events} faults + migrated pages, {r.Rounds} rounds, " +
                $"{r.Messages} kernel messages, peak working set {r.PeakWorkingSetBytes / 1e6:F0} MB");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A bench run checks the invariants once, at the end, and keeps no trace events in memory (it writes no
    /// trace file; every event is still formatted and hashed). It batches 512 faults and 4096 migration pages to a
    /// message.</summary>
    private static RunReport Run(string hocon, string name, RunOptions? options = null, Kernel.HandlerAllocation? allocation = null)
    {
        var scenario = ScenarioLoader.Parse(hocon, name + ".conf");
        return ScenarioRunner.Run(scenario, (options ?? new RunOptions { CheckEveryStep = false, TraceKeep = 0 }) with
        {
            Tune = options?.Tune ?? (s => s with { FaultBatch = 512, MigrateBatch = 4096 }),
            Allocation = allocation,
        });
    }

    private static string Failures(RunReport r) => string.Join("; ", r.Steps.Where(s => !s.Ok).Select(s => s.Message));

    /// <summary>From the start of step <paramref name="from"/> to the end of the last of steps from..to.</summary>
    private static TimeSpan Wall(RunReport r, int from, int to)
    {
        var steps = r.Steps.Where(s => s.Index >= from && s.Index <= to).ToList();
        return Stopwatch.GetElapsedTime(steps.Min(s => s.Started), steps.Max(s => s.Ended));
    }

    private static string Mode(RunMode m) => m.ToString().ToLowerInvariant();

    /// <summary>A full collection before a measured run, as BenchmarkDotNet starts each iteration: the machines of the runs
    /// before it (tens of megabytes of frames and page tables each) are garbage by then, and a full collection of them
    /// that fell inside a measured step made the same run read 0.43-1.0 M migrated pages/s. It comes before the run's
    /// <see cref="GcCounts"/>, so a figure's collections and pauses are the run's own.</summary>
    private static void CollectEarlierRuns()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

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

    private static int? Passes(RunReport r, int step) =>
        (r.Steps.Single(s => s.Index == step).Value as SyscallValue)?.Migration?.Passes;
}

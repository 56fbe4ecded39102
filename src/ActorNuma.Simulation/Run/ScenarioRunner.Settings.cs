using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Scenarios;

namespace ActorNuma.Simulation.Run;

/// <summary>The kernel settings a scenario's machine block gives, and the parameters derived from them.</summary>
public static partial class ScenarioRunner
{
    public static KernelSettings Settings(MachineConfig m) => new()
    {
        Topology = m.Topology,
        Profile = m.Profile,
        SwapSlots = m.Swap.Slots,
        SwapWriteLatency = m.Swap.WriteLatency,
        MigrateCopyLatency = m.Swap.CopyLatency,
        SwapReadLatency = m.Swap.ReadLatency,
        SwapQueueDepth = m.Swap.QueueDepth,
        PageCluster = m.Swap.PageCluster,
        KswapdEnabled = m.Kswapd.Enabled,
        Swappiness = m.Kswapd.Swappiness,
        MinFreeKbytes = m.Kswapd.MinFreeKbytes,
    };

    /// <summary>The seed and every parameter derived from the scenario, one greppable key=value line each: the seed line
    /// first, then the kernel profile, topology, watermarks and swap.</summary>
    public static IReadOnlyList<string> DerivedParameters(LoadedScenario scenario, RunOptions options)
    {
        var m = scenario.Machine;
        var s = Tune(Settings(m), options);
        var t = s.Topology;
        var wm = s.WatermarksOf(0);
        var zonelists = Zonelists.BuildAll(t);
        return
        [
            $"seed={options.Seed ?? m.Run.Seed} mode={(options.Mode ?? m.Run.Mode).ToString().ToLowerInvariant()} " +
            // Named only when set, so the line (and every report that carries it) reads as before without it.
            (m.Run.StepCost > TimeSpan.Zero ? $"step_cost={m.Run.StepCost.TotalMicroseconds}us " : "") +
            $"scenario={scenario.Scenario.Name} source={scenario.Source}",
            $"profile={s.Profile.Name} isolate_drain={KernelProfileConfig.DrainName(s.Profile.IsolateDrain)} " +
            $"isolate_list_order={s.Profile.IsolateListOrder.ToString().ToLowerInvariant()} " +
            $"migrate_pages_syscall={On(s.Profile.MigratePagesSyscall)} drain_all_before_walk={On(s.Profile.DrainAllBeforeWalk)} " +
            $"putback_drops_reference={On(s.Profile.PutbackDropsReference)} putback_through_pagevec={On(s.Profile.PutbackThroughPagevec)} " +
            $"valid_mbind_flags={KernelProfileConfig.MbindFlagNames(s.Profile.ValidMbindFlags)} move_shared_pages={On(s.Profile.MoveSharedPages)} " +
            $"enodev_without_swap={On(s.Profile.EnodevWithoutSwap)} warn_on_isolate_failure={On(s.Profile.WarnOnIsolateFailure)} " +
            $"direct_via_swap_cache={On(s.Profile.DirectViaSwapCache)} direct_migration={On(s.Profile.DirectMigration)}",
            $"nodes={t.Nodes} cpus={t.Cpus} cpus_per_node={t.CpusPerNode} pages_per_node={t.PagesPerNode} " +
            $"distances={string.Join(";", t.Distances.Select(r => string.Join(",", r)))}",
            $"min_free_kbytes={s.EffectiveMinFreeKbytes} pages_min={wm.PagesMin} pages_low={wm.PagesLow} pages_high={wm.PagesHigh} " +
            $"zonelists={string.Join(" ", zonelists.Select((z, i) => $"{i}:[{string.Join(",", z)}]"))}",
            $"swap_slots={s.SwapSlots} write_latency={s.SwapWriteLatency.TotalMicroseconds}us read_latency={s.SwapReadLatency.TotalMicroseconds}us queue_depth={s.SwapQueueDepth} " +
            $"page_cluster={s.EffectivePageCluster} kswapd={On(s.KswapdEnabled)} swappiness={s.Swappiness} pagevec_size={Pagevec.PagevecSize} fault_batch={s.FaultBatch} migrate_batch={s.MigrateBatch}",
        ];
    }

    private static string On(bool b) => b ? "on" : "off";

    private static KernelSettings Tune(KernelSettings s, RunOptions o) => o.Tune?.Invoke(s) ?? s;
}

using Akka.Configuration;
using ActorNuma.Mm;
using ActorNuma.Simulation.Scenarios;
using static ActorNuma.Simulation.Tests.Scenarios.ScenarioText;

namespace ActorNuma.Simulation.Tests.Scenarios;

[Trait("kind", "unit")]
public sealed class MachineConfigTests
{
    [Theory]
    [InlineData("2.6.14")]
    [InlineData("\"2.6.14\"")]
    [InlineData("v1")]
    [InlineData("v2")]
    [InlineData("v2-fixed")]
    [InlineData("2.6.16")]
    public void Each_kernel_profile_is_chosen_by_its_name(string name)
    {
        Assert.Equal(KernelProfile.ByName(name.Trim('"')), Machine($"kernel.profile = {name}").Profile);
    }

    [Fact]
    public void Profile_switches_apply_on_top_of_the_profile_and_keep_its_name()
    {
        var profile = Machine("""
            kernel {
              profile = v1
              isolate-drain = remote-and-local
              putback-drops-reference = on
              valid-mbind-flags = [strict, move, move_all]
            }
            """).Profile;

        Assert.Equal(KernelProfile.V1 with
        {
            IsolateDrain = IsolateDrain.RemoteAndLocal,
            PutbackDropsReference = true,
            ValidMbindFlags = MpolFlags.Strict | MpolFlags.Move | MpolFlags.MoveAll,
        }, profile);
        Assert.Equal("v1", profile.Name);
    }

    [Fact]
    public void Unset_switches_keep_the_values_of_the_chosen_profile()
    {
        Assert.Equal(KernelProfile.Linux2616, Machine("kernel.profile = 2.6.16").Profile);
        Assert.Equal(KernelProfile.V2Fixed, Machine("kernel { profile = v2-fixed }").Profile);
    }

    [Theory]
    [InlineData("drain-all-before-walk")]
    [InlineData("putback-drops-reference")]
    [InlineData("putback-through-pagevec")]
    [InlineData("move-shared-pages")]
    [InlineData("enodev-without-swap")]
    [InlineData("warn-on-isolate-failure")]
    [InlineData("migration-unmap-ignores-young")]
    public void Each_boolean_switch_can_be_turned_either_way(string key)
    {
        var on = Machine($"kernel {{ profile = v2, {key} = on }}").Profile;
        var off = Machine($"kernel {{ profile = 2.6.16, {key} = off }}").Profile;

        Assert.True(Switch(on, key));
        Assert.False(Switch(off, key));
        Assert.Equal(KernelProfile.V2, Reset(on, key, KernelProfile.V2));
        Assert.Equal(KernelProfile.Linux2616, Reset(off, key, KernelProfile.Linux2616));
    }

    [Theory]
    [InlineData("none", IsolateDrain.None)]
    [InlineData("remote", IsolateDrain.Remote)]
    [InlineData("remote-and-local", IsolateDrain.RemoteAndLocal)]
    public void Isolate_drain_is_set_by_name(string name, IsolateDrain expected)
    {
        Assert.Equal(expected, Machine($"kernel.isolate-drain = {name}").Profile.IsolateDrain);
    }

    [Fact]
    public void Valid_mbind_flags_may_be_emptied()
    {
        Assert.Equal(MpolFlags.None, Machine("kernel.valid-mbind-flags = []").Profile.ValidMbindFlags);
    }

    [Fact]
    public void Kswapd_min_free_kbytes_is_unset_unless_given()
    {
        Assert.Null(Machine("").Kswapd.MinFreeKbytes);
        Assert.Equal(2048, Machine("kswapd.min-free-kbytes = 2048").Kswapd.MinFreeKbytes);
    }

    [Fact]
    public void Log_level_is_read_in_any_case_and_kept_in_upper_case()
    {
        Assert.Equal("ERROR", Machine("log.level = error").LogLevel);
        Assert.Equal("OFF", Machine("log { level = OFF }").LogLevel);
    }

    [Fact]
    public void Swap_latencies_take_any_hocon_duration_unit()
    {
        var swap = Machine("swap { write-latency = 3 micros, read-latency = 1.5ms }").Swap;

        Assert.Equal((TimeSpan.FromMicroseconds(3), TimeSpan.FromMicroseconds(1500)), (swap.WriteLatency, swap.ReadLatency));
    }

    [Fact]
    public void The_swap_device_serves_one_request_at_a_time_unless_a_queue_depth_is_given()
    {
        Assert.Equal(1, Machine("").Swap.QueueDepth);
        Assert.Equal(32, Machine("swap { queue-depth = 32, write-latency = 10us, read-latency = 10us }").Swap.QueueDepth);
    }

    [Fact]
    public void A_queue_depth_below_one_is_rejected_with_its_key()
    {
        var e = Assert.Throws<ScenarioException>(() => Machine("swap.queue-depth = 0"));

        Assert.Contains("actornuma.swap.queue-depth: expected a whole number", e.Message);
    }

    [Fact]
    public void A_substitution_of_another_key_is_resolved()
    {
        var swap = Machine("swap { write-latency = 7us, read-latency = ${actornuma.swap.write-latency} }").Swap;

        Assert.Equal(TimeSpan.FromMicroseconds(7), swap.ReadLatency);
    }

    [Fact]
    public void The_subsystem_factories_read_a_config_over_the_reference_defaults()
    {
        var config = ConfigurationFactory.ParseString("actornuma { swap.slots = 0, topology.nodes = 4, run.mode = concurrent }");

        Assert.Equal(0, SwapConfig.Create(config, "m.conf").Slots);
        Assert.Equal(new Topology(4, 2, 1024), TopologyConfig.Create(config, "m.conf"));
        Assert.Equal(new RunConfig(RunMode.Concurrent, 1), RunConfig.Create(config, "m.conf"));
        Assert.Equal(new KswapdConfig(true, 60, null), KswapdConfig.Create(config, "m.conf"));
        Assert.Equal(KernelProfile.V2, KernelProfileConfig.Create(config, "m.conf"));
        Assert.Equal(4, MachineConfig.Create(config, "m.conf").Topology.Nodes);
    }

    [Fact]
    public void The_factories_name_the_source_and_the_key_of_a_bad_value()
    {
        var config = ConfigurationFactory.ParseString("actornuma.swap.slots = lots");

        var e = Assert.Throws<ScenarioException>(() => MachineConfig.Create(config, "m.conf"));

        Assert.Equal("m.conf: actornuma.swap.slots: expected a whole number >= 0, got \"lots\"", e.Message);
    }

    [Fact]
    public void An_empty_config_gives_the_reference_machine()
    {
        Assert.Equal(Machine(""), MachineConfig.Create(Config.Empty, "none"));
        Assert.Equal(Machine(""), MachineConfig.Create(ScenarioLoader.ReferenceConfig, "reference.conf"));
    }

    private static bool Switch(KernelProfile p, string key) => key switch
    {
        "drain-all-before-walk" => p.DrainAllBeforeWalk,
        "putback-drops-reference" => p.PutbackDropsReference,
        "putback-through-pagevec" => p.PutbackThroughPagevec,
        "move-shared-pages" => p.MoveSharedPages,
        "enodev-without-swap" => p.EnodevWithoutSwap,
        "warn-on-isolate-failure" => p.WarnOnIsolateFailure,
        "migration-unmap-ignores-young" => p.MigrationUnmapIgnoresYoung,
        _ => throw new ArgumentException(key),
    };

    /// <summary>The profile with the one switch put back to <paramref name="original"/>'s value: equal to the original
    /// only if nothing else changed.</summary>
    private static KernelProfile Reset(KernelProfile p, string key, KernelProfile original) => key switch
    {
        "drain-all-before-walk" => p with { DrainAllBeforeWalk = original.DrainAllBeforeWalk },
        "putback-drops-reference" => p with { PutbackDropsReference = original.PutbackDropsReference },
        "putback-through-pagevec" => p with { PutbackThroughPagevec = original.PutbackThroughPagevec },
        "move-shared-pages" => p with { MoveSharedPages = original.MoveSharedPages },
        "enodev-without-swap" => p with { EnodevWithoutSwap = original.EnodevWithoutSwap },
        "warn-on-isolate-failure" => p with { WarnOnIsolateFailure = original.WarnOnIsolateFailure },
        "migration-unmap-ignores-young" => p with { MigrationUnmapIgnoresYoung = original.MigrationUnmapIgnoresYoung },
        _ => throw new ArgumentException(key),
    };
}

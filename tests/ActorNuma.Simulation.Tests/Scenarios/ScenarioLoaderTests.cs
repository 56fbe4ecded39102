using ActorNuma.Mm;
using ActorNuma.Simulation.Scenarios;
using static ActorNuma.Simulation.Tests.Scenarios.ScenarioText;

namespace ActorNuma.Simulation.Tests.Scenarios;

[Trait("kind", "unit")]
public sealed class ScenarioLoaderTests
{
    private const string Example = """
        actornuma {
          topology { nodes = 2, cpus-per-node = 2, pages-per-node = 1024, distances = [[10,20],[20,10]] }  # cpus numbered node-major
          swap { slots = 2048, write-latency = 100us, read-latency = 100us }                              # usable slots; 0: no swap
          kernel { profile = v2 }
          run { mode = deterministic, seed = 1 }
        }
        scenario {
          name = "mbind-move-basic"
          tasks = [ { name = a, cpu = 0, caps = [] } ]                                                     # caps: [sys_nice]
          steps = [
            { task = a, op = mmap, addr = "0x10000000", pages = 16 }
            { task = a, op = touch, addr = "0x10000000", pages = 16, write = on }
            { task = a, op = mbind, addr = "0x10000000", pages = 16, mode = bind, nodes = [1], flags = [strict], expect { errno = EIO } }
            { task = a, op = get_mempolicy, addr = "0x10000000", flags = [addr], expect { ret = 0, mode = default, nodes = [] } }
            { op = expect-pages, task = a, addr = "0x10000000", pages = 16, nodes { "0" = 16 }, swapped = 0 }
          ]
        }
        """;

    private static StepSpec At(int index, StepOp op, string name) =>
        new() { Index = index, Op = op, OpName = name, Task = "a", Addr = 0x10000000, Location = $"exp.conf: scenario.steps[{index}]" };

    [Fact]
    public void The_example_machine_parses_into_its_records()
    {
        var loaded = ScenarioLoader.Parse(Example, Source);

        Assert.Equal("exp.conf", loaded.Source);
        Assert.Equal(new MachineConfig(
            new Topology(2, 2, 1024, [[10, 20], [20, 10]]),
            new SwapConfig(2048, TimeSpan.FromMicroseconds(100), TimeSpan.FromMicroseconds(100)),
            KernelProfile.V2,
            new RunConfig(RunMode.Deterministic, 1),
            new KswapdConfig(true, 60, null),
            "WARNING"), loaded.Machine);
        Assert.Equal("mbind-move-basic", loaded.Scenario.Name);
        Assert.Equal([new TaskSpec("a", 0, false)], loaded.Scenario.Tasks);
    }

    [Fact]
    public void The_example_steps_parse_into_their_records()
    {
        var steps = ScenarioLoader.Parse(Example, Source).Scenario.Steps;

        Assert.Equal(5, steps.Count);
        Assert.Equal(At(0, StepOp.Mmap, "mmap") with { Pages = 16 }, steps[0]);
        Assert.Equal(At(1, StepOp.Touch, "touch") with { Pages = 16, Write = true }, steps[1]);
        Assert.Equal(At(2, StepOp.Mbind, "mbind") with
        {
            Pages = 16, Mode = (int)MpolMode.Bind, Nodes = NodeMask.Of(1), Flags = (int)MpolFlags.Strict,
            Expect = new ExpectSpec(null, Errno.EIO, null, null, null),
        }, steps[2]);
        Assert.Equal(At(3, StepOp.GetMempolicy, "get_mempolicy") with
        {
            Flags = (int)MpolGetFlags.Addr, Expect = new ExpectSpec(0, null, (int)MpolMode.Default, NodeMask.Empty, null),
        }, steps[3]);
        var check = steps[4];
        Assert.Equal((StepOp.ExpectPages, "expect-pages", "a", 0x10000000UL, 16L), (check.Op, check.OpName, check.Task, check.Addr, check.Pages));
        Assert.Equal(new Dictionary<int, long> { [0] = 16 }, check.ExpectNodes);
        Assert.Equal(0, check.ExpectSwapped);
    }

    [Fact]
    public void A_file_with_only_a_scenario_gets_every_default_of_reference_conf()
    {
        var loaded = ScenarioLoader.Parse("scenario { name = x, steps = [] }", Source);

        Assert.Equal(new MachineConfig(
            new Topology(2, 2, 1024),
            new SwapConfig(2048, TimeSpan.FromMicroseconds(100), TimeSpan.FromMicroseconds(100)),
            KernelProfile.V2,
            new RunConfig(RunMode.Deterministic, 1),
            new KswapdConfig(true, 60, null),
            "WARNING"), loaded.Machine);
        Assert.Empty(loaded.Scenario.Tasks);
        Assert.Empty(loaded.Scenario.Steps);
        Assert.Equal([[10, 20], [20, 10]], loaded.Machine.Topology.Distances);
    }

    [Fact]
    public void A_file_sets_only_what_it_changes_and_keeps_the_other_defaults_of_the_same_block()
    {
        var machine = Machine("topology { nodes = 4 }, swap { slots = 0 }, run.seed = 42");

        Assert.Equal(new Topology(4, 2, 1024), machine.Topology);
        Assert.Equal(new SwapConfig(0, TimeSpan.FromMicroseconds(100), TimeSpan.FromMicroseconds(100)), machine.Swap);
        Assert.Equal(new RunConfig(RunMode.Deterministic, 42), machine.Run);
    }

    [Fact]
    public void Every_machine_key_can_be_set()
    {
        var machine = Machine("""
            topology { nodes = 3, cpus-per-node = 1, pages-per-node = 64, distances = [[10, 20, 30], [21, 10, 40], [30, 40, 10]] }
            swap { slots = 10, write-latency = 2ms, read-latency = 1s }
            run { mode = concurrent, seed = -7 }
            kswapd { enabled = off, swappiness = 0, min-free-kbytes = 512 }
            log.level = debug
            """);

        Assert.Equal(new Topology(3, 1, 64, [[10, 20, 30], [21, 10, 40], [30, 40, 10]]), machine.Topology);
        Assert.Equal(new SwapConfig(10, TimeSpan.FromMilliseconds(2), TimeSpan.FromSeconds(1)), machine.Swap);
        Assert.Equal(new RunConfig(RunMode.Concurrent, -7), machine.Run);
        Assert.Equal(new KswapdConfig(false, 0, 512), machine.Kswapd);
        Assert.Equal("DEBUG", machine.LogLevel);
    }

    [Fact]
    public void An_akka_block_is_refused_rather_than_silently_ignored()
    {
        Assert.Equal("exp.conf: akka: expected no akka block (the emulator configures its own actor system; " +
                     "actornuma.log.level sets the log level), got a block",
            Error("akka { loglevel = DEBUG }\nscenario { name = x, steps = [] }"));
    }

    [Fact]
    public void An_include_is_refused_by_name()
    {
        Assert.Equal("exp.conf: include \"missing.conf\": expected a scenario in one file (reference.conf supplies every " +
                     "default), got an include",
            Error("include \"missing.conf\"\nscenario { name = x, steps = [] }"));
    }

    [Fact]
    public void Every_proc_vmstat_name_a_run_reports_is_one_expect_vmstat_accepts()
    {
        var report = ActorNuma.Simulation.Tests.Kernel.ScenarioRun.RunText(
            Document("{ op = wait }", machine: "topology { nodes = 1, cpus-per-node = 1, pages-per-node = 64 }",
                tasks: "{ name = a, cpu = 0 }"), seed: 1);

        Assert.Equal(ActorNuma.Simulation.Run.KernelStats.VmstatNames.Order(StringComparer.Ordinal), report.Vmstat.Keys);
    }

    [Fact]
    public void An_empty_file_name_is_bad_input_naming_it()
    {
        Assert.Equal("\"\": expected the path of a scenario file, got an empty name",
            Assert.Throws<ScenarioException>(() => ScenarioLoader.LoadFile("")).Message);
    }

    [Fact]
    public void A_file_on_disk_loads_and_names_itself_as_the_source()
    {
        var path = Path.Combine(Path.GetTempPath(), $"actornuma-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, Example);
        try
        {
            var loaded = ScenarioLoader.LoadFile(path);
            Assert.Equal(path, loaded.Source);
            Assert.Equal($"{path}: scenario.steps[0]", loaded.Scenario.Steps[0].Location);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_file_is_one_line_naming_it()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.LoadFile("/nonexistent/dir/exp.conf"));

        Assert.Equal("/nonexistent/dir/exp.conf: expected a readable scenario file, got no such file", e.Message);
    }

    [Fact]
    public void A_directory_is_not_a_scenario_file()
    {
        var dir = Path.GetTempPath().TrimEnd('/');
        var e = Assert.Throws<ScenarioException>(() => ScenarioLoader.LoadFile(dir));

        Assert.Equal($"{dir}: expected a readable scenario file, got a directory", e.Message);
    }

    [Fact]
    public void The_embedded_default_scenario_loads_when_it_has_been_written()
    {
        // hocon/scenarios/default.conf is written by another change; until then it is empty and there is nothing to load.
        if (string.IsNullOrWhiteSpace(HoconDocument.ReadResource(ScenarioLoader.DefaultScenarioResource)))
        {
            return;
        }

        var loaded = ScenarioLoader.LoadDefault();

        Assert.Equal("default.conf", loaded.Source);
        Assert.NotEmpty(loaded.Scenario.Name);
    }
}

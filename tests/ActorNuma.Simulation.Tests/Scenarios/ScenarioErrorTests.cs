using ActorNuma.Simulation.Scenarios;
using static ActorNuma.Simulation.Tests.Scenarios.ScenarioText;

namespace ActorNuma.Simulation.Tests.Scenarios;

/// <summary>Every bad input is one line: <c>file: key path: expected ..., got ...</c>.</summary>
[Trait("kind", "unit")]
public sealed class ScenarioErrorTests
{
    private const string Ops = "mmap, munmap, touch, mbind, set_mempolicy, get_mempolicy, sched_setaffinity, swapout, exit, waitpid, wait, " +
                               "advance, expect-pages, expect-vmstat, fork, migrate_pages, suspend, resume, move_pages, offline-node, online-node or inject-ecc";

    [Fact]
    public void A_misspelled_mode_names_the_step_key_and_the_modes()
    {
        var steps = "{ op = wait }\n{ op = wait }\n{ task = a, op = mbind, addr = 0, pages = 1, mode = bnd }";

        Assert.Equal("exp.conf: scenario.steps[2].mode: expected default, preferred, bind, interleave or a number, got \"bnd\"",
            StepError(steps));
    }

    /// <summary>expect-vmstat reads /proc/vmstat when its step comes; an async step since the last wait may still be
    /// updating the counters (concurrent mode), so the scenario must wait first.</summary>
    [Fact]
    public void Expect_vmstat_after_an_async_step_without_a_wait_is_refused()
    {
        var steps = """
            { task = a, op = mmap, addr = "0x10000000", pages = 4 }
            { task = a, op = touch, addr = "0x10000000", pages = 4, async = on }
            { op = expect-vmstat, pgfault = 4 }
            """;

        Assert.Equal("exp.conf: scenario.steps[2].op: expected a { op = wait } before expect-vmstat (step 1 is async and may still be " +
                     "running; the counters are read with the machine at rest), got expect-vmstat", StepError(steps));
        var waited = ScenarioLoader.Parse(Document(steps.Replace("{ op = expect-vmstat", "{ op = wait }\n{ op = expect-vmstat")), "exp.conf");
        Assert.Equal(4, waited.Scenario.Steps.Count);
    }

    [Fact]
    public void Hotplug_and_ecc_steps_without_their_node_or_frame_are_refused_on_one_line()
    {
        Assert.Equal("exp.conf: scenario.steps[0].node: expected a node number such as 1, got nothing",
            StepError("{ task = a, op = offline-node }"));
        Assert.Equal("exp.conf: scenario.steps[0].pfn: expected a machine frame number such as 1030, got nothing",
            StepError("{ task = a, op = inject-ecc, node = 1 }"));
        Assert.Equal("exp.conf: scenario.steps[0].node: expected a node number such as 1, got \"one\"",
            StepError("{ task = a, op = online-node, node = one }"));
    }

    [Fact]
    public void A_missing_required_key_is_reported_as_nothing()
    {
        Assert.Equal("exp.conf: scenario.steps[0].mode: expected default, preferred, bind, interleave or a number, got nothing",
            StepError("{ task = a, op = mbind, addr = 0, pages = 1 }"));
        Assert.Equal("exp.conf: scenario.steps[0].addr: expected an address such as \"0x10000000\", got nothing",
            StepError("{ task = a, op = mmap, pages = 1 }"));
        Assert.Equal("exp.conf: scenario.steps[0].time: expected a duration >= 0 such as 100us, 5ms or 1s, got nothing",
            StepError("{ op = advance }"));
    }

    [Fact]
    public void A_misspelled_step_key_is_rejected_with_the_keys_of_the_op()
    {
        Assert.Equal("exp.conf: scenario.steps[0].mdoe: expected a key of mbind (op, task, addr, mode, pages, len, nodes, flags, " +
                     "maxnode, nodemask, async or expect), got an unknown key",
            StepError("{ task = a, op = mbind, addr = 0, pages = 1, mdoe = bind }"));
    }

    [Fact]
    public void A_key_of_another_op_is_rejected_too()
    {
        Assert.Equal("exp.conf: scenario.steps[0].write: expected a key of mmap (op, task, addr, pages, len, async or expect), " +
                     "got an unknown key",
            StepError("{ task = a, op = mmap, addr = 0, pages = 1, write = on }"));
        Assert.Equal("exp.conf: scenario.steps[0].async: expected a key of expect-pages (op, task, addr, pages, len, nodes, swapped or swapcache), " +
                     "got an unknown key",
            StepError("{ op = expect-pages, task = a, addr = 0, pages = 1, async = on }"));
        Assert.Equal("exp.conf: scenario.steps[0].task: expected a key of wait (op), got an unknown key",
            StepError("{ op = wait, task = a }"));
    }

    [Fact]
    public void An_unknown_op_lists_the_ops()
    {
        Assert.Equal($"exp.conf: scenario.steps[0].op: expected {Ops}, got \"mmpa\"", StepError("{ task = a, op = mmpa }"));
        Assert.Equal($"exp.conf: scenario.steps[0].op: expected {Ops}, got nothing", StepError("{ task = a }"));
    }

    [Fact]
    public void A_step_naming_an_unknown_task_is_rejected()
    {
        Assert.Equal("exp.conf: scenario.steps[0].task: expected a task declared in scenario.tasks or forked by an earlier step (a, b), " +
                     "got \"c\"",
            StepError("{ task = c, op = exit }"));
    }

    [Fact]
    public void A_fork_child_does_not_exist_before_the_fork()
    {
        Assert.Equal("exp.conf: scenario.steps[0].task: expected a task declared in scenario.tasks or forked by an earlier step (a, b), " +
                     "got \"c\"",
            StepError("{ task = c, op = exit }\n{ task = a, op = fork, child = c }"));
    }

    [Fact]
    public void A_fork_child_must_be_a_new_name()
    {
        Assert.Equal("exp.conf: scenario.steps[0].child: expected a name no other task has, got \"b\"",
            StepError("{ task = a, op = fork, child = b }"));
    }

    [Fact]
    public void Migrate_pages_of_an_unknown_task_name_is_rejected()
    {
        Assert.Equal("exp.conf: scenario.steps[0].pid: expected a task declared in scenario.tasks or forked by an earlier step (a, b), " +
                     "got \"z\"",
            StepError("{ task = a, op = migrate_pages, pid = z, old-nodes = [0], new-nodes = [1] }"));
    }

    [Fact]
    public void Pages_and_len_are_exclusive_and_a_range_op_needs_one()
    {
        Assert.Equal("exp.conf: scenario.steps[0]: expected pages or len, not both, got pages = 16 and len = 4096",
            StepError("{ task = a, op = mmap, addr = 0, pages = 16, len = 4096 }"));
        Assert.Equal("exp.conf: scenario.steps[0]: expected pages or len, the size of the range to swapout, got neither",
            StepError("{ task = a, op = swapout, addr = 0 }"));
    }

    [Fact]
    public void Bad_flags_name_the_list_element()
    {
        Assert.Equal("exp.conf: scenario.steps[0].flags[1]: expected strict, move, move_all or a number, got \"mvoe\"",
            StepError("{ task = a, op = mbind, addr = 0, pages = 1, mode = bind, nodes = [0], flags = [strict, mvoe] }"));
        Assert.Equal("exp.conf: scenario.steps[0].flags: expected a list of strict, move and move_all, or a number, got \"mvoe\"",
            StepError("{ task = a, op = mbind, addr = 0, pages = 1, mode = bind, nodes = [0], flags = mvoe }"));
        Assert.Equal("exp.conf: scenario.steps[0].flags[0]: expected node, addr or a number, got \"strict\"",
            StepError("{ task = a, op = get_mempolicy, flags = [strict] }"));
    }

    [Fact]
    public void A_list_of_mixed_kinds_names_the_bad_element()
    {
        Assert.Equal("exp.conf: scenario.steps[0].nodes[1]: expected a node number from 0 to 63, got \"x\"",
            StepError("{ task = a, op = set_mempolicy, mode = bind, nodes = [0, x] }"));
        Assert.Equal("exp.conf: scenario.steps[0].nodes[1]: expected a node number from 0 to 63, got [1]",
            StepError("{ task = a, op = set_mempolicy, mode = bind, nodes = [0, [1]] }"));
        Assert.Equal("exp.conf: scenario.steps[0].nodes[0]: expected a node number from 0 to 63, got 64",
            StepError("{ task = a, op = set_mempolicy, mode = bind, nodes = [64] }"));
        Assert.Equal("exp.conf: scenario.steps[0].nodes: expected a list of node numbers such as [0, 1], got 1",
            StepError("{ task = a, op = set_mempolicy, mode = bind, nodes = 1 }"));
    }

    [Fact]
    public void Expect_pages_nodes_must_be_nodes_of_the_topology()
    {
        Assert.Equal("exp.conf: scenario.steps[0].nodes.2: expected a node of the topology, from 0 to 1, as the key, got \"2\"",
            StepError("{ op = expect-pages, task = a, addr = 0, pages = 1, nodes { \"2\" = 1 } }"));
        Assert.Equal("exp.conf: scenario.steps[0].nodes.0: expected a whole number >= 0, got -1",
            StepError("{ op = expect-pages, task = a, addr = 0, pages = 1, nodes { \"0\" = -1 } }"));
    }

    [Fact]
    public void Expect_vmstat_counters_are_proc_vmstat_names_with_counts()
    {
        Assert.Equal("exp.conf: scenario.steps[0].PgMajFault: expected a /proc/vmstat counter such as pswpout, pgmajfault or numa_hit, got \"PgMajFault\"",
            StepError("{ op = expect-vmstat, PgMajFault = 1 }"));
        Assert.Equal("exp.conf: scenario.steps[0].pswpbogus: expected a /proc/vmstat counter such as pswpout, pgmajfault or numa_hit, got \"pswpbogus\"",
            StepError("{ op = expect-vmstat, pswpbogus = 3 }"));
        Assert.Equal("exp.conf: scenario.steps[0].pswpout: expected a whole number >= 0, got \"many\"",
            StepError("{ op = expect-vmstat, pswpout = many }"));
        Assert.Equal("exp.conf: scenario.steps[0]: expected at least one counter such as pswpout = 16, got none",
            StepError("{ op = expect-vmstat }"));
    }

    [Fact]
    public void Expect_takes_only_the_outputs_of_its_call()
    {
        Assert.Equal("exp.conf: scenario.steps[0].expect.mode: expected one of ret or errno, got an unknown key",
            StepError("{ task = a, op = mmap, addr = 0, pages = 1, expect { mode = bind } }"));
        Assert.Equal("exp.conf: scenario.steps[0].expect.errno: expected an errno name such as EIO or EINVAL, or its number, got \"EFOO\"",
            StepError("{ task = a, op = mmap, addr = 0, pages = 1, expect { errno = EFOO } }"));
        Assert.Equal("exp.conf: scenario.steps[0].expect.errno: expected an errno name such as EIO or EINVAL, or its number, got 95",
            StepError("{ task = a, op = mmap, addr = 0, pages = 1, expect { errno = 95 } }"));
    }

    [Theory]
    [InlineData("{ task = a, op = touch, addr = 0, pages = 1, write = maybe }", "scenario.steps[0].write: expected on or off, got \"maybe\"")]
    [InlineData("{ task = a, op = mmap, addr = -4096, pages = 1 }", "scenario.steps[0].addr: expected an address such as \"0x10000000\", got -4096")]
    [InlineData("{ task = a, op = mmap, addr = \"0x1000zz\", pages = 1 }", "scenario.steps[0].addr: expected an address such as \"0x10000000\", got \"0x1000zz\"")]
    [InlineData("{ task = a, op = mmap, addr = 0, pages = -1 }", "scenario.steps[0].pages: expected a page count from 0 to 4503599627370495, got -1")]
    [InlineData("{ task = a, op = mmap, addr = 0, pages = 1.5 }", "scenario.steps[0].pages: expected a page count from 0 to 4503599627370495, got 1.5")]
    [InlineData("{ task = a, op = mmap, addr = 0, len = -1 }", "scenario.steps[0].len: expected a length in bytes such as 65536 or \"0x10000\", got -1")]
    [InlineData("{ op = advance, time = -5ms }", "scenario.steps[0].time: expected a duration >= 0 such as 100us, 5ms or 1s, got \"-5ms\"")]
    [InlineData("{ op = advance, time = 5 fortnights }", "scenario.steps[0].time: expected a duration >= 0 such as 100us, 5ms or 1s, got \"5 fortnights\"")]
    [InlineData("{ op = advance, time = 50ns }", "scenario.steps[0].time: expected a duration in whole multiples of 100ns, got \"50ns\"")]
    [InlineData("{ task = a, op = mbind, addr = 0, pages = 1, mode = bind, nodemask = bad }", "scenario.steps[0].nodemask: expected fault (an unreadable nodemask pointer), got \"bad\"")]
    [InlineData("{ task = a, op = sched_setaffinity, cpu = -1 }", "scenario.steps[0].cpu: expected a whole number >= 0, got -1")]
    [InlineData("{ task = a, op = exit, async = 1 }", "scenario.steps[0].async: expected on or off, got 1")]
    [InlineData("{ task = a, op = exit, expect = 0 }", "scenario.steps[0].expect: expected a block such as { ret = 0 } or { errno = EINVAL }, got 0")]
    [InlineData("{ task = a, op = exit, expect { ret = -1.5 } }", "scenario.steps[0].expect.ret: expected a whole number, got -1.5")]
    [InlineData("{ task = a, op = mbind, addr = 0, pages = 1, mode = 99999999999 }", "scenario.steps[0].mode: expected default, preferred, bind, interleave or a number, got 99999999999")]
    [InlineData("{ task = a, op = fork, child = 7 }", "scenario.steps[0].child: expected a task name that is not a number, got 7")]
    [InlineData("5", "scenario.steps[0]: expected a step block such as { task = a, op = mmap, addr = \"0x10000000\", pages = 16 }, got 5")]
    public void Each_bad_step_value_is_one_exact_line(string step, string message)
    {
        Assert.Equal($"exp.conf: {message}", StepError(step));
    }

    [Theory]
    [InlineData("{ name = a, cpu = 4 }", "scenario.tasks[0].cpu: expected a cpu of the topology, from 0 to 3, got 4")]
    [InlineData("{ name = a }", "scenario.tasks[0].cpu: expected a cpu of the topology, from 0 to 3, got nothing")]
    [InlineData("{ name = a, cpu = 0, caps = [sys_admin] }", "scenario.tasks[0].caps[0]: expected sys_nice, got \"sys_admin\"")]
    [InlineData("{ name = a, cpu = 0, caps = sys_nice }", "scenario.tasks[0].caps: expected a list of capabilities: [] or [sys_nice], got \"sys_nice\"")]
    [InlineData("{ name = a, cpu = 0 }, { name = a, cpu = 1 }", "scenario.tasks[1].name: expected a name no other task has, got \"a\"")]
    [InlineData("{ cpu = 0 }", "scenario.tasks[0].name: expected a task name such as a, got nothing")]
    [InlineData("{ name = 12, cpu = 0 }", "scenario.tasks[0].name: expected a task name that is not a number, got 12")]
    [InlineData("{ name = a, cpu = 0, nice = 5 }", "scenario.tasks[0].nice: expected one of name, cpu, caps, uid or euid, got an unknown key")]
    public void Each_bad_task_is_one_exact_line(string tasks, string message)
    {
        Assert.Equal($"exp.conf: {message}", Error(Document("{ op = wait }", tasks: tasks)));
    }

    [Theory]
    [InlineData("topology.nodes = 65", "actornuma.topology.nodes: expected a whole number from 1 to 64, got 65")]
    [InlineData("topology.nodes = 0", "actornuma.topology.nodes: expected a whole number from 1 to 64, got 0")]
    [InlineData("topology.nodes = two", "actornuma.topology.nodes: expected a whole number from 1 to 64, got \"two\"")]
    [InlineData("topology.cpus-per-node = 0", "actornuma.topology.cpus-per-node: expected a whole number from 1 to 1073741823, got 0")]
    [InlineData("topology.pages-per-node = 8", "actornuma.topology.pages-per-node: expected a whole number from 16 to 1073741823, got 8")]
    [InlineData("topology.distances = [[10, 20]]", "actornuma.topology.distances: expected 2 rows, one per node, got 1")]
    [InlineData("topology.distances = [[10, 20], [20]]", "actornuma.topology.distances[1]: expected 2 distances, one per node, got 1")]
    [InlineData("topology.distances = [[10, 20], [20, 20]]", "actornuma.topology.distances[1][1]: expected 10, a node's distance to itself, got 20")]
    [InlineData("topology.distances = [[10, 256], [20, 10]]", "actornuma.topology.distances[0][1]: expected a whole number from 10 to 255, got 256")]
    [InlineData("topology.distances = [[10, 9], [20, 10]]", "actornuma.topology.distances[0][1]: expected a whole number from 10 to 255, got 9")]
    [InlineData("topology.distances = 10", "actornuma.topology.distances: expected a list of 2 rows of 2 distances, such as [[10, 20], [20, 10]], got 10")]
    [InlineData("topology.distances = [10, 20]", "actornuma.topology.distances[0]: expected a list of 2 distances, got 10")]
    [InlineData("swap.slots = -1", "actornuma.swap.slots: expected a whole number >= 0, got -1")]
    [InlineData("swap.write-latency = fast", "actornuma.swap.write-latency: expected a duration >= 0 such as 100us, 5ms or 1s, got \"fast\"")]
    [InlineData("swap.read-latency = -1us", "actornuma.swap.read-latency: expected a duration >= 0 such as 100us, 5ms or 1s, got \"-1us\"")]
    [InlineData("kernel.profile = v3", "actornuma.kernel.profile: expected 2.6.14, v1, v2, v2-fixed, 2.6.16 or 2.6.18, got \"v3\"")]
    [InlineData("kernel.isolate-drain = local", "actornuma.kernel.isolate-drain: expected none, remote or remote-and-local, got \"local\"")]
    [InlineData("kernel.putback-drops-reference = sometimes", "actornuma.kernel.putback-drops-reference: expected on or off, got \"sometimes\"")]
    [InlineData("kernel.valid-mbind-flags = [strict, move-all]", "actornuma.kernel.valid-mbind-flags[1]: expected strict, move or move_all, got \"move-all\"")]
    [InlineData("kernel.blocking-lock-from-pass = 2", "actornuma.kernel.blocking-lock-from-pass: expected one of profile, isolate-drain, isolate-list-order, drain-all-before-walk, putback-drops-reference, putback-through-pagevec, move-shared-pages, enodev-without-swap, warn-on-isolate-failure, migration-unmap-ignores-young, migrate-pages-syscall, direct-migration, direct-via-swap-cache, move-pages-syscall or valid-mbind-flags, got an unknown key")]
    [InlineData("run.mode = random", "actornuma.run.mode: expected deterministic or concurrent, got \"random\"")]
    [InlineData("run.seed = 1.5", "actornuma.run.seed: expected a whole number from -2147483648 to 2147483647, got 1.5")]
    [InlineData("run.seed = 99999999999", "actornuma.run.seed: expected a whole number from -2147483648 to 2147483647, got 99999999999")]
    [InlineData("kswapd.swappiness = 101", "actornuma.kswapd.swappiness: expected a whole number from 0 to 100, got 101")]
    [InlineData("kswapd.enabled = 2", "actornuma.kswapd.enabled: expected on or off, got 2")]
    [InlineData("kswapd.min-free-kbytes = 0", "actornuma.kswapd.min-free-kbytes: expected a whole number >= 1, got 0")]
    [InlineData("log.level = verbose", "actornuma.log.level: expected INFO, DEBUG, WARNING, ERROR or OFF, got \"verbose\"")]
    [InlineData("log = WARNING", "actornuma.log: expected a block, got \"WARNING\"")]
    [InlineData("swpa.slots = 1", "actornuma.swpa: expected one of topology, swap, kernel, run, kswapd, soak or log, got an unknown key")]
    [InlineData("swap.slot = 1", "actornuma.swap.slot: expected one of slots, write-latency, read-latency, queue-depth, page-cluster or copy-latency, got an unknown key")]
    [InlineData("kswapd.swapiness = 1", "actornuma.kswapd.swapiness: expected one of enabled, swappiness or min-free-kbytes, got an unknown key")]
    [InlineData("topology { nodes = 2, cpus = 4 }", "actornuma.topology.cpus: expected one of nodes, cpus-per-node, pages-per-node or distances, got an unknown key")]
    public void Each_bad_machine_value_is_one_exact_line(string machine, string message)
    {
        Assert.Equal($"exp.conf: {message}", MachineError(machine));
    }

    [Fact]
    public void Schedule_dependent_takes_the_reason_as_text()
    {
        var loaded = ScenarioLoader.Parse("scenario { name = x, steps = [], schedule-dependent = \"the race's claim\" }", "exp.conf");

        Assert.Equal("the race's claim", loaded.Scenario.ScheduleDependent);
        Assert.Null(ScenarioLoader.Parse("scenario { name = x, steps = [] }", "exp.conf").Scenario.ScheduleDependent);
        Assert.StartsWith("exp.conf: scenario.schedule-dependent: expected why the expectations hold only in some schedules",
            Error("scenario { name = x, steps = [], schedule-dependent = [a] }"));
    }

    [Fact]
    public void The_document_roots_and_the_scenario_block_are_checked()
    {
        Assert.Equal("exp.conf: scenario: expected a block with name, tasks and steps, got nothing",
            Error("actornuma { }"));
        Assert.Equal("exp.conf: scenrio: expected one of actornuma or scenario, got an unknown key",
            Error("scenrio { name = x, steps = [] }"));
        Assert.Equal("exp.conf: actornuma: expected a block, got 5",
            Error("actornuma = 5\nscenario { name = x, steps = [] }"));
        Assert.Equal("exp.conf: scenario.name: expected a scenario name such as \"mbind-move-basic\", got nothing",
            Error("scenario { steps = [] }"));
        Assert.Equal("exp.conf: scenario.steps: expected a list of steps such as [ { task = a, op = mmap, addr = \"0x10000000\", pages = 16 } ], got nothing",
            Error("scenario { name = x }"));
        Assert.Equal("exp.conf: scenario.step: expected one of name, tasks, steps, shows-bug, schedule-dependent, properties or outcomes, got an unknown key",
            Error("scenario { name = x, steps = [], step = [] }"));
        Assert.Equal("exp.conf: scenario: expected a block with name, tasks and steps, got nothing", Error(""));
    }

    [Theory]
    [InlineData("scenario { name = x, steps = [] ", "exp.conf: line 1, column 10: expected a closing '}' for this '{', got the end of the file")]
    [InlineData("scenario { name = x, steps = [ }", "exp.conf: line 1, column 32: expected ']' to close the '[' opened at line 1, column 30, got '}'")]
    [InlineData("scenario { name = x, steps = [] } }\nactornuma { }", "exp.conf: line 1, column 35: expected a value or key, got an unmatched '}'")]
    [InlineData("scenario {\n  name = \"x\n  steps = [] }", "exp.conf: line 2, column 10: expected a closing \" on the same line, got an unterminated string")]
    [InlineData("scenario { name = \"\"\"x, steps = [] }", "exp.conf: line 1, column 19: expected \"\"\" to close this multi-line string, got the end of the file")]
    [InlineData("a=1 b=2", "exp.conf: expected valid HOCON, got \"Could not parse an unquoted text value containing assignment character '=' or ':'\"")]
    [InlineData("scenario {\n name = x,, steps = [] }", "exp.conf: line 2, column 11: expected valid HOCON, got \"Unknown token\"")]
    [InlineData("x = ${nope}", "exp.conf: expected valid HOCON, got \"Unresolved substitution: nope\"")]
    public void A_hocon_syntax_error_is_one_line_naming_the_file(string text, string message)
    {
        Assert.Equal(message, Error(text));
    }

    [Fact]
    public void Brackets_and_quotes_inside_strings_and_comments_are_not_counted()
    {
        var loaded = ScenarioLoader.Parse("# a { comment\n// ] another\nscenario { name = \"x { [ \\\" y\", steps = [] }", Source);

        Assert.Equal("x { [ \" y", loaded.Scenario.Name);
    }

    [Theory]
    [InlineData("scenario { name = \"a\nb\", steps = [] }")]
    [InlineData("actornuma.topology.nodes = 99\nscenario { name = x, steps = [] }")]
    [InlineData("scenario { name = x, steps = [ { op = expect-vmstat, \"a\nb\" = 1 } ] }")]
    [InlineData("scenario {\n name = x,, steps = [] }")]
    public void Every_message_is_a_single_line(string text)
    {
        Assert.DoesNotContain('\n', Error(text));
    }

    [Theory]
    [InlineData("0x10100000", "2251799813685248")]
    [InlineData("0x7ffffffff000", "2")]
    public void Expect_pages_over_a_range_beyond_task_size_is_bad_input(string addr, string pages)
    {
        Assert.Equal($"exp.conf: scenario.steps[0]: expected a range inside the user address space, which ends at TASK_SIZE " +
                     $"0x7ffffffff000, got addr = 0x{Convert.ToUInt64(addr, 16):x} and {pages} pages",
            StepError($"{{ op = expect-pages, task = a, addr = \"{addr}\", pages = {pages}, swapped = 0 }}"));
    }

    [Fact]
    public void Expect_pages_up_to_task_size_loads()
    {
        Assert.Equal(1, Step("{ op = expect-pages, task = a, addr = \"0x7fffffffe000\", pages = 1, swapped = 0 }").Pages);
    }
}

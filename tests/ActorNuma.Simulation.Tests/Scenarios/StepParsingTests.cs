using ActorNuma.Mm;
using ActorNuma.Simulation.Scenarios;
using static ActorNuma.Simulation.Tests.Scenarios.ScenarioText;

namespace ActorNuma.Simulation.Tests.Scenarios;

[Trait("kind", "unit")]
public sealed class StepParsingTests
{
    [Theory]
    [InlineData("mmap", StepOp.Mmap)]
    [InlineData("munmap", StepOp.Munmap)]
    [InlineData("swapout", StepOp.Swapout)]
    [InlineData("touch", StepOp.Touch)]
    public void Range_ops_read_a_task_an_address_and_pages(string op, StepOp expected)
    {
        var step = Step($"{{ task = b, op = {op}, addr = \"0x20000000\", pages = 4 }}");

        Assert.Equal((expected, op, "b", 0x20000000UL, 4L, (ulong?)null), (step.Op, step.OpName, step.Task, step.Addr, step.Pages, step.Len));
    }

    [Fact]
    public void An_address_may_be_a_decimal_number_or_unquoted_hex()
    {
        Assert.Equal(4096UL, Step("{ task = a, op = mmap, addr = 4096, pages = 1 }").Addr);
        Assert.Equal(0x10000000UL, Step("{ task = a, op = mmap, addr = 0x10000000, pages = 1 }").Addr);
        Assert.Equal(0xFFFFFFFFFFFFF000UL, Step("{ task = a, op = mmap, addr = \"0xFFFFFFFFFFFFF000\", pages = 1 }").Addr);
    }

    [Theory]
    [InlineData("65536", 65536UL, 16L)]
    [InlineData("65537", 65537UL, 17L)]
    [InlineData("1", 1UL, 1L)]
    [InlineData("0", 0UL, 0L)]
    [InlineData("\"0x10000\"", 0x10000UL, 16L)]
    public void Len_is_kept_raw_and_rounded_up_to_pages(string len, ulong raw, long pages)
    {
        var step = Step($"{{ task = a, op = mbind, addr = \"0x10000000\", len = {len}, mode = bind, nodes = [0] }}");

        Assert.Equal((raw, pages), (step.Len, step.Pages));
    }

    [Fact]
    public void Touch_reads_by_default_and_writes_with_write_on()
    {
        Assert.False(Step("{ task = a, op = touch, addr = 0, pages = 1 }").Write);
        Assert.True(Step("{ task = a, op = touch, addr = 0, pages = 1, write = on }").Write);
        Assert.True(Step("{ task = a, op = touch, addr = 0, pages = 1, write = true }").Write);
        Assert.False(Step("{ task = a, op = touch, addr = 0, pages = 1, write = off }").Write);
    }

    [Theory]
    [InlineData("default", 0)]
    [InlineData("preferred", 1)]
    [InlineData("prefer", 1)]
    [InlineData("bind", 2)]
    [InlineData("interleave", 3)]
    [InlineData("BIND", 2)]
    [InlineData("-1", -1)]
    [InlineData("4", 4)]
    [InlineData("\"7\"", 7)]
    public void Mbind_mode_is_a_name_or_any_number_kept_raw(string mode, int expected)
    {
        Assert.Equal(expected, Step($"{{ task = a, op = mbind, addr = 0, pages = 1, mode = {mode} }}").Mode);
    }

    [Theory]
    [InlineData("[strict]", 1)]
    [InlineData("[move]", 2)]
    [InlineData("[move_all]", 4)]
    [InlineData("[strict, move, move_all]", 7)]
    [InlineData("[]", 0)]
    [InlineData("[ ]", 0)]
    [InlineData("-1", -1)]
    [InlineData("\"-1\"", -1)]
    [InlineData("8", 8)]
    [InlineData("[strict, 8]", 9)]
    [InlineData("move_all", 4)]
    public void Mbind_flags_are_names_or_a_raw_number(string flags, int expected)
    {
        Assert.Equal(expected, Step($"{{ task = a, op = mbind, addr = 0, pages = 1, mode = bind, nodes = [0], flags = {flags} }}").Flags);
    }

    [Fact]
    public void Mbind_without_flags_passes_zero()
    {
        Assert.Equal(0, Step("{ task = a, op = mbind, addr = 0, pages = 1, mode = default }").Flags);
    }

    [Fact]
    public void Nodes_left_out_is_a_null_nodemask_and_an_empty_list_is_an_empty_one()
    {
        Assert.Null(Step("{ task = a, op = mbind, addr = 0, pages = 1, mode = default }").Nodes);
        Assert.Null(Step("{ task = a, op = mbind, addr = 0, pages = 1, mode = default, nodes = null }").Nodes);
        Assert.Equal(NodeMask.Empty, Step("{ task = a, op = mbind, addr = 0, pages = 1, mode = default, nodes = [] }").Nodes);
        Assert.Equal(NodeMask.Of(0, 1), Step("{ task = a, op = mbind, addr = 0, pages = 1, mode = bind, nodes = [0, 1] }").Nodes);
    }

    [Fact]
    public void Nodes_the_topology_lacks_are_passed_on_for_the_kernel_to_refuse()
    {
        Assert.Equal(NodeMask.Of(5, 63), Step("{ task = a, op = set_mempolicy, mode = bind, nodes = [5, 63] }").Nodes);
    }

    [Fact]
    public void Maxnode_and_a_faulting_nodemask_are_read_on_the_mempolicy_calls()
    {
        var step = Step("{ task = a, op = mbind, addr = 0, pages = 1, mode = bind, nodes = [0], maxnode = -1, nodemask = fault }");

        Assert.Equal((-1, true), (step.MaxNode, step.NodemaskFault));
        Assert.False(Step("{ task = a, op = set_mempolicy, mode = default }").NodemaskFault);
        Assert.Null(Step("{ task = a, op = set_mempolicy, mode = default }").MaxNode);
    }

    [Fact]
    public void Set_mempolicy_reads_a_mode_and_nodes()
    {
        var step = Step("{ task = b, op = set_mempolicy, mode = interleave, nodes = [0, 1], maxnode = 3, async = on }");

        Assert.Equal(new StepSpec
        {
            Index = 0, Op = StepOp.SetMempolicy, OpName = "set_mempolicy", Task = "b", Mode = 3, Nodes = NodeMask.Of(0, 1),
            MaxNode = 3, Async = true, Location = "exp.conf: scenario.steps[0]",
        }, step);
    }

    [Theory]
    [InlineData("[node]", 1)]
    [InlineData("[addr]", 2)]
    [InlineData("[node, addr]", 3)]
    [InlineData("-1", -1)]
    [InlineData("[]", 0)]
    public void Get_mempolicy_flags_are_mpol_f_names_or_a_raw_number(string flags, int expected)
    {
        Assert.Equal(expected, Step($"{{ task = a, op = get_mempolicy, flags = {flags} }}").Flags);
    }

    [Fact]
    public void Get_mempolicy_needs_no_address_and_may_expect_its_outputs()
    {
        var step = Step("{ task = a, op = get_mempolicy, nodemask = fault, expect { ret = -1, errno = EFAULT } }");
        var node = Step("{ task = a, op = get_mempolicy, flags = [node, addr], addr = 4096, expect { ret = 0, mode = 1, node = 1 } }");

        Assert.Null(step.Addr);
        Assert.Equal(new ExpectSpec(-1, Errno.EFAULT, null, null, null), step.Expect);
        Assert.Equal(new ExpectSpec(0, null, 1, null, 1), node.Expect);
    }

    [Theory]
    [InlineData("EINVAL", Errno.EINVAL)]
    [InlineData("einval", Errno.EINVAL)]
    [InlineData("22", Errno.EINVAL)]
    [InlineData("ENODEV", Errno.ENODEV)]
    [InlineData("0", Errno.None)]
    public void An_expected_errno_is_a_name_or_its_number(string errno, Errno expected)
    {
        Assert.Equal(expected, Step($"{{ task = a, op = mmap, addr = 0, pages = 1, expect {{ errno = {errno} }} }}").Expect!.Errno);
    }

    [Fact]
    public void An_empty_expect_block_checks_nothing()
    {
        Assert.Equal(new ExpectSpec(null, null, null, null, null), Step("{ task = a, op = exit, expect {} }").Expect);
        Assert.Null(Step("{ task = a, op = exit }").Expect);
    }

    [Fact]
    public void Sched_setaffinity_reads_a_cpu_even_one_the_machine_lacks()
    {
        Assert.Equal(3, Step("{ task = a, op = sched_setaffinity, cpu = 3 }").Cpu);
        Assert.Equal(99, Step("{ task = a, op = sched_setaffinity, cpu = 99, expect { errno = EINVAL } }").Cpu);
    }

    [Fact]
    public void Exit_and_wait_and_advance_read_their_few_keys()
    {
        var steps = Load("{ task = a, op = exit, async = on }\n{ op = wait }\n{ op = advance, time = 5ms }").Scenario.Steps;

        Assert.Equal((StepOp.Exit, "a", true), (steps[0].Op, steps[0].Task, steps[0].Async));
        Assert.Equal((StepOp.Wait, null, 1), (steps[1].Op, steps[1].Task, steps[1].Index));
        Assert.Equal((StepOp.Advance, TimeSpan.FromMilliseconds(5)), (steps[2].Op, steps[2].Time));
    }

    [Theory]
    [InlineData("100us", 1_000)]
    [InlineData("\"100us\"", 1_000)]
    [InlineData("100 us", 1_000)]
    [InlineData("3 micros", 30)]
    [InlineData("1.5ms", 15_000)]
    [InlineData("250", 2_500_000)]
    [InlineData("200ns", 2)]
    [InlineData("2s", 20_000_000)]
    [InlineData("1m", 600_000_000)]
    [InlineData("0", 0)]
    public void Advance_time_is_a_hocon_duration_including_microseconds(string time, long ticks)
    {
        Assert.Equal(TimeSpan.FromTicks(ticks), Step($"{{ op = advance, time = {time} }}").Time);
    }

    [Fact]
    public void Expect_pages_reads_present_pages_per_node_and_swapped_pages()
    {
        var step = Step("{ op = expect-pages, task = a, addr = \"0x10000000\", len = 65536, nodes { \"0\" = 12, 1 = 4 }, swapped = 3 }");

        Assert.Equal(new Dictionary<int, long> { [0] = 12, [1] = 4 }, step.ExpectNodes);
        Assert.Equal((3L, 16L, 65536UL), (step.ExpectSwapped, step.Pages, step.Len));
    }

    [Fact]
    public void Expect_pages_may_check_only_nodes_or_only_swapped()
    {
        var nodes = Step("{ op = expect-pages, task = a, addr = 0, pages = 1, nodes { \"1\" = 0 } }");
        var swapped = Step("{ op = expect-pages, task = a, addr = 0, pages = 1, swapped = 1 }");

        Assert.Equal((1, (long?)null), (nodes.ExpectNodes!.Count, nodes.ExpectSwapped));
        Assert.Equal(((IReadOnlyDictionary<int, long>?)null, (long?)1), (swapped.ExpectNodes, swapped.ExpectSwapped));
    }

    [Fact]
    public void Expect_vmstat_takes_every_other_key_as_a_counter()
    {
        var step = Step("{ op = expect-vmstat, pswpout = 16, pgmajfault = 16, pgpgin = 0 }");

        Assert.Equal(new Dictionary<string, long> { ["pswpout"] = 16, ["pgmajfault"] = 16, ["pgpgin"] = 0 }, step.ExpectVmstat);
        Assert.Null(step.Task);
    }

    [Fact]
    public void A_fork_child_is_a_task_for_the_steps_after_it()
    {
        var steps = Load("{ task = a, op = fork, child = c, expect { ret = 0 } }\n{ task = c, op = touch, addr = 0, pages = 1 }\n" +
                         "{ task = b, op = migrate_pages, pid = c, old-nodes = [0], new-nodes = [1] }").Scenario.Steps;

        Assert.Equal((StepOp.Fork, "a", "c"), (steps[0].Op, steps[0].Task, steps[0].Child));
        Assert.Equal("c", steps[1].Task);
        Assert.Equal("c", steps[2].TargetTask);
    }

    [Fact]
    public void Migrate_pages_takes_the_target_by_name_or_by_pid()
    {
        var byName = Step("{ task = b, op = migrate_pages, pid = a, old-nodes = [0], new-nodes = [1], maxnode = 65 }");
        var self = Step("{ task = b, op = migrate_pages, pid = 0, old-nodes = [0, 1], new-nodes = [] }");
        var nobody = Step("{ task = b, op = migrate_pages, pid = 4242, old-nodes = [0], new-nodes = [1], expect { errno = ESRCH } }");

        Assert.Equal(("a", (int?)null, NodeMask.Of(0), NodeMask.Of(1), 65), (byName.TargetTask, byName.TargetPid, byName.OldNodes, byName.NewNodes, byName.MaxNode));
        Assert.Equal(((string?)null, 0, NodeMask.Of(0, 1), NodeMask.Empty), (self.TargetTask, self.TargetPid, self.OldNodes, self.NewNodes));
        Assert.Equal(4242, nobody.TargetPid);
        Assert.Equal(-1, Step("{ task = b, op = migrate_pages, pid = -1, old-nodes = [0], new-nodes = [1] }").TargetPid);
    }

    [Fact]
    public void Migrate_pages_nodemasks_left_out_are_null_pointers()
    {
        var step = Step("{ task = b, op = migrate_pages, pid = a, nodemask = fault }");

        Assert.Equal(((NodeMask?)null, (NodeMask?)null, true), (step.OldNodes, step.NewNodes, step.NodemaskFault));
    }

    [Fact]
    public void Steps_are_numbered_and_located_in_file_order()
    {
        var steps = Load("{ op = wait }\n{ op = wait }\n{ op = wait }").Scenario.Steps;

        Assert.Equal([0, 1, 2], steps.Select(s => s.Index));
        Assert.Equal("exp.conf: scenario.steps[2]", steps[2].Location);
    }

    [Fact]
    public void Tasks_read_their_cpu_and_capabilities()
    {
        var tasks = Load("{ op = wait }", tasks: "{ name = a, cpu = 3 }, { name = \"b 2\", cpu = 1, caps = [sys_nice] }").Scenario.Tasks;

        Assert.Equal([new TaskSpec("a", 3, false), new TaskSpec("b 2", 1, true)], tasks);
    }
}

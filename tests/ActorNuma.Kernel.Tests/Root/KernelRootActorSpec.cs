using ActorNuma.Kernel.Tests.Support;
using ActorNuma.Mm;
using Akka.Actor;
using Xunit.Abstractions;

namespace ActorNuma.Kernel.Tests;

/// <summary>
/// <see cref="KernelRootActor"/> booting a whole <see cref="SmallMachine"/>: every node, the swap device and the tasks it
/// spawns are real actors, children of the root on the seeded executor, supervised by the kernel-BUG strategy.
/// </summary>
public sealed class KernelRootActorSpec : KernelSpec
{
    /// <summary>Several kernel actors are runnable at once here; this seed orders them.</summary>
    private const int SpecSeed = 2005;

    public KernelRootActorSpec(ITestOutputHelper output) : base(output, SpecSeed)
    {
    }

    [Fact]
    public void Boot_creates_one_node_actor_per_node_and_the_swap_device_as_children_and_fills_the_directory()
    {
        var rig = NewRig();

        var root = rig.BootRoot();

        var directory = rig.Machine.Directory;
        Assert.Equal(root, directory.Kernel);
        Assert.Equal([root.Path / "node0", root.Path / "node1"], directory.Nodes.Select(n => n.Path));
        Assert.Equal(root.Path / "swap", directory.Swap.Path);
        Assert.Equal([0, 1], rig.Machine.Nodes.Select(n => n.Memory.Node));
        Assert.Equal(16, rig.Machine.Swap!.Map.TotalSwapPages);
        Assert.StartsWith("nodes=2 cpus=4 pages_per_node=64 swap_slots=16 profile=v2",
            rig.Machine.Trace.Snapshot().Single(e => e.Name == "boot").Fields);
    }

    [Fact]
    public void The_machine_is_booted_only_once_the_roots_prestart_and_every_node_kswapd_and_the_swap_device_have_run()
    {
        var rig = NewRig();
        var root = Sys.ActorOf(KernelRootActor.Props(rig.Machine), "kernel-booting");
        Simulation.Scheduling.DeterministicPump.AwaitStarted(root);

        // The reference exists, but nothing of the actor has run: the pump has not run its creation yet.
        Assert.False(rig.Machine.Booted);
        rig.Settle();

        Assert.True(rig.Machine.Booted);
        Assert.Equal(root, rig.Machine.Directory.Kernel);
    }

    [Fact]
    public void The_booted_nodes_answer_with_their_own_memory()
    {
        var rig = NewRig();
        rig.BootRoot();
        var asker = rig.NewProbe("asker");

        rig.Send(rig.Machine.Directory.Node(1), new NumaNode.GetNodeInfo(1), asker.Ref);
        rig.Send(rig.Machine.Directory.Node(0), new NumaNode.GetNodeInfo(2), asker.Ref);

        var node1 = asker.ExpectMsg<NumaNode.NodeInfo>();
        var node0 = asker.ExpectMsg<NumaNode.NodeInfo>();
        Assert.Equal((1, 64), (node1.Node, node1.FreePages));
        Assert.Equal((0, 63), (node0.Node, node0.FreePages));   // pfn 0 is the zero page
    }

    [Fact]
    public void SpawnTask_creates_a_task_child_on_its_cpu_under_the_next_pid_registers_it_and_answers_the_sender()
    {
        var rig = NewRig();
        var root = rig.BootRoot();
        var spawner = rig.NewProbe("spawner");

        rig.Send(root, new KernelRoot.SpawnTask("worker", Cpu: 2, SysNice: true), spawner.Ref);
        rig.Send(root, new KernelRoot.SpawnTask("other", Cpu: 0, SysNice: false), spawner.Ref);

        var first = spawner.ExpectMsg<KernelRoot.TaskSpawned>();
        var second = spawner.ExpectMsg<KernelRoot.TaskSpawned>();
        Assert.Equal((1, "worker", 2, "other"), (first.Pid, first.Name, second.Pid, second.Name));
        Assert.Equal(root.Path / "task1", first.Task.Path);
        Assert.Equal(first.Task, rig.Machine.Directory.Task(1));
        Assert.Equal(second.Task, rig.Machine.Directory.Task(2));
        var state = rig.Task(1);
        Assert.Equal(("worker", 2, true, false), (state.Name, state.Cpu, state.SysNice, state.Exited));
        Assert.Equal([1, 2], rig.Machine.Directory.Pids);
    }

    [Fact]
    public void A_spawned_task_runs_its_syscalls_against_the_booted_nodes()
    {
        var rig = NewRig();
        var root = rig.BootRoot();
        var caller = rig.NewProbe("caller");
        rig.Send(root, new KernelRoot.SpawnTask("worker", Cpu: 2, SysNice: false), caller.Ref);
        var task = caller.ExpectMsg<KernelRoot.TaskSpawned>().Task;

        rig.Send(task, new NumaTask.Mmap(0x100000, 4), caller.Ref);
        rig.Send(task, new NumaTask.Touch(0x100000, 4, Write: true), caller.Ref);
        rig.Send(task, new NumaTask.QueryPages(0x100000, 4), caller.Ref);

        Assert.Equal(0x100000L, caller.ExpectMsg<NumaTask.SyscallResult>().Ret);
        var touch = caller.ExpectMsg<NumaTask.SyscallResult>();
        Assert.Equal((4L, 4L), (touch.Ret, touch.Faults));
        Assert.Equal(new Dictionary<int, long> { [1] = 4 }, caller.ExpectMsg<NumaTask.PagesReport>().PerNode);
        Assert.Empty(rig.Machine.DataViolations);
    }

    [Fact]
    public void CreateTask_makes_the_actor_of_a_task_whose_state_fork_built_and_answers_the_requester()
    {
        var rig = NewRig();
        var root = rig.BootRoot();
        var forker = rig.NewProbe("forker");
        var state = new TaskState(rig.Machine.AllocPid(), "child") { Cpu = 1 };

        rig.Send(root, new KernelRoot.CreateTask(42, forker.Ref, state));

        var created = forker.ExpectMsg<KernelRoot.TaskCreated>();
        Assert.Equal((42L, state.Pid), (created.Token, created.Pid));
        Assert.Equal(created.Task, rig.Machine.Directory.Task(state.Pid));
        Assert.Same(state, rig.Task(state.Pid));
    }

    [Fact]
    public void An_exception_in_a_node_stops_that_node_alone_and_is_reported_as_a_kernel_bug()
    {
        var rig = NewRig();
        var root = rig.BootRoot();
        var (node0, node1) = (rig.Machine.Directory.Node(0), rig.Machine.Directory.Node(1));
        var watcher = rig.NewProbe("watcher");
        watcher.Watch(node0);
        rig.Settle();

        // Pfn 64 is node 1's frame: a node handed another's frame hits an impossible state.
        rig.Send(node0, new NumaNode.IsolateLruPages(1, watcher.Ref, [64], false));

        Assert.Equal(node0, watcher.ExpectTerminated(node0).ActorRef);
        Assert.Equal(["kernel BUG: InvalidOperationException: node 0 got pfn 64, which is not its own"], rig.Machine.Bugs);
        rig.Send(node1, new NumaNode.GetNodeInfo(1), watcher.Ref);
        Assert.Equal(1, watcher.ExpectMsg<NumaNode.NodeInfo>().Node);
        rig.Send(root, new KernelRoot.SpawnTask("still-booting-tasks", 0, false), watcher.Ref);
        watcher.ExpectMsg<KernelRoot.TaskSpawned>();
    }

    [Fact]
    public void A_reply_no_batch_of_the_node_waits_for_is_a_kernel_bug_naming_the_node_the_message_and_the_token()
    {
        var rig = NewRig();
        rig.BootRoot();
        var node0 = rig.Machine.Directory.Node(0);
        var watcher = rig.NewProbe("watcher");
        watcher.Watch(node0);
        rig.Settle();

        rig.Send(node0, new SwapDevice.AddedToSwap(77, [1], [3]));

        watcher.ExpectTerminated(node0);
        Assert.Equal(["kernel BUG: KernelBugException: node 0: unexpected AddedToSwap for token 77, which nothing waits for"],
            rig.Machine.Bugs);
    }

    [Fact]
    public void An_exception_in_a_task_stops_the_task_and_is_reported_as_a_kernel_bug()
    {
        var rig = NewRig();
        var root = rig.BootRoot();
        var watcher = rig.NewProbe("watcher");
        rig.Send(root, new KernelRoot.SpawnTask("worker", 0, false), watcher.Ref);
        var task = watcher.ExpectMsg<KernelRoot.TaskSpawned>().Task;
        watcher.Watch(task);
        rig.Settle();

        rig.Send(task, new NumaNode.PagesAccessed(999, []));

        watcher.ExpectTerminated(task);
        Assert.Equal(["kernel BUG: KernelBugException: task 1: unexpected PagesAccessed for token 999, which nothing waits for"],
            rig.Machine.Bugs);
    }

    [Fact]
    public void SpawnTask_on_a_cpu_the_machine_does_not_have_leaves_the_booted_machine_and_its_tasks_alone()
    {
        var rig = NewRig();
        // The root under a deterministic stand-in for the /user guardian, with the guardian's strategy (restart).
        var root = rig.BootRootUnder(SupervisorStrategy.DefaultStrategy);
        var spawner = rig.NewProbe("spawner");
        rig.Send(root, new KernelRoot.SpawnTask("worker", 0, false), spawner.Ref);
        var worker = spawner.ExpectMsg<KernelRoot.TaskSpawned>().Task;
        var node0 = rig.Machine.Directory.Node(0);
        spawner.Watch(worker);
        spawner.Watch(node0);
        rig.Settle();

        rig.Send(root, new KernelRoot.SpawnTask("nowhere", Cpu: rig.Topology.Cpus, SysNice: false), spawner.Ref);

        Assert.Equal(Errno.EINVAL, spawner.ExpectMsg<KernelRoot.SpawnRefused>().Errno);
        Assert.Equal(node0, rig.Machine.Directory.Node(0));
        Assert.Equal(worker, rig.Machine.Directory.Task(1));
        Assert.False(spawner.HasMessages);   // no Terminated for the worker or node 0
    }
}

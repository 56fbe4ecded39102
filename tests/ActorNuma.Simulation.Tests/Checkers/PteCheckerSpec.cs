using ActorNuma.Kernel;
using ActorNuma.Mm;
using ActorNuma.Simulation.Checkers;

namespace ActorNuma.Simulation.Tests.Checkers;

/// <summary>The PTE checker against hand-built machines: what it reports when PTEs, mapcounts and reverse maps disagree,
/// and that it stays quiet when they agree, for pages mapped once and pages shared by several tasks.</summary>
[Trait("kind", "unit")]
public sealed class PteCheckerSpec
{
    private const uint Vpn = 0x100;
    private uint _nextVpn = Vpn;
    private readonly KernelMachine _machine;
    private readonly NodeMemory _node;
    private readonly Dictionary<int, TaskState> _tasks = new();

    public PteCheckerSpec()
    {
        var topology = new Topology(1, 1, 16);
        _machine = new KernelMachine(new KernelSettings { Topology = topology, Profile = KernelProfile.V2 }, new KernelTrace(() => TimeSpan.Zero));
        _node = new NodeMemory(0, topology.FirstPfn(0), topology.PagesPerNode, new Watermarks(0, 0, 0), holdsZeroPage: true);
        _machine.Register(new NodeState(_node, []));
    }

    private TaskState Task(int pid)
    {
        if (_tasks.TryGetValue(pid, out var t))
        {
            return t;
        }

        _machine.Register(_tasks[pid] = t = new TaskState(pid, $"t{pid}"));
        return t;
    }

    /// <summary>A page whose rmap names <paramref name="rmap"/> and which the PTEs of <paramref name="ptes"/> map.</summary>
    private int Page(int[] rmap, int[] ptes)
    {
        var idx = _node.AllocFrame();
        var vpn = _nextVpn++;
        foreach (var pid in rmap)
        {
            _node.AddRmap(idx, pid, vpn);
        }

        foreach (var pid in ptes)
        {
            Task(pid).OwnPageTable.Set(vpn, Pte.Present(_node.PfnOf(idx), write: false));
        }

        return _node.PfnOf(idx);
    }

    private List<string> Check()
    {
        var violations = new List<string>();
        new PteChecker().Check(_machine, violations);
        return violations;
    }

    [Fact]
    public void Pages_mapped_once_or_shared_whose_rmap_matches_their_ptes_are_clean()
    {
        Page(rmap: [1], ptes: [1]);
        Page(rmap: [2, 3, 1], ptes: [1, 2, 3]);

        Assert.Empty(Check());
    }

    [Fact]
    public void A_mapcount_without_a_pte_is_reported()
    {
        var pfn = Page(rmap: [1], ptes: []);

        Assert.Equal([$"pfn {pfn}: mapcount 1, mapped by 0 ptes"], Check());
    }

    [Fact]
    public void A_rmap_naming_another_task_than_the_pte_is_reported()
    {
        var pfn = Page(rmap: [2], ptes: [1]);

        Assert.Equal([$"pfn {pfn}: rmap names tasks 2, ptes in 1"], Check());
    }

    [Fact]
    public void A_shared_page_whose_rmap_and_ptes_name_different_tasks_is_reported()
    {
        var pfn = Page(rmap: [1, 3], ptes: [2, 1]);

        Assert.Equal([$"pfn {pfn}: rmap names tasks 1,3, ptes in 1,2"], Check());
    }

    [Fact]
    public void A_pte_to_a_free_frame_is_reported()
    {
        var idx = _node.AllocFrame();
        var pfn = _node.PfnOf(idx);
        _node.PutPage(idx);
        Assert.Equal(FramePlace.Free, _node.Place(idx));
        Task(1).OwnPageTable.Set(Vpn, Pte.Present(pfn, write: true));

        Assert.Contains($"task 1 vpn {Vpn:x} maps free pfn {pfn}", Check());
    }

    [Fact]
    public void On_a_second_node_a_pte_at_another_address_than_the_rmap_and_a_pte_to_a_free_frame_are_reported()
    {
        var m = new CheckedMachine();
        var i = m.LruPage(1);
        m.Map(1, i, pid: 1, vpn: 0x100);
        m.Task(1).OwnPageTable.Set(0x100, Pte.None);
        m.Task(1).OwnPageTable.Set(0x180, Pte.Present(m.Node(1).PfnOf(i), write: true));
        var free = m.Node(1).PfnOf(m.Node(1).FreeList().First());
        m.Task(2).OwnPageTable.Set(0x200, Pte.Present(free, write: true));

        Assert.Equal([$"task 1 maps pfn {m.Node(1).PfnOf(i)} at vpn 180, its rmap says 100", $"task 2 vpn 200 maps free pfn {free}"],
            m.Check(new PteChecker()));
    }

    [Fact]
    public void On_a_second_node_shared_pages_are_clean_when_rmap_and_ptes_agree_and_reported_when_they_do_not()
    {
        var m = new CheckedMachine();
        var shared = m.LruPage(1);
        m.Map(1, shared, pid: 1, vpn: 0x100);
        m.Map(1, shared, pid: 2, vpn: 0x100);
        var wrong = m.LruPage(1);
        m.Map(1, wrong, pid: 1, vpn: 0x101);
        m.Map(1, wrong, pid: 2, vpn: 0x101);
        m.Task(2).OwnPageTable.Set(0x101, Pte.None);
        m.Task(3).OwnPageTable.Set(0x101, Pte.Present(m.Node(1).PfnOf(wrong), write: true));
        var unmapped = m.LruPage(1);
        m.Map(1, unmapped, pid: 1, vpn: 0x102);
        m.Map(1, unmapped, pid: 2, vpn: 0x102);
        m.Task(2).OwnPageTable.Set(0x102, Pte.None);

        Assert.Equal([
            $"pfn {m.Node(1).PfnOf(wrong)}: rmap names tasks 1,2, ptes in 1,3",
            $"pfn {m.Node(1).PfnOf(unmapped)}: mapcount 2, mapped by 1 ptes",
        ], m.Check(new PteChecker()));
    }
}

using ActorNuma.Kernel;
using ActorNuma.Mm;
using Akka.Actor;

namespace ActorNuma.TestKit;

/// <summary>
/// Describes the machine a test boots: topology, swap device, kernel profile, kswapd, and the tasks to spawn at boot.
/// The defaults are a small machine: 2 nodes × 2 CPUs × 64 pages, profile v2, 64 swap slots (write 1 ms, read 2 ms),
/// kswapd off.
/// </summary>
public sealed class MachineBuilder
{
    private readonly List<TaskSpec> _tasks = new();
    private Topology _topology = new(2, 2, 64);
    private KernelProfile _profile = KernelProfile.V2;
    private int _swapSlots = 64;
    private TimeSpan _writeLatency = TimeSpan.FromMilliseconds(1);
    private TimeSpan _readLatency = TimeSpan.FromMilliseconds(2);
    private int _queueDepth = 1;
    private bool _kswapd;
    private int _swappiness = 60;
    private int? _minFreeKbytes;
    private int _faultBatch = 16;

    /// <summary>The NUMA topology: <paramref name="nodes"/> nodes, each with <paramref name="cpusPerNode"/> CPUs and
    /// <paramref name="pagesPerNode"/> 4 KiB pages (node 0's first page is the zero page).</summary>
    /// <param name="nodes">Node count (1..64).</param>
    /// <param name="cpusPerNode">CPUs per node.</param>
    /// <param name="pagesPerNode">Pages per node.</param>
    /// <returns>This builder.</returns>
    public MachineBuilder Topology(int nodes, int cpusPerNode, int pagesPerNode)
    {
        _topology = new Topology(nodes, cpusPerNode, pagesPerNode);
        return this;
    }

    /// <summary>The swap area and its device.</summary>
    /// <param name="slots">Usable slots; 0: no swap device.</param>
    /// <param name="write">Service time of one page written (default 1 ms).</param>
    /// <param name="read">Service time of one page read (default 2 ms).</param>
    /// <param name="queueDepth">Requests the device serves at once in each direction.</param>
    /// <returns>This builder.</returns>
    public MachineBuilder Swap(int slots, TimeSpan? write = null, TimeSpan? read = null, int queueDepth = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slots);
        ArgumentOutOfRangeException.ThrowIfLessThan(queueDepth, 1);
        _swapSlots = slots;
        _writeLatency = write ?? _writeLatency;
        _readLatency = read ?? _readLatency;
        _queueDepth = queueDepth;
        return this;
    }

    /// <summary>The kernel profile (which kernel's behaviour): <see cref="KernelProfile.V2"/> by default; see
    /// <see cref="KernelProfile.All"/>.</summary>
    /// <param name="profile">The profile.</param>
    /// <returns>This builder.</returns>
    public MachineBuilder Profile(KernelProfile profile)
    {
        _profile = profile ?? throw new ArgumentNullException(nameof(profile));
        return this;
    }

    /// <summary>Runs a kswapd per node, woken when a node falls to pages_low.</summary>
    /// <param name="swappiness"><c>vm_swappiness</c>.</param>
    /// <param name="minFreeKbytes">Overrides the boot-time <c>min_free_kbytes</c> (and so the watermarks).</param>
    /// <returns>This builder.</returns>
    public MachineBuilder Kswapd(int swappiness = 60, int? minFreeKbytes = null)
    {
        _kswapd = true;
        _swappiness = swappiness;
        _minFreeKbytes = minFreeKbytes;
        return this;
    }

    /// <summary>How many pages a touch faults per round of messages: 1 interleaves finest (each page a message),
    /// larger batches run faster. Default 16.</summary>
    /// <param name="pages">Pages per fault round.</param>
    /// <returns>This builder.</returns>
    public MachineBuilder FaultBatch(int pages)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pages, 1);
        _faultBatch = pages;
        return this;
    }

    /// <summary>A task spawned at boot, in the order declared; find it with <see cref="EmulatedMachine.Task(string)"/>.</summary>
    /// <param name="name">Its name (unique in the machine).</param>
    /// <param name="cpu">The CPU it runs on.</param>
    /// <param name="sysNice">Whether it has CAP_SYS_NICE (needed for MPOL_MF_MOVE_ALL, and to migrate others' pages).</param>
    /// <param name="uid">Its real uid.</param>
    /// <param name="euid">Its effective (and saved) uid.</param>
    /// <returns>This builder.</returns>
    public MachineBuilder Task(string name, int cpu, bool sysNice = false, int uid = 0, int euid = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (_tasks.Any(t => t.Name == name))
        {
            throw new ArgumentException($"a task named '{name}' is already declared", nameof(name));
        }

        _tasks.Add(new TaskSpec(name, cpu, sysNice, uid, euid));
        return this;
    }

    internal IReadOnlyList<TaskSpec> Tasks => _tasks;

    /// <summary>The kernel settings this builder describes.</summary>
    /// <returns>The settings the machine boots with.</returns>
    public KernelSettings Build() => new()
    {
        Topology = _topology,
        Profile = _profile,
        SwapSlots = _swapSlots,
        SwapWriteLatency = _writeLatency,
        SwapReadLatency = _readLatency,
        SwapQueueDepth = _queueDepth,
        KswapdEnabled = _kswapd,
        Swappiness = _swappiness,
        MinFreeKbytes = _minFreeKbytes,
        FaultBatch = _faultBatch,
    };

    internal sealed record TaskSpec(string Name, int Cpu, bool SysNice, int Uid, int Euid);
}

/// <summary>A task of the machine: its pid, name and actor. Send it <see cref="NumaTask"/> syscalls, or use
/// <see cref="KernelSyscalls"/>.</summary>
/// <param name="Pid">The pid.</param>
/// <param name="Name">The name it was spawned (or forked) with.</param>
/// <param name="Ref">The <c>NumaTaskActor</c>.</param>
public sealed record TaskHandle(int Pid, string Name, IActorRef Ref)
{
    /// <summary>"name (pid N)", for messages.</summary>
    /// <returns>The task's name and pid.</returns>
    public override string ToString() => $"{Name} (pid {Pid})";
}

/// <summary>A range of whole pages of a task's address space.</summary>
/// <param name="Addr">The first byte (page aligned for a valid range).</param>
/// <param name="Pages">Its length in pages.</param>
public readonly record struct PageRange(ulong Addr, long Pages)
{
    /// <summary>Its length in bytes.</summary>
    public ulong Bytes => (ulong)Pages * MmConstants.PageSize;

    /// <summary>A range of <paramref name="pages"/> pages from <paramref name="addr"/>.</summary>
    /// <param name="addr">The first byte.</param>
    /// <param name="pages">Pages.</param>
    /// <returns>The range.</returns>
    public static PageRange At(ulong addr, long pages) => new(addr, pages);

    /// <summary>"0x10000000+16 pages".</summary>
    /// <returns>The range as text.</returns>
    public override string ToString() => $"0x{Addr:x}+{Pages} pages";
}

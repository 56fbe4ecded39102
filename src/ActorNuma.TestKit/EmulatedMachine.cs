using System.Diagnostics;
using System.Runtime.CompilerServices;
using ActorNuma.Kernel;
using ActorNuma.Simulation.Checkers;
using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Scheduling;
using Akka.Actor;
using Akka.Dispatch;

namespace ActorNuma.TestKit;

/// <summary>
/// An emulated machine booted inside a test's <see cref="ActorSystem"/>: the kernel root, one actor per node (with its
/// kswapd), the swap device and the tasks, plus the test's own actors next to them (<see cref="ActorOf"/>). Use it
/// through <see cref="KernelTestKit"/>, or compose it into any TestKit whose system was created with
/// <see cref="KernelTestKitConfig.Deterministic"/> (or <see cref="KernelTestKitConfig.Concurrent"/>) via
/// <see cref="Boot"/>.
/// </summary>
/// <remarks>
/// <para>In the deterministic mode nothing runs until the test runs the machine: awaiting a <see cref="KernelCall{T}"/>,
/// <see cref="Settle"/>, <see cref="Advance"/> and <see cref="RunUntil"/> do, on the test's thread, one seeded step at a
/// time; time is virtual and moves only when nothing is runnable. Tell deterministic actors only from the test's thread
/// (or from actors on the kernel dispatcher): a message from another thread lands at a timing-dependent place.</para>
/// <para>Every kernel trace event is published on the system's EventStream as a <see cref="KernelEvent"/> record, in
/// trace order, while the step that emits it runs.</para>
/// </remarks>
public sealed partial class EmulatedMachine : IDisposable
{
    private static readonly ConditionalWeakTable<ActorSystem, TopLevelHost> Hosts = new();
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static int _machines;

    private readonly ActorSystem _system;
    private readonly DeterministicPump? _pump;
    private readonly TopLevelHost _host;
    private readonly Dictionary<string, TaskHandle> _tasks = new(StringComparer.Ordinal);
    private readonly List<IActorRef> _topLevel = new();
    private readonly Action<TraceEvent> _publish;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ProgressWatch? _watch;
    private readonly int _id = Interlocked.Increment(ref _machines);
    private bool _disposed;

    private EmulatedMachine(ActorSystem system, MachineBuilder builder, KernelSchedule schedule)
    {
        _system = system;
        Schedule = schedule;
        _pump = system.Dispatchers.Lookup(KernelDispatcher.Id) is DeterministicDispatcher ? DeterministicPump.For(system) : null;
        if (_pump is not null)
        {
            // Work left from before (the test's own actors on the kernel dispatcher) must run before the schedule starts.
            _pump.RunUntilIdle();
            _pump.StartSchedule(schedule.Seed, schedule.CreateStrategy());
        }
        var trace = new KernelTrace(_pump is not null ? () => _pump.Scheduler.Elapsed : () => _clock.Elapsed, TraceKeep, 4096);
        _publish = e => { foreach (var k in KernelEvents.From(e)) { system.EventStream.Publish(k); } };
        // The trace's sink is called under its lock, in trace order, while the emitting step runs: the EventStream
        // delivers to subscribers in exactly that order.
        trace.Log += _publish;
        State = new KernelMachine(builder.Build(), trace);
        if (_pump is null)
        {
            State.StartTimerLoop();
        }

        _watch = _pump is null ? new ProgressWatch(State.Activity, TimeSpan.FromSeconds(10), () => _clock.Elapsed, State.TimerLoop) : null;
        _host = Hosts.GetValue(system, s => new TopLevelHost(s));
        Kernel = new KernelSyscalls(this);
        _topLevel.Add(_host.Spawn(KernelRootActor.Props(State), $"kernel-{_id}"));
        Settle();
        State.TimerLoop?.Resume();
        foreach (var t in builder.Tasks)
        {
            _ = SpawnTask(t.Name, t.Cpu, t.SysNice, t.Uid, t.Euid).Result;
        }
    }

    /// <summary>How many trace events the machine keeps in memory (<see cref="TraceTail"/>); all are hashed.</summary>
    public const int TraceKeep = 20_000;

    /// <summary>Concurrent mode: how long a call waits for its reply.</summary>
    public static TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Boots a machine in <paramref name="system"/>, which must have been created with
    /// <see cref="KernelTestKitConfig.Deterministic"/> or <see cref="KernelTestKitConfig.Concurrent"/>. One machine at a
    /// time per system in the deterministic mode: dispose it before booting the next.</summary>
    /// <param name="system">The test's actor system.</param>
    /// <param name="build">Describes the machine (default: <see cref="MachineBuilder"/>'s small machine).</param>
    /// <param name="schedule">Deterministic mode: the schedule; default <see cref="KernelSchedule.Current"/> (set by
    /// <see cref="KernelTheoryAttribute"/>), else seed 1 with the random strategy.</param>
    /// <returns>The booted machine, with the builder's tasks spawned.</returns>
    public static EmulatedMachine Boot(ActorSystem system, Action<MachineBuilder>? build = null, KernelSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        if (!system.Dispatchers.HasDispatcher(KernelDispatcher.Id))
        {
            throw new InvalidOperationException($"actor system {system.Name} has no {KernelDispatcher.Id}: create it (or your TestKit) with KernelTestKitConfig.Deterministic() or KernelTestKitConfig.Concurrent()");
        }

        var builder = new MachineBuilder();
        build?.Invoke(builder);
        return new EmulatedMachine(system, builder, schedule ?? KernelSchedule.Current ?? new KernelSchedule(1));
    }

    /// <summary>The schedule this machine runs under (deterministic mode).</summary>
    public KernelSchedule Schedule { get; }

    /// <summary>True in the deterministic mode (seeded executor, virtual time).</summary>
    public bool IsDeterministic => _pump is not null;

    /// <summary>Typed syscalls: <c>await machine.Kernel.Mbind(...)</c>.</summary>
    public KernelSyscalls Kernel { get; }

    /// <summary>The machine's settings, directory, trace and read-only state. Read state only at rest (after
    /// <see cref="Settle"/>), never from an actor.</summary>
    public KernelMachine State { get; }

    /// <summary>The actor system the machine lives in.</summary>
    public ActorSystem System => _system;

    /// <summary>Time since boot: virtual in the deterministic mode, real in the concurrent one.</summary>
    public TimeSpan Now => _pump?.Scheduler.Elapsed ?? _clock.Elapsed;

    /// <summary>Scheduler steps run so far in this schedule (deterministic mode; 0 otherwise).</summary>
    public long Steps => _pump?.Steps ?? 0;

    /// <summary>Where a failure happened: "seed 17, strategy random, virtual time 3.000 ms" or "concurrent mode".</summary>
    public string Context => _pump is not null
        ? $"{Schedule}, virtual time {Now.TotalMilliseconds:0.###} ms, step {Steps}"
        : $"concurrent mode, {Now.TotalMilliseconds:0.###} ms since boot";

    /// <summary>A task spawned at boot or later, by name.</summary>
    /// <param name="name">Its name.</param>
    /// <returns>The task.</returns>
    /// <exception cref="KeyNotFoundException">No task of that name.</exception>
    public TaskHandle Task(string name) => _tasks.TryGetValue(name, out var t) ? t
        : throw new KeyNotFoundException($"no task named '{name}' (tasks: {string.Join(", ", _tasks.Keys)})");

    /// <summary>Every task this machine's tests know by name (spawned, and forked through <see cref="KernelSyscalls.Fork"/>).</summary>
    public IReadOnlyCollection<TaskHandle> Tasks => _tasks.Values;

    /// <summary>Spawns a task on <paramref name="cpu"/> (parent: init).</summary>
    /// <param name="name">Its name (unique in the machine).</param>
    /// <param name="cpu">Its CPU.</param>
    /// <param name="sysNice">CAP_SYS_NICE.</param>
    /// <param name="uid">Real uid.</param>
    /// <param name="euid">Effective and saved uid.</param>
    /// <returns>The task, once the kernel created it.</returns>
    public KernelCall<TaskHandle> SpawnTask(string name, int cpu, bool sysNice = false, int uid = 0, int euid = 0) =>
        Call<TaskHandle>(State.Directory.Kernel, new KernelRoot.SpawnTask(name, cpu, sysNice, uid, euid), $"spawn task {name} on cpu {cpu}",
            reply => reply switch
            {
                KernelRoot.TaskSpawned s => Remember(new TaskHandle(s.Pid, s.Name, s.Task)),
                KernelRoot.SpawnRefused r => throw new KernelTestException($"task {r.Name} could not be spawned: {r.Errno}: {r.Reason} ({Context})"),
                _ => throw Unexpected(reply, "spawn"),
            });

    /// <summary>Creates one of the test's own actors next to the kernel: on the kernel dispatcher (so in the
    /// deterministic mode its messages are steps of the seeded schedule, and its races with the kernel are explored
    /// and replayed), as a child of a host that starts it on the calling thread. It is stopped with the machine.</summary>
    /// <param name="props">Its props; the dispatcher is set to the kernel's (<see cref="KernelDispatcher.OnKernelDispatcher"/>).</param>
    /// <param name="name">Its name.</param>
    /// <returns>The started actor.</returns>
    public IActorRef ActorOf(Props props, string name)
    {
        ArgumentNullException.ThrowIfNull(props);
        var actor = _host.Spawn(props.OnKernelDispatcher(), $"{name}-{_id}");
        _topLevel.Add(actor);
        return actor;
    }

    /// <summary>Tells <paramref name="message"/> to any actor (yours, or a kernel actor) and returns its first reply as a
    /// call: awaiting it runs the machine (deterministic mode) until the reply is in.</summary>
    /// <typeparam name="T">The reply's type.</typeparam>
    /// <param name="actor">The actor.</param>
    /// <param name="message">The request.</param>
    /// <returns>The reply.</returns>
    public KernelCall<T> Ask<T>(IActorRef actor, object message)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(message);
        return Call(actor, message, $"{message} to {actor.Path.Name}", reply => reply is T t ? t : throw Unexpected(reply, message.ToString() ?? ""));
    }

    // ---- running it -----------------------------------------------------------------------------------------------

    /// <summary>Deterministic: runs every runnable step at the current instant (virtual time does not move). Concurrent:
    /// waits until the machine is at rest.</summary>
    public void Settle()
    {
        if (_pump is not null) { _pump.RunUntilIdle(); return; }
        if (!Quiescence.HoldAtRest(State, _watch!))
        {
            throw new KernelTestException($"the machine stalled before coming to rest ({Context})");
        }

        State.TimerLoop?.Resume();
    }

    /// <summary>Deterministic mode: moves virtual time forward by <paramref name="by"/>, firing each due timer at its own
    /// instant and running what it causes before time moves on.</summary>
    /// <param name="by">How far.</param>
    public void Advance(TimeSpan by)
    {
        var pump = RequireDeterministic(nameof(Advance));
        var target = pump.Scheduler.Now + by;
        pump.RunUntilIdle();
        while (pump.Scheduler.TryGetNextDue(out var due) && due <= target)
        {
            pump.Scheduler.AdvanceTo(due);
            pump.RunUntilIdle();
        }
        pump.Scheduler.AdvanceTo(target);
        pump.RunUntilIdle();
    }

    /// <summary>Deterministic mode: runs steps, advancing virtual time whenever nothing is runnable, until
    /// <paramref name="done"/> holds.</summary>
    /// <param name="done">Checked before every step; it must not tell actors.</param>
    /// <param name="maxSteps">Bound on steps and time advances together.</param>
    /// <exception cref="KernelTestException">The machine went idle with nothing scheduled first.</exception>
    public void RunUntil(Func<bool> done, long maxSteps = 5_000_000)
    {
        var pump = RequireDeterministic(nameof(RunUntil));
        if (!pump.RunUntil(done, maxSteps))
        {
            throw new KernelTestException($"the machine went idle with nothing scheduled before the condition held ({Context})");
        }
    }

    // ---- reading it -------------------------------------------------------------------------------------------------

    /// <summary>Per-node present pages, swapped pages and holes of a range of <paramref name="task"/>, as the task's
    /// page table has them (asked of the task: a <see cref="NumaTask.QueryPages"/>).</summary>
    /// <param name="task">The task.</param>
    /// <param name="range">The range.</param>
    /// <returns>The report.</returns>
    public KernelCall<NumaTask.PagesReport> QueryPages(TaskHandle task, PageRange range) =>
        Call(task.Ref, new NumaTask.QueryPages(range.Addr, range.Pages), $"query pages of {task} in {range}",
            reply => reply as NumaTask.PagesReport ?? throw Unexpected(reply, "query pages"));

    /// <summary><c>/proc/pid/numa_maps</c> of <paramref name="task"/>.</summary>
    /// <param name="task">The task.</param>
    /// <returns>Its lines.</returns>
    public IReadOnlyList<string> NumaMaps(TaskHandle task) =>
        Call(task.Ref, new NumaTask.GetNumaMaps(), $"numa_maps of {task}",
            reply => (reply as NumaTask.NumaMapsReport ?? throw Unexpected(reply, "numa_maps")).Lines).Result;

    /// <summary><c>/proc/vmstat</c> (the emulator's own counters carry an emu_ prefix), read at rest.</summary>
    /// <returns>Every counter by its kernel name.</returns>
    public IReadOnlyDictionary<string, long> Vmstat() => AtRest(() => KernelStats.Vmstat(State));

    /// <summary><c>/sys/devices/system/node/nodeN/numastat</c> of every node, read at rest.</summary>
    /// <returns>Counters by node ("node0") and name ("numa_hit").</returns>
    public IReadOnlyDictionary<string, SortedDictionary<string, long>> Numastat() => AtRest(() => KernelStats.Numastat(State));

    /// <summary>What the invariant checkers find at rest, plus kernel BUGs and data-checker findings. A legal state
    /// (a page under I/O, in a pagevec, isolated) is never a finding.</summary>
    /// <returns>The findings, each starting with its checker's name.</returns>
    public IReadOnlyList<string> CheckerViolations() => AtRest(() =>
        (IReadOnlyList<string>)InvariantCheckers.RunAll(State).Concat(State.Bugs).ToList());

    /// <summary>The WARN_ONs that fired so far.</summary>
    public IReadOnlyList<KernelWarning> Warnings => State.Trace.Warnings();

    /// <summary>The last <paramref name="events"/> trace lines, for a failure message.</summary>
    /// <param name="events">How many.</param>
    /// <returns>The lines, oldest first.</returns>
    public string TraceTail(int events = 20)
    {
        var all = State.Trace.Snapshot();
        return string.Join(Environment.NewLine, all.Skip(Math.Max(0, all.Count - events)).Select(e => e.ToString()));
    }

    /// <summary>Runs <paramref name="read"/> with the machine at rest (and, in the concurrent mode, its timers held).</summary>
    /// <typeparam name="T">What is read.</typeparam>
    /// <param name="read">Reads <see cref="State"/>.</param>
    /// <returns>What it read.</returns>
    public T AtRest<T>(Func<T> read)
    {
        ArgumentNullException.ThrowIfNull(read);
        if (_pump is not null) { _pump.RunUntilIdle(); return read(); }
        if (!Quiescence.HoldAtRest(State, _watch!))
        {
            throw new KernelTestException($"the machine stalled before coming to rest ({Context})");
        }

        try { return read(); }
        finally { State.TimerLoop?.Resume(); }
    }

    // ---- plumbing ---------------------------------------------------------------------------------------------------

    internal KernelCall<T> Call<T>(IActorRef target, object request, string what, Func<object, T> convert)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var slot = new ReplySlot<T>(_system, convert);
        target.Tell(request, slot);
        return new KernelCall<T>(this, slot.Reply, what);
    }

    /// <summary>Deterministic: runs the machine until <paramref name="reply"/> is in. Concurrent: blocks for it.</summary>
    internal void WaitFor(Task reply, string what)
    {
        if (reply.IsCompleted)
        {
            return;
        }

        if (_pump is not null)
        {
            if (!_pump.RunUntil(() => reply.IsCompleted, 5_000_000))
            {
                throw new KernelTestException($"{what} was never answered: the machine went idle with nothing scheduled ({Context})");
            }

            return;
        }
        if (!reply.Wait(CallTimeout) && !reply.IsCompleted)
        {
            throw new KernelTestException($"{what} was not answered within {CallTimeout.TotalSeconds:0.#} s ({Context})");
        }
    }

    /// <summary>Concurrent mode's await: the reply, or a readable timeout.</summary>
    internal async Task<T> Bounded<T>(Task<T> reply, string what)
    {
        try
        {
            return await reply.WaitAsync(CallTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new KernelTestException($"{what} was not answered within {CallTimeout.TotalSeconds:0.#} s ({Context})");
        }
    }

    internal TaskHandle Remember(TaskHandle task)
    {
        _tasks.TryAdd(task.Name, task);
        return task;
    }

    internal Exception Unexpected(object reply, string what) =>
        new KernelTestException($"{what}: unexpected reply {reply.GetType().Name}: {reply} ({Context})");

    private DeterministicPump RequireDeterministic(string member) => _pump ??
        throw new InvalidOperationException($"{member} drives virtual time: it needs the deterministic mode (KernelTestKitConfig.Deterministic)");

    /// <summary>Stops the machine's actors and the test's actors made with <see cref="ActorOf"/>.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (_pump is not null)
            {
                // The teardown is not part of the schedule: it runs oldest-first.
                _pump.StartSchedule(0, new FirstRunnable());
                _pump.StopAndDrain(_topLevel, StopTimeout);
            }
            else
            {
                global::System.Threading.Tasks.Task.WaitAll(_topLevel.Select(a => a.GracefulStop(StopTimeout)).ToArray<Task>(), StopTimeout);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or AggregateException)
        {
            // A machine that cannot be brought to rest is left to the actor system's termination.
        }
        finally
        {
            State.Trace.Log -= _publish;
            State.TimerLoop?.Dispose();
        }
    }

    private sealed class FirstRunnable : IScheduleStrategy
    {
        public int Choose(IReadOnlyList<IRunnable> runnable, long step) => 0;
    }
}

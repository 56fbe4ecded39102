using ActorNuma.Kernel;
using ActorNuma.Mm;
using Akka.Actor;

namespace ActorNuma.TestKit.Sample;

/// <summary>
/// A small user-space NUMA balancer in the spirit of numad: every <see cref="Settings.Interval"/> it reads where one
/// task's pages are (the per-node counts of its numa_maps, through the kernel's public <see cref="NumaTask.QueryPages"/>)
/// and, when more of its present pages sit on other nodes than on the task's home node, calls
/// <c>migrate_pages(pid, others, home)</c> from its own daemon task. With migration via swap the pages are evicted and
/// come back on the home node when the task touches them again.
/// </summary>
/// <remarks>
/// The first version decided by majority at every look: move when more pages are remote than local. That holds only if
/// migrate_pages moves every page it is asked to. It does not when kswapd is reclaiming on the source node: a page kswapd
/// has isolated at that instant cannot be isolated for the migration and stays where it is, and migrate_pages still
/// returns 0 (2.6.16's do_migrate_pages counts only the pages it isolated and failed to move). kswapd may write such a
/// page out itself, but while it is still in the swap cache the task's next touch maps it again on the old node. The
/// next look then sees a remote minority and, by majority, leaves it there for good. <c>BalancerSpec</c> finds that race under the seeded
/// schedules; the fix (<see cref="Settings.FinishStartedMigrations"/>) keeps moving a task it has started to move until no
/// page is remote, whatever migrate_pages returned.
/// </remarks>
public sealed class NumaBalancer : ReceiveActor, IWithTimers
{
    /// <summary>What the balancer watches and how.</summary>
    /// <param name="Daemon">The balancer's own task (CAP_SYS_NICE), which makes the migrate_pages calls.</param>
    /// <param name="Pid">The watched task's pid.</param>
    /// <param name="Task">The watched task's actor.</param>
    /// <param name="Addr">Start of the watched range.</param>
    /// <param name="Pages">Its length in pages.</param>
    /// <param name="HomeNode">The node the task runs on.</param>
    /// <param name="Interval">How often it looks.</param>
    /// <param name="FinishStartedMigrations">The fix: once it has started to move the task, it moves every remote page
    /// it sees until none is left. Off, it decides by majority at every look (the first version's race with kswapd).</param>
    public sealed record Settings(IActorRef Daemon, int Pid, IActorRef Task, ulong Addr, long Pages, int HomeNode,
        TimeSpan Interval, bool FinishStartedMigrations = true);

    /// <summary>Each look and what it decided, told to the listener.</summary>
    /// <param name="Local">Present pages on the home node.</param>
    /// <param name="Remote">Present pages on other nodes.</param>
    /// <param name="Migrated">Whether it called migrate_pages.</param>
    public sealed record Decision(long Local, long Remote, bool Migrated);

    /// <summary>migrate_pages returned; <paramref name="NotMoved"/> is its return value.</summary>
    /// <param name="NotMoved">Pages it isolated and could not move (or -1 with an errno).</param>
    /// <param name="Errno">The errno.</param>
    public sealed record Migrated(long NotMoved, Errno Errno);

    private sealed record Tick;

    private readonly Settings _settings;
    private readonly IActorRef _listener;
    private bool _moving;

    /// <summary>A balancer that tells its decisions to <paramref name="listener"/>.</summary>
    public NumaBalancer(Settings settings, IActorRef listener)
    {
        _settings = settings;
        _listener = listener;
        Watching();
    }

    /// <summary>The Props of a balancer.</summary>
    public static Props Props(Settings settings, IActorRef listener) => Akka.Actor.Props.Create(() => new NumaBalancer(settings, listener));

    /// <inheritdoc />
    public ITimerScheduler Timers { get; set; } = null!;

    /// <inheritdoc />
    protected override void PreStart()
    {
        Self.Tell(new Tick());
        Timers.StartPeriodicTimer("look", new Tick(), _settings.Interval);
    }

    private void Watching()
    {
        Receive<Tick>(_ => _settings.Task.Tell(new NumaTask.QueryPages(_settings.Addr, _settings.Pages)));
        Receive<NumaTask.PagesReport>(report =>
        {
            var local = report.PerNode.GetValueOrDefault(_settings.HomeNode);
            var remoteNodes = report.PerNode.Where(kv => kv.Key != _settings.HomeNode && kv.Value > 0).Select(kv => kv.Key).ToArray();
            var remote = remoteNodes.Sum(n => report.PerNode[n]);
            // A move is finished when every page is present and local: an evicted page is not home yet, because a page
            // that is still in the swap cache when the task touches it is mapped again where it is (do_swap_page after
            // lookup_swap_cache), on the old node.
            if (remote == 0 && report.Swapped == 0)
            {
                _moving = false;
            }

            var migrate = remote > local || (_settings.FinishStartedMigrations && _moving && remote > 0);
            if (migrate)
            {
                _moving = true;
            }

            _listener.Tell(new Decision(local, remote, migrate));
            if (!migrate)
            {
                return;
            }

            _settings.Daemon.Tell(new NumaTask.MigratePages(_settings.Pid, NodeMask.MaxNumNodes + 1, NodeMask.Of(remoteNodes),
                NodeMask.Of(_settings.HomeNode), NodemaskFault: false));
            Become(Migrating);
        });
    }

    private void Migrating()
    {
        Receive<Tick>(_ => { });
        Receive<NumaTask.SyscallResult>(r =>
        {
            _listener.Tell(new Migrated(r.Ret, r.Errno));
            Become(Watching);
        });
    }
}

using System.Text.Json;
using Akka.Actor;
using Akka.Actor.Internal;
using System.Text.RegularExpressions;
using ActorNuma.Simulation.Explore;
using ActorNuma.Simulation.Run;
using ActorNuma.Simulation.Tests.Kernel;

namespace ActorNuma.Simulation.Tests.Explore;

/// <summary>Replay's traces (issue #9 item 4): every delivered message, the kernel-style events in ftrace's layout, and a
/// Chrome trace-event timeline. They are formatting: the schedule and its trace hash stay those of a run without them.</summary>
[Trait("kind", "race")]
public sealed partial class ReplayTraceTests
{
    private const string Race = "races/v1-missing-local-drain.conf";
    private const int Seed = 3;

    private static (RunReport Report, IReadOnlyList<Delivery> Deliveries) Replay()
    {
        var log = new DeliveryLog();
        var report = ScenarioRunner.Run(ScenarioRun.Load(Race), new RunOptions { Seed = Seed, TraceKeep = int.MaxValue, Deliveries = log });
        return (report, log.Deliveries);
    }

    [Fact]
    public void Recording_the_delivered_messages_leaves_the_trace_hash_and_the_report_as_they_are()
    {
        var plain = ScenarioRunner.Run(ScenarioRun.Load(Race), new RunOptions { Seed = Seed, TraceKeep = int.MaxValue });

        var (traced, deliveries) = Replay();

        Assert.Equal(plain.TraceSha256, traced.TraceSha256);
        Assert.Equal(ReportJson.Write(plain), ReportJson.Write(traced));
        Assert.NotEmpty(deliveries);
    }

    [Fact]
    public void Every_delivered_message_has_its_step_its_send_step_before_it_and_the_pages_it_names()
    {
        var (report, deliveries) = Replay();

        // One user message per mailbox run: the steps of deliveries are distinct, increasing and within the run's.
        Assert.Equal(deliveries.Count, deliveries.Select(d => d.Step).Distinct().Count());
        Assert.True(deliveries.Zip(deliveries.Skip(1)).All(p => p.First.Step < p.Second.Step));
        Assert.True(deliveries[^1].Step <= report.SchedulerSteps);
        Assert.All(deliveries, d => Assert.True(d.SendStep < d.Step, d.ToString()));
        // A message sent by an actor was sent in a step that actor ran.
        var ranBy = deliveries.ToDictionary(d => d.Step, d => d.Receiver);
        Assert.All(deliveries.Where(d => d.Sender != "-" && d.SendStep > 0), d => Assert.Equal(d.Sender, ranBy[d.SendStep]));
        var alloc = deliveries.First(d => d.Kind == "NumaNode.PagesAllocated");
        Assert.Matches(@"^ +\d+ +0\.000ms sent@\d+ +node0 -> task1: NumaNode\.PagesAllocated Token=1 .* \| pfn=\[1,2,3,4,5,6,7,8,…\+8\] \| pte=\[0x10000000,", alloc.ToString());
    }

    [Fact]
    public void A_runner_thread_left_inside_an_earlier_test_actor_still_charges_its_own_sends_to_no_actor()
    {
        // Akka.TestKit leaves its test actor as the thread's current actor, and xUnit runs later tests on that thread:
        // the runner's own sends (the driver's start, checkpoint answers, timers) must not be charged to it.
        using var other = ActorSystem.Create("leftover");
        var leftover = (ActorCell)((ActorRefWithCell)((ActorSystemImpl)other).Guardian).Underlying;
        var before = InternalCurrentActorCellKeeper.Current;
        InternalCurrentActorCellKeeper.Current = leftover;
        try
        {
            var (_, deliveries) = Replay();

            Assert.DoesNotContain(deliveries, d => d.Sender == leftover.Self.Path.Name);
            var ranBy = deliveries.ToDictionary(d => d.Step, d => d.Receiver);
            Assert.All(deliveries.Where(d => d.Sender != "-" && d.SendStep > 0), d => Assert.Equal(d.Sender, ranBy[d.SendStep]));
            Assert.Contains(deliveries, d => d.Sender == "-" && d.Kind == "ScenarioDriverActor.Start");
            Assert.Same(leftover, InternalCurrentActorCellKeeper.Current);
        }
        finally
        {
            InternalCurrentActorCellKeeper.Current = before;
        }
    }

    [Fact]
    public void The_kernel_style_trace_has_ftrace_layout_and_puts_each_event_in_its_task_or_kswapd_context()
    {
        var (report, deliveries) = Replay();

        var lines = KernelStyleTrace.Write(report.Trace, deliveries);
        var events = lines.Where(l => !l.StartsWith('#')).ToArray();

        Assert.Equal("# tracer: nop", lines[0]);
        Assert.All(events, l => Assert.Matches(FtraceLine(), l));
        // Every kernel trace event is there, in order; faults and swap writes come from the messages.
        Assert.Equal(report.Trace.Select(e => e.Name), events.Select(l => FtraceLine().Match(l).Groups["event"].Value).Where(n => report.Trace.Any(e => e.Name == n)));
        Assert.Equal(20 + 8, events.Count(l => l.Contains(": page_fault_user: ", StringComparison.Ordinal) && l.Contains("type=do_anonymous_page", StringComparison.Ordinal)));
        Assert.Equal(report.Vmstat["pswpout"], events.Count(l => l.Contains(": swap_writepage: ", StringComparison.Ordinal)));
        // Task a (pid 1, CPU 0) isolates for its mbind; the warning of its check_pte_range fires in its context.
        Assert.Contains(events, l => Regex.IsMatch(l, @"^ +a-1 \[000\] +0\.000000: mm_vmscan_lru_isolate: node=0 isolator=migration "));
        Assert.All(events.Where(l => l.Contains(": kernel_warn: ", StringComparison.Ordinal)), l => Assert.StartsWith("a-1 [000]", l.TrimStart()));
        Assert.Contains(events, l => l.TrimStart().StartsWith("b-2 [002]", StringComparison.Ordinal));
    }

    [Fact]
    public void The_timeline_is_chrome_trace_event_json_with_a_track_per_actor_and_cpu_a_slice_per_message_and_paired_flows()
    {
        var (report, deliveries) = Replay();
        using var stream = new MemoryStream();

        Timeline.Write(stream, deliveries, report.Trace, "test");

        using var doc = JsonDocument.Parse(stream.ToArray());
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToArray();
        var tracks = events.Where(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name")
            .ToDictionary(e => (e.GetProperty("pid").GetInt32(), e.GetProperty("tid").GetInt32()), e => e.GetProperty("args").GetProperty("name").GetString()!);
        var slices = events.Where(e => e.GetProperty("ph").GetString() == "X").ToArray();
        var actorSlices = slices.Where(e => e.GetProperty("pid").GetInt32() == Timeline.ActorsPid).ToArray();

        // Processes "actors" and "CPUs"; a named track for every actor that handled a message, and for CPUs 0 and 2.
        Assert.Equal(["actors", "CPUs"], events.Where(e => e.GetProperty("name").GetString() == "process_name")
            .Select(e => e.GetProperty("args").GetProperty("name").GetString()));
        Assert.Equal(deliveries.Select(d => d.Receiver).Distinct().Order(), tracks.Where(t => t.Key.Item1 == Timeline.ActorsPid).Select(t => t.Value).Order());
        Assert.Equal(["CPU 0", "CPU 2"], tracks.Where(t => t.Key.Item1 == Timeline.CpusPid).Select(t => t.Value).Order());
        Assert.Equal(deliveries.Count, actorSlices.Length);
        Assert.All(slices, s =>
        {
            Assert.True(tracks.ContainsKey((s.GetProperty("pid").GetInt32(), s.GetProperty("tid").GetInt32())));
            Assert.Equal(1, s.GetProperty("dur").GetInt32());
        });
        // Each flow has one start inside the sender's slice and one end at the receiver's slice, later.
        var flows = events.Where(e => e.TryGetProperty("cat", out var cat) && cat.GetString() == "flow").GroupBy(e => e.GetProperty("id").GetInt32()).ToArray();
        Assert.NotEmpty(flows);
        Assert.All(flows, f =>
        {
            var start = Assert.Single(f, e => e.GetProperty("ph").GetString() == "s");
            var end = Assert.Single(f, e => e.GetProperty("ph").GetString() == "f");
            Assert.Equal("e", end.GetProperty("bp").GetString());
            Assert.True(start.GetProperty("ts").GetDouble() < end.GetProperty("ts").GetDouble());
            Assert.Contains(actorSlices, s => s.GetProperty("tid").GetInt32() == start.GetProperty("tid").GetInt32()
                                              && s.GetProperty("ts").GetDouble() == Math.Floor(start.GetProperty("ts").GetDouble()));
            Assert.Contains(actorSlices, s => s.GetProperty("tid").GetInt32() == end.GetProperty("tid").GetInt32()
                                              && s.GetProperty("ts").GetDouble() == end.GetProperty("ts").GetDouble());
        });
    }

    [GeneratedRegex(@"^ *(?<task>\S+)-(?<pid>\d+) \[(?<cpu>\d{3})\] +(?<ts>\d+\.\d{6}): (?<event>[a-z_0-9]+): (?<fields>.*)$")]
    private static partial Regex FtraceLine();
}

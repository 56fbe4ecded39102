using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;

namespace ActorNuma.Simulation.Bench;

/// <summary>The raw Akka.NET rates of this machine, measured in the same bench run as the emulator's figures: one-way
/// Tells into one actor (a new message object per send, as the kernel's messages are) and strict ping-pong round trips
/// between two actors on the default dispatcher. They are the ceiling of a design in which work crosses actors, and
/// the emulator's rates are reported as a ratio to the first.</summary>
public sealed class RawAkka : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("bench-raw", ConfigurationFactory.ParseString("""
        akka.loglevel = ERROR
        akka.stdout-loglevel = ERROR
        akka.log-dead-letters = off
        """));

    private sealed class Hit;

    private sealed record Count(int Expected, TaskCompletionSource Done);

    private sealed class Counter : UntypedActor
    {
        private int _expected;
        private int _seen;
        private TaskCompletionSource? _done;

        protected override void OnReceive(object message)
        {
            if (message is Count c)
            {
                (_expected, _seen, _done) = (c.Expected, 0, c.Done);
                return;
            }
            if (++_seen == _expected)
            {
                _done!.SetResult();
            }
        }
    }

    private sealed record Serve(IActorRef Partner, int RoundTrips, TaskCompletionSource Done);

    private sealed class Ball;

    private sealed class Player : UntypedActor
    {
        private int _left;
        private TaskCompletionSource? _done;
        private IActorRef _partner = ActorRefs.Nobody;

        protected override void OnReceive(object message)
        {
            switch (message)
            {
                case Serve s:
                    (_partner, _left, _done) = (s.Partner, s.RoundTrips, s.Done);
                    _partner.Tell(new Ball());
                    break;
                case Ball when _done is null:
                    Sender.Tell(new Ball()); // the receiving side of the pair
                    break;
                case Ball:
                    if (--_left == 0)
                    {
                        _done.SetResult();
                    }
                    else
                    {
                        _partner.Tell(new Ball());
                    }

                    break;
            }
        }
    }

    /// <summary>One-way Tells per second: <paramref name="messages"/> sent from this thread to one actor.</summary>
    public Figure OneWay(int messages)
    {
        var counter = _system.ActorOf(Props.Create(() => new Counter()));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        counter.Tell(new Count(messages, done));
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < messages; i++)
        {
            counter.Tell(new Hit());
        }

        done.Task.Wait();
        var elapsed = clock.Elapsed;
        _system.Stop(counter);
        return new Figure("akka one-way tell/s", messages / elapsed.TotalSeconds, "msg/s",
            $"{messages} Tells of a new object from one thread into one actor, default dispatcher");
    }

    /// <summary>Round trips per second between two actors, one ball in flight.</summary>
    public Figure PingPong(int roundTrips)
    {
        var ping = _system.ActorOf(Props.Create(() => new Player()));
        var pong = _system.ActorOf(Props.Create(() => new Player()));
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        ping.Tell(new Serve(pong, roundTrips, done));
        done.Task.Wait();
        var elapsed = clock.Elapsed;
        _system.Stop(ping);
        _system.Stop(pong);
        return new Figure("akka ping-pong round trips/s", roundTrips / elapsed.TotalSeconds, "rt/s",
            $"{roundTrips} round trips, 1 pair, 1 message in flight (2 messages each)");
    }

    public void Dispose() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));
}

using ActorNuma.Kernel;
using ActorNuma.Simulation.Scheduling;
using Akka.Actor;

namespace ActorNuma.Simulation.Tests.Scheduling;

/// <summary>
/// Small actors for the scheduling specs. They write to a <see cref="List{T}"/> handed in by the test: all of
/// them run on the pump, which is the test's own thread, so no synchronisation is needed.
/// </summary>
internal static class SchedulingTestActors
{
    public sealed record Go;

    /// <summary>Creates <paramref name="racers"/> racers and a recorder as kernel children, then starts the race.</summary>
    public sealed class RaceRoot(int racers, int messagesEach, List<string> arrivals) : ReceiveActor
    {
        protected override void PreStart()
        {
            var recorder = Context.ActorOf(Props.Create(() => new Recorder(arrivals)).OnKernelDispatcher(), "recorder");
            for (var i = 0; i < racers; i++)
            {
                var name = ((char)('A' + i)).ToString();
                var props = Props.Create(() => new Racer(name, messagesEach, recorder)).OnKernelDispatcher();
                Context.ActorOf(props, name).Tell(new Go());
            }
        }
    }

    /// <summary>Sends one message per step to the recorder, continuing by telling itself.</summary>
    public sealed class Racer : ReceiveActor
    {
        public Racer(string name, int count, IActorRef recorder)
        {
            var sent = 0;
            Receive<Go>(_ =>
            {
                recorder.Tell(name);
                if (++sent < count)
                {
                    Self.Tell(new Go());
                }
            });
        }
    }

    public sealed class Recorder : ReceiveActor
    {
        public Recorder(List<string> arrivals) => Receive<string>(arrivals.Add);
    }

    /// <summary>"key@ms": the label and the virtual milliseconds since the epoch at which it was processed.</summary>
    public static string Stamp(string label, ActorSystem system) =>
        $"{label}@{(system.Scheduler.Now - VirtualTimeScheduler.Epoch).TotalMilliseconds}";

    public sealed record Cancel(string Key);

    /// <summary>A named timer and its delay or interval in virtual milliseconds.</summary>
    public sealed record TimerSpec(string Key, int Millis);

    /// <summary>Starts single-shot timers in PreStart and logs each firing with its virtual time.</summary>
    public sealed class SingleTimers : ReceiveActor, IWithTimers
    {
        private readonly TimerSpec[] _timers;

        public SingleTimers(List<string> log, params TimerSpec[] timers)
        {
            _timers = timers;
            Receive<string>(key => log.Add(Stamp(key, Context.System)));
            Receive<Cancel>(cancel => Timers.Cancel(cancel.Key));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart()
        {
            foreach (var timer in _timers)
            {
                Timers.StartSingleTimer(timer.Key, timer.Key, TimeSpan.FromMilliseconds(timer.Millis));
            }
        }
    }

    /// <summary>Starts periodic timers in PreStart and logs each tick with its virtual time.</summary>
    public sealed class PeriodicTimers : ReceiveActor, IWithTimers
    {
        private readonly TimerSpec[] _timers;

        public PeriodicTimers(List<string> log, params TimerSpec[] timers)
        {
            _timers = timers;
            Receive<string>(key => log.Add(Stamp(key, Context.System)));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart()
        {
            foreach (var timer in _timers)
            {
                Timers.StartPeriodicTimer(timer.Key, timer.Key, TimeSpan.FromMilliseconds(timer.Millis));
            }
        }
    }

    /// <summary>Creates kernel children that each tick every millisecond on a periodic timer.</summary>
    public sealed class TimerRoot(List<string> log, int children) : ReceiveActor
    {
        protected override void PreStart()
        {
            for (var i = 0; i < children; i++)
            {
                var key = ((char)('A' + i)).ToString();
                Context.ActorOf(Props.Create(() => new PeriodicTimers(log, new TimerSpec(key, 1))).OnKernelDispatcher());
            }
        }
    }

    /// <summary>Works through a chain of self-messages, one per step, while a timer is pending.</summary>
    public sealed class BusyWithTimer : ReceiveActor, IWithTimers
    {
        private readonly int _timerMillis;

        public BusyWithTimer(List<string> log, int chainLength, int timerMillis)
        {
            _timerMillis = timerMillis;
            var done = 0;
            Receive<Go>(_ =>
            {
                log.Add(Stamp("work", Context.System));
                if (++done < chainLength)
                {
                    Self.Tell(new Go());
                }
            });
            Receive<string>(key => log.Add(Stamp(key, Context.System)));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() =>
            Timers.StartSingleTimer("timer", "timer", TimeSpan.FromMilliseconds(_timerMillis));
    }

    /// <summary>Never goes idle: every message makes another.</summary>
    public sealed class Livelock : ReceiveActor
    {
        public Livelock() => Receive<Go>(go => Self.Tell(go));
    }

    /// <summary>Counts what it receives, into a shared list.</summary>
    public sealed class Counter : ReceiveActor
    {
        public Counter(List<object> received) => ReceiveAny(received.Add);
    }

    /// <summary>Stops itself on any message.</summary>
    public sealed class Stopper : ReceiveActor
    {
        public Stopper() => ReceiveAny(_ => Context.Stop(Self));
    }

    /// <summary>Logs the id of the dispatcher it runs on, and creates children to log theirs. The plain child runs
    /// on the thread pool, hence the lock.</summary>
    public sealed class DispatcherReporter : ReceiveActor
    {
        public DispatcherReporter(List<string> log)
        {
            Receive<string>(name =>
            {
                lock (log)
                {
                    log.Add($"{name}:{Context.Dispatcher.Id}");
                }
            });
            Receive<Go>(_ =>
            {
                var kernelChild = Props.Create(() => new DispatcherReporter(log)).OnKernelDispatcher();
                var plainChild = Props.Create(() => new DispatcherReporter(log));
                Context.ActorOf(kernelChild, "kernel-child").Tell("kernel-child");
                Context.ActorOf(plainChild, "plain-child").Tell("plain-child");
            });
        }
    }

    /// <summary>Answers any message with "pong".</summary>
    public sealed class Ponger : ReceiveActor
    {
        public Ponger() => ReceiveAny(_ => Sender.Tell("pong"));
    }
}

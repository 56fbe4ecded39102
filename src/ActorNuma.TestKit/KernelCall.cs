using System.Runtime.CompilerServices;
using Akka.Actor;

namespace ActorNuma.TestKit;

/// <summary>
/// A request sent to the emulated kernel, awaiting its reply. The request is told at once; awaiting it (or reading
/// <see cref="Result"/>) in the deterministic mode runs the machine on the test's thread, one seeded step at a time and
/// moving virtual time when nothing is runnable, until the reply is in. So two calls started before either is awaited
/// race each other under the schedule:
/// <code>
/// var touch = Kernel.Touch(app, range);
/// var move = Kernel.MigratePages(daemon, app, from: [0], to: [1]);
/// var (t, m) = (await touch, await move);
/// </code>
/// In the concurrent mode awaiting is an ordinary asynchronous wait, bounded by <see cref="EmulatedMachine.CallTimeout"/>.
/// </summary>
/// <typeparam name="T">The typed reply.</typeparam>
public readonly struct KernelCall<T>
{
    private readonly EmulatedMachine _machine;
    private readonly Task<T> _reply;

    internal KernelCall(EmulatedMachine machine, Task<T> reply, string what)
    {
        _machine = machine;
        _reply = reply;
        What = what;
    }

    /// <summary>What was asked, for messages ("mbind(app (pid 2), 0x10000000+16 pages, ...)").</summary>
    public string What { get; }

    /// <summary>Whether the reply is in (never runs the machine).</summary>
    public bool IsAnswered => _reply.IsCompleted;

    /// <summary>Waits for the reply (running the machine in the deterministic mode) and returns it.</summary>
    /// <exception cref="KernelTestException">No reply: the machine went idle without answering (deterministic), or the
    /// call timed out (concurrent).</exception>
    public T Result
    {
        get
        {
            _machine.WaitFor(_reply, What);
            return _reply.GetAwaiter().GetResult();
        }
    }

    /// <summary>The reply as a task; in the deterministic mode it completes only while something runs the machine.</summary>
    /// <returns>The reply's task.</returns>
    public Task<T> AsTask() => _reply;

    /// <summary>Makes the call awaitable.</summary>
    /// <returns>An awaiter that runs the machine when asked whether the reply is in.</returns>
    public Awaiter GetAwaiter() => new(this);

    /// <summary>The awaiter of a <see cref="KernelCall{T}"/>.</summary>
    public readonly struct Awaiter : ICriticalNotifyCompletion
    {
        private readonly KernelCall<T> _call;

        internal Awaiter(KernelCall<T> call) => _call = call;

        /// <summary>Deterministic mode: runs the machine until the reply is in (always true afterwards). Concurrent
        /// mode: whether the reply is in.</summary>
        public bool IsCompleted
        {
            get
            {
                if (_call._machine.IsDeterministic)
                {
                    _call._machine.WaitFor(_call._reply, _call.What);
                }

                return _call._reply.IsCompleted;
            }
        }

        /// <summary>The reply, or the exception that replaced it.</summary>
        /// <returns>The reply.</returns>
        public T GetResult() => _call.Result;

        /// <inheritdoc />
        public void OnCompleted(Action continuation) => _call._machine.Bounded(_call._reply, _call.What).GetAwaiter().OnCompleted(continuation);

        /// <inheritdoc />
        public void UnsafeOnCompleted(Action continuation) => _call._machine.Bounded(_call._reply, _call.What).GetAwaiter().UnsafeOnCompleted(continuation);
    }
}

/// <summary>The emulated kernel did not do what a test needed (no reply, a failed assertion); the message says what,
/// with the schedule's seed and strategy.</summary>
public sealed class KernelTestException : Xunit.Sdk.XunitException
{
    /// <summary>A failure with a readable message.</summary>
    /// <param name="message">What went wrong, on one or a few lines.</param>
    public KernelTestException(string message) : base(message)
    {
    }
}

/// <summary>An <see cref="IActorRef"/> that completes a task with the first message told to it, converted on the thread
/// that tells it (the pump's, in the deterministic mode), so the reply is in as soon as the step that sent it returns.
/// Unlike <c>Ask</c>, no continuation runs on the thread pool.</summary>
internal sealed class ReplySlot<T> : MinimalActorRef
{
    private readonly TaskCompletionSource<T> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Func<object, T> _convert;

    public ReplySlot(ActorSystem system, Func<object, T> convert)
    {
        Provider = ((ExtendedActorSystem)system).Provider;
        Path = Provider.TempPath();
        _convert = convert;
    }

    public override ActorPath Path { get; }

    public override IActorRefProvider Provider { get; }

    public Task<T> Reply => _reply.Task;

    protected override void TellInternal(object message, IActorRef sender)
    {
        if (_reply.Task.IsCompleted)
        {
            return;
        }

        try
        {
            _reply.TrySetResult(_convert(message));
        }
        catch (Exception e)
        {
            _reply.TrySetException(e);
        }
    }
}

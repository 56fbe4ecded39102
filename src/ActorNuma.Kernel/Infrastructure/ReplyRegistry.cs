namespace ActorNuma.Kernel;

/// <summary>A request whose answer comes back asynchronously: the token its reply (or replies) will carry. The token is
/// the requester's; a request forwarded on (an allocation walking the zonelist, a swap-cache hit sent to the page's
/// node) keeps it.</summary>
public interface IKernelRequest
{
    long Token { get; }
}

/// <summary>An answer to an <see cref="IKernelRequest"/>: the requester's <see cref="ReplyRegistry"/> finds what waits for
/// it by <see cref="Token"/>.</summary>
public interface IKernelReply
{
    long Token { get; }
}

/// <summary>A state the emulated kernel cannot reach (the BUG_ON of the kernel): the actor stops and the run reports it.</summary>
public sealed class KernelBugException(string message) : InvalidOperationException(message);

/// <summary>What one actor has asked of others and not yet heard back, by token. Each token waits for a reply type (an
/// interface when a request has several possible answers) and either a continuation or a state object:
/// <list type="bullet">
/// <item><see cref="Expect{TReply}(System.Action{TReply})"/> and its overloads register a continuation that
/// <see cref="Deliver"/> runs with the typed reply (once, a fixed number of times, or until it says it is done);</item>
/// <item><see cref="Open{TState}"/> registers a state (a batch in progress) that the actor looks up with
/// <see cref="State{TState}"/> for every reply naming the token, until <see cref="Close"/>.</item>
/// </list>
/// A reply for a token nothing waits for, of a type its token does not wait for, or routed to a state of another kind is a
/// <see cref="KernelBugException"/> naming the actor, the message and the token: a new reply type cannot fall through
/// to the wrong handler unnoticed.</summary>
/// <remarks>On the hot path (swapout passes, faults): an entry is a struct in one dictionary; the typed call of a
/// continuation goes through one static delegate per reply type, so a request costs its continuation (if the caller
/// makes one) and nothing else.</remarks>
public sealed class ReplyRegistry(string owner)
{
    private struct Entry
    {
        /// <summary>The reply type (or interface) the token waits for.</summary>
        public Type Expected;
        /// <summary>The continuation, or the state of an <see cref="Open{TState}"/> token.</summary>
        public object Target;
        /// <summary>Calls the continuation with the typed reply and says whether the token is done; null for a state.</summary>
        public Func<object, IKernelReply, bool>? Invoke;
        /// <summary>Replies still expected (counted continuations); 0 when the continuation decides.</summary>
        public int Left;
    }

    private readonly Dictionary<long, Entry> _pending = new();
    private long _last;

    /// <summary>The actor this registry belongs to, as BUG messages name it.</summary>
    public string Owner { get; } = owner;

    /// <summary>Tokens waiting for replies (for the liveness report).</summary>
    public int Count => _pending.Count;

    /// <summary>A fresh token of this actor (also for work that is not a request, such as a timer of its own).</summary>
    public long NextToken() => ++_last;

    /// <summary>One reply of type <typeparamref name="TReply"/> will come; <paramref name="then"/> handles it.</summary>
    public long Expect<TReply>(Action<TReply> then) where TReply : IKernelReply =>
        Add(typeof(TReply), then, Invoker<TReply>.Counted, left: 1);

    /// <summary><paramref name="replies"/> replies will come (at least one); <paramref name="then"/> handles each.</summary>
    public long Expect<TReply>(int replies, Action<TReply> then) where TReply : IKernelReply
    {
        if (replies < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(replies), $"{Owner}: a request waits for at least one reply");
        }

        return Add(typeof(TReply), then, Invoker<TReply>.Counted, replies);
    }

    /// <summary>Replies come until <paramref name="then"/> returns true (the answers of a batch that several actors
    /// share out, each answering for its part).</summary>
    public long ExpectUntil<TReply>(Func<TReply, bool> then) where TReply : IKernelReply =>
        Add(typeof(TReply), then, Invoker<TReply>.Until, left: 0);

    /// <summary>Registers a batch in progress: replies naming the token find it with <see cref="State{TState}"/>.</summary>
    public long Open<TState>(TState state) where TState : class => Add(typeof(IKernelReply), state, null, left: 0);

    /// <summary>The state that <paramref name="reply"/>'s token was opened with.</summary>
    public TState State<TState>(IKernelReply reply) where TState : class
    {
        var entry = Find(reply);
        if (entry.Invoke is null && entry.Target is TState state)
        {
            return state;
        }

        throw Bug(reply, entry.Invoke is null
            ? $"which belongs to a {entry.Target.GetType().Name}, not a {typeof(TState).Name}"
            : $"which waits for a {entry.Expected.Name} continuation, not a {typeof(TState).Name}");
    }

    /// <summary>The state of <paramref name="reply"/>'s token, whatever its kind (the actor switches on it).</summary>
    public object State(IKernelReply reply)
    {
        var entry = Find(reply);
        if (entry.Invoke is null)
        {
            return entry.Target;
        }

        throw Bug(reply, $"which waits for a {entry.Expected.Name} continuation, not a state");
    }

    /// <summary>Whether <paramref name="token"/> still waits.</summary>
    public bool IsOpen(long token) => _pending.ContainsKey(token);

    /// <summary>Ends an <see cref="Open{TState}"/> token: no more replies may name it.</summary>
    public void Close(long token)
    {
        if (!_pending.Remove(token))
        {
            throw new KernelBugException($"{Owner}: token {token} closed twice");
        }
    }

    /// <summary>Runs the continuation <paramref name="reply"/>'s token waits for; the token is forgotten once its last
    /// reply is in.</summary>
    public void Deliver(IKernelReply reply)
    {
        var token = reply.Token;
        var entry = Find(reply);
        if (entry.Invoke is null)
        {
            throw Bug(reply, $"which belongs to a {entry.Target.GetType().Name}");
        }

        if (!entry.Expected.IsInstanceOfType(reply))
        {
            throw Bug(reply, $"which waits for a {entry.Expected.Name}");
        }

        if (entry.Left > 0)
        {
            if (--entry.Left == 0)
            {
                _pending.Remove(token);
            }
            else
            {
                _pending[token] = entry;
            }

            entry.Invoke(entry.Target, reply);
            return;
        }
        if (entry.Invoke(entry.Target, reply))
        {
            _pending.Remove(token);
        }
    }

    private long Add(Type expected, object target, Func<object, IKernelReply, bool>? invoke, int left)
    {
        var token = NextToken();
        _pending.Add(token, new Entry { Expected = expected, Target = target, Invoke = invoke, Left = left });
        return token;
    }

    private Entry Find(IKernelReply reply) =>
        _pending.TryGetValue(reply.Token, out var entry) ? entry : throw Bug(reply, "which nothing waits for");

    private KernelBugException Bug(IKernelReply reply, string why) =>
        new($"{Owner}: unexpected {reply.GetType().Name} for token {reply.Token}, {why}");

    /// <summary>A message that is neither a request the actor serves nor a reply: the BUG every actor's default case
    /// raises.</summary>
    public KernelBugException Unexpected(object message) => new($"{Owner}: unexpected {message.GetType().Name}");

    /// <summary>The typed calls, one pair of static delegates per reply type (no allocation per request).</summary>
    private static class Invoker<TReply> where TReply : IKernelReply
    {
        public static readonly Func<object, IKernelReply, bool> Counted = static (then, reply) =>
        {
            ((Action<TReply>)then)((TReply)reply);
            return false;
        };

        public static readonly Func<object, IKernelReply, bool> Until = static (then, reply) => ((Func<TReply, bool>)then)((TReply)reply);
    }
}

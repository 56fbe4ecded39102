namespace ActorNuma.Kernel.Tests.Infrastructure;

/// <summary><see cref="ReplyRegistry"/>: every reply finds what waits for its token by type, and a reply nothing waits
/// for (or of the wrong type, or routed to a state of another kind) is a kernel BUG naming the actor, the message and the
/// token.</summary>
public sealed class ReplyRegistrySpec
{
    private sealed record Answer(long Token, int Value) : IKernelReply;

    private sealed record OtherAnswer(long Token) : IKernelReply;

    private interface IEitherAnswer : IKernelReply;

    private sealed record Left(long Token) : IEitherAnswer;

    private sealed record Right(long Token) : IEitherAnswer;

    private sealed class Batch;

    private sealed class OtherBatch;

    [Fact]
    public void A_reply_runs_its_tokens_continuation_with_the_typed_message_once_and_the_token_is_then_forgotten()
    {
        var registry = new ReplyRegistry("task 3");
        var seen = new List<int>();
        var token = registry.Expect<Answer>(a => seen.Add(a.Value));

        registry.Deliver(new Answer(token, 42));

        Assert.Equal([42], seen);
        Assert.Equal(0, registry.Count);
        var bug = Assert.Throws<KernelBugException>(() => registry.Deliver(new Answer(token, 43)));
        Assert.Equal($"task 3: unexpected Answer for token {token}, which nothing waits for", bug.Message);
    }

    [Fact]
    public void A_counted_request_stays_open_until_its_last_reply()
    {
        var registry = new ReplyRegistry("task 1");
        var replies = 0;
        var token = registry.Expect<Answer>(3, _ => replies++);

        registry.Deliver(new Answer(token, 1));
        registry.Deliver(new Answer(token, 2));
        Assert.True(registry.IsOpen(token));
        registry.Deliver(new Answer(token, 3));

        Assert.Equal((3, false, 0), (replies, registry.IsOpen(token), registry.Count));
    }

    [Fact]
    public void A_request_with_several_answer_types_takes_each_through_their_interface_until_the_continuation_is_done()
    {
        var registry = new ReplyRegistry("task 1");
        var kinds = new List<string>();
        var token = registry.ExpectUntil<IEitherAnswer>(r =>
        {
            kinds.Add(r.GetType().Name);
            return kinds.Count == 2;
        });

        registry.Deliver(new Right(token));
        registry.Deliver(new Left(token));

        Assert.Equal(["Right", "Left"], kinds);
        Assert.False(registry.IsOpen(token));
    }

    [Fact]
    public void A_reply_of_another_type_than_its_token_waits_for_is_a_bug_and_leaves_the_token_waiting()
    {
        var registry = new ReplyRegistry("node 0");
        var token = registry.Expect<Answer>(_ => { });

        var bug = Assert.Throws<KernelBugException>(() => registry.Deliver(new OtherAnswer(token)));

        Assert.Equal($"node 0: unexpected OtherAnswer for token {token}, which waits for a Answer", bug.Message);
        Assert.True(registry.IsOpen(token));
    }

    [Fact]
    public void A_batch_opened_under_a_token_is_found_by_every_reply_naming_it_until_it_is_closed()
    {
        var registry = new ReplyRegistry("node 1");
        var batch = new Batch();
        var token = registry.Open(batch);

        Assert.Same(batch, registry.State<Batch>(new Answer(token, 0)));
        Assert.Same(batch, registry.State(new OtherAnswer(token)));
        registry.Close(token);

        Assert.Equal(0, registry.Count);
        Assert.Throws<KernelBugException>(() => registry.State<Batch>(new Answer(token, 0)));
    }

    [Fact]
    public void A_reply_routed_to_a_batch_of_another_kind_is_a_bug_naming_both()
    {
        var registry = new ReplyRegistry("node 1");
        var token = registry.Open(new OtherBatch());

        var bug = Assert.Throws<KernelBugException>(() => registry.State<Batch>(new Answer(token, 0)));

        Assert.Equal($"node 1: unexpected Answer for token {token}, which belongs to a OtherBatch, not a Batch", bug.Message);
    }

    [Fact]
    public void Tokens_increase_from_one_and_are_shared_by_requests_and_batches()
    {
        var registry = new ReplyRegistry("kswapd0");

        Assert.Equal([1L, 2L, 3L], [registry.Expect<Answer>(_ => { }), registry.Open(new Batch()), registry.NextToken()]);
    }
}

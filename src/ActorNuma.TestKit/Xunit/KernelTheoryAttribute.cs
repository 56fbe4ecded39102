using System.Globalization;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ActorNuma.TestKit;

/// <summary>
/// A theory whose rows are schedules: with <see cref="SeedsAttribute"/>, each seed is a test case that boots its
/// machine under that seed (<see cref="KernelSchedule.Current"/>) and the chosen <see cref="Strategy"/>. A failing case
/// is named by its seed (<c>Method(seed: 17)</c>) and its message starts with the line that replays it alone.
/// </summary>
/// <example><code>
/// [KernelTheory, Seeds(1, 200)]
/// public async Task Balancer_decisions_hold(int seed) { var machine = Boot(...); ... }
/// </code></example>
[XunitTestCaseDiscoverer("ActorNuma.TestKit.KernelTheoryDiscoverer", "ActorNuma.TestKit")]
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class KernelTheoryAttribute : TheoryAttribute
{
    /// <summary>How each seed becomes a schedule: random (default) or PCT.</summary>
    public ScheduleStrategy Strategy { get; set; } = ScheduleStrategy.Random;

    /// <summary>PCT's depth d.</summary>
    public int PctDepth { get; set; } = 3;

    /// <summary>PCT's k: change points fall in the first k steps (about the steps one schedule runs).</summary>
    public long PctSteps { get; set; } = 2000;
}

/// <summary>
/// The seeds of a <see cref="KernelTheoryAttribute"/> (or any theory with an <c>int seed</c> first parameter):
/// <c>[Seeds(1, 200)]</c> for 1..200, <c>[Seeds(17)]</c> for one. The environment variable
/// <see cref="EnvironmentVariable"/> (<c>17</c>, <c>1-50</c> or <c>3,9,17</c>) overrides every range, to replay one
/// schedule from the command line.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class SeedsAttribute : DataAttribute
{
    /// <summary>The variable that overrides the seeds of every <see cref="SeedsAttribute"/> in the run.</summary>
    public const string EnvironmentVariable = "ACTORNUMA_SEEDS";

    /// <summary>Seeds <paramref name="from"/>..<paramref name="to"/>, both included.</summary>
    /// <param name="from">First seed.</param>
    /// <param name="to">Last seed.</param>
    public SeedsAttribute(int from, int to)
    {
        if (to < from)
        {
            throw new ArgumentOutOfRangeException(nameof(to), to, $"the last seed is below the first ({from})");
        }

        From = from;
        To = to;
    }

    /// <summary>One seed.</summary>
    /// <param name="seed">The seed.</param>
    public SeedsAttribute(int seed) : this(seed, seed)
    {
    }

    /// <summary>The first seed.</summary>
    public int From { get; }

    /// <summary>The last seed.</summary>
    public int To { get; }

    /// <inheritdoc />
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) =>
        (Override(Environment.GetEnvironmentVariable(EnvironmentVariable)) ?? Enumerable.Range(From, To - From + 1))
        .Select(seed => new object[] { seed });

    /// <summary>Parses <c>17</c>, <c>1-50</c> or <c>3,9,17</c>; null when unset.</summary>
    internal static IEnumerable<int>? Override(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var seeds = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', 1);
            if (dash > 0 && int.TryParse(part[..dash], NumberStyles.Integer, CultureInfo.InvariantCulture, out var a)
                         && int.TryParse(part[(dash + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var b) && b >= a)
            {
                seeds.AddRange(Enumerable.Range(a, b - a + 1));
            }
            else if (int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var one))
            {
                seeds.Add(one);
            }
            else
            {
                throw new ArgumentException($"{EnvironmentVariable}='{text}': '{part}' is not a seed or a range like 1-50");
            }
        }
        return seeds;
    }
}

/// <summary>Discovers a <see cref="KernelTheoryAttribute"/>'s cases: one <see cref="KernelTheoryTestCase"/> per data row.</summary>
public sealed class KernelTheoryDiscoverer : TheoryDiscoverer
{
    /// <summary>Called by xUnit.</summary>
    /// <param name="diagnosticMessageSink">xUnit's diagnostics.</param>
    public KernelTheoryDiscoverer(IMessageSink diagnosticMessageSink) : base(diagnosticMessageSink)
    {
    }

    /// <inheritdoc />
    protected override IEnumerable<IXunitTestCase> CreateTestCasesForDataRow(ITestFrameworkDiscoveryOptions discoveryOptions,
        ITestMethod testMethod, IAttributeInfo theoryAttribute, object[] dataRow) =>
    [
        new KernelTheoryTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(),
            discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, dataRow,
            theoryAttribute.GetNamedArgument<ScheduleStrategy>(nameof(KernelTheoryAttribute.Strategy)),
            theoryAttribute.GetNamedArgument<int?>(nameof(KernelTheoryAttribute.PctDepth)) ?? 3,
            theoryAttribute.GetNamedArgument<long?>(nameof(KernelTheoryAttribute.PctSteps)) ?? 2000),
    ];
}

/// <summary>One schedule of a <see cref="KernelTheoryAttribute"/>: runs the test with <see cref="KernelSchedule.Current"/>
/// set to its schedule, and starts a failure's message with the seed and the command that replays it alone.</summary>
public sealed class KernelTheoryTestCase : XunitTestCase
{
    private ScheduleStrategy _strategy;
    private int _pctDepth;
    private long _pctSteps;

    /// <summary>For xUnit's deserializer only.</summary>
    [Obsolete("Called by the de-serializer; should only be called by deriving classes for de-serialization purposes")]
    public KernelTheoryTestCase()
    {
    }

    /// <summary>A case for one data row.</summary>
    /// <param name="diagnosticMessageSink">xUnit's diagnostics.</param>
    /// <param name="defaultMethodDisplay">How methods are named.</param>
    /// <param name="defaultMethodDisplayOptions">Naming options.</param>
    /// <param name="testMethod">The test method.</param>
    /// <param name="testMethodArguments">The row: the seed first.</param>
    /// <param name="strategy">The schedule strategy.</param>
    /// <param name="pctDepth">PCT's depth.</param>
    /// <param name="pctSteps">PCT's k.</param>
    public KernelTheoryTestCase(IMessageSink diagnosticMessageSink, TestMethodDisplay defaultMethodDisplay,
        TestMethodDisplayOptions defaultMethodDisplayOptions, ITestMethod testMethod, object[] testMethodArguments,
        ScheduleStrategy strategy, int pctDepth, long pctSteps)
        : base(diagnosticMessageSink, defaultMethodDisplay, defaultMethodDisplayOptions, testMethod, testMethodArguments)
    {
        _strategy = strategy;
        _pctDepth = pctDepth;
        _pctSteps = pctSteps;
    }

    /// <summary>The schedule this case runs under.</summary>
    public KernelSchedule Schedule => new(TestMethodArguments is [int seed, ..] ? seed : 1, _strategy, _pctDepth, _pctSteps);

    /// <summary>The line that replays this case alone.</summary>
    public string ReplayCommand
    {
        get
        {
            var method = $"{TestMethod.TestClass.Class.Name}.{TestMethod.Method.Name}";
            return $"{SeedsAttribute.EnvironmentVariable}={Schedule.Seed} dotnet test --filter \"FullyQualifiedName={method}\"   (or [Seeds({Schedule.Seed})] on the test)";
        }
    }

    /// <inheritdoc />
    public override async Task<RunSummary> RunAsync(IMessageSink diagnosticMessageSink, IMessageBus messageBus,
        object[] constructorArguments, ExceptionAggregator aggregator, CancellationTokenSource cancellationTokenSource)
    {
        var schedule = Schedule;
        KernelSchedule.Current = schedule;
        try
        {
            var note = $"Schedule {schedule} failed. Replay it alone:{Environment.NewLine}  {ReplayCommand}{Environment.NewLine}";
            using var bus = new ReplayNamingBus(messageBus, note);
            return await base.RunAsync(diagnosticMessageSink, bus, constructorArguments, aggregator, cancellationTokenSource).ConfigureAwait(false);
        }
        finally
        {
            KernelSchedule.Current = null;
        }
    }

    /// <inheritdoc />
    public override void Serialize(IXunitSerializationInfo data)
    {
        base.Serialize(data);
        data.AddValue("Strategy", (int)_strategy);
        data.AddValue("PctDepth", _pctDepth);
        data.AddValue("PctSteps", _pctSteps);
    }

    /// <inheritdoc />
    public override void Deserialize(IXunitSerializationInfo data)
    {
        base.Deserialize(data);
        _strategy = (ScheduleStrategy)data.GetValue<int>("Strategy");
        _pctDepth = data.GetValue<int>("PctDepth");
        _pctSteps = data.GetValue<long>("PctSteps");
    }

    /// <summary>Puts the schedule and the replay line in front of a failed test's message.</summary>
    private sealed class ReplayNamingBus(IMessageBus inner, string note) : IMessageBus
    {
        public bool QueueMessage(IMessageSinkMessage message)
        {
            if (message is ITestFailed f)
            {
                var messages = f.Messages.Select((m, i) => i == 0 ? note + m : m).ToArray();
                message = new TestFailed(f.Test, f.ExecutionTime, f.Output, f.ExceptionTypes, messages, f.StackTraces, f.ExceptionParentIndices);
            }
            return inner.QueueMessage(message);
        }

        public void Dispose()
        {
        }
    }
}

using System.Text;
using ActorNuma.Kernel;
using ActorNuma.Mm;

namespace ActorNuma.TestKit;

public sealed partial class EmulatedMachine
{
    /// <summary>
    /// Asserts where the pages of a range are: present pages per node (nodes not named must hold none), and
    /// optionally how many are in swap and how many are not mapped at all. Reads the task's page table at rest.
    /// </summary>
    /// <example><c>machine.AssertPages(app, range, node1: 16);</c></example>
    /// <param name="task">The task.</param>
    /// <param name="range">The range.</param>
    /// <param name="node0">Pages expected on node 0 (null: none unless another argument says otherwise).</param>
    /// <param name="node1">Pages expected on node 1.</param>
    /// <param name="node2">Pages expected on node 2.</param>
    /// <param name="node3">Pages expected on node 3.</param>
    /// <param name="swapped">Pages expected in swap (null: not checked).</param>
    /// <param name="notPresent">Pages expected neither present nor in swap (null: not checked).</param>
    /// <exception cref="KernelTestException">The placement differs; the message shows expected and found.</exception>
    public void AssertPages(TaskHandle task, PageRange range, long? node0 = null, long? node1 = null, long? node2 = null,
        long? node3 = null, long? swapped = null, long? notPresent = null)
    {
        var expected = new SortedDictionary<int, long>();
        foreach (var (node, n) in new[] { (0, node0), (1, node1), (2, node2), (3, node3) })
        {
            if (n is { } count && count != 0)
            {
                expected[node] = count;
            }
        }

        AssertPages(task, range, expected, swapped, notPresent);
    }

    /// <summary>As the other overload, for any number of nodes: <paramref name="perNode"/> lists every node that
    /// must hold pages; all others must hold none.</summary>
    /// <param name="task">The task.</param>
    /// <param name="range">The range.</param>
    /// <param name="perNode">Expected present pages by node.</param>
    /// <param name="swapped">Pages expected in swap (null: not checked).</param>
    /// <param name="notPresent">Pages expected neither present nor in swap (null: not checked).</param>
    /// <exception cref="KernelTestException">The placement differs.</exception>
    public void AssertPages(TaskHandle task, PageRange range, IReadOnlyDictionary<int, long> perNode, long? swapped = null, long? notPresent = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(perNode);
        Settle();
        var found = QueryPages(task, range).Result;
        var actual = found.PerNode.Where(kv => kv.Value != 0).ToDictionary(kv => kv.Key, kv => kv.Value);
        var want = perNode.Where(kv => kv.Value != 0).ToDictionary(kv => kv.Key, kv => kv.Value);
        var same = want.Count == actual.Count && want.All(kv => actual.TryGetValue(kv.Key, out var v) && v == kv.Value)
                   && (swapped is null || swapped == found.Swapped) && (notPresent is null || notPresent == found.NotPresent);
        if (same)
        {
            return;
        }

        var message = new StringBuilder()
            .Append("AssertPages: pages of ").Append(task).Append(" in ").Append(range).AppendLine(" differ")
            .Append("  expected: ").AppendLine(Describe(want, swapped, notPresent))
            .Append("  found:    ").AppendLine(Describe(actual, found.Swapped, found.NotPresent))
            .Append("  (").Append(Context).Append(')');
        throw new KernelTestException(message.ToString());
    }

    private static string Describe(IReadOnlyDictionary<int, long> perNode, long? swapped, long? notPresent)
    {
        var parts = perNode.OrderBy(kv => kv.Key).Select(kv => $"node{kv.Key}={kv.Value}").ToList();
        if (parts.Count == 0)
        {
            parts.Add("no present pages");
        }

        if (swapped is { } s)
        {
            parts.Add($"swapped={s}");
        }

        if (notPresent is { } n)
        {
            parts.Add($"not present={n}");
        }

        return string.Join(" ", parts);
    }

    /// <summary>Asserts /proc/vmstat counters (read at rest), by kernel name: <c>("pswpout", 16), ("pgmajfault", 16)</c>.</summary>
    /// <param name="expected">Counter names and values.</param>
    /// <exception cref="KernelTestException">A counter differs or does not exist; every mismatch is listed.</exception>
    public void AssertVmstat(params (string Counter, long Value)[] expected)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var vmstat = Vmstat();
        var wrong = new List<string>();
        foreach (var (counter, value) in expected)
        {
            if (!vmstat.TryGetValue(counter, out var actual))
            {
                wrong.Add($"  {counter}: no such counter (known: {string.Join(", ", vmstat.Keys.Where(k => k.StartsWith(counter[..Math.Min(3, counter.Length)], StringComparison.Ordinal)).DefaultIfEmpty("see /proc/vmstat names"))})");
            }
            else if (actual != value)
            {
                wrong.Add($"  {counter}: expected {value}, found {actual}");
            }
        }
        if (wrong.Count > 0)
        {
            throw new KernelTestException($"AssertVmstat: {wrong.Count} of {expected.Length} counters differ{Environment.NewLine}{string.Join(Environment.NewLine, wrong)}{Environment.NewLine}  ({Context})");
        }
    }

    /// <summary>Asserts that <paramref name="task"/>'s numa_maps has a line containing each of
    /// <paramref name="fragments"/> (one line must contain all of them): <c>AssertNumaMaps(app, "bind:1", "N1=16")</c>.</summary>
    /// <param name="task">The task.</param>
    /// <param name="fragments">Texts one line must contain.</param>
    /// <exception cref="KernelTestException">No line has them all; the message shows the file.</exception>
    public void AssertNumaMaps(TaskHandle task, params string[] fragments)
    {
        ArgumentNullException.ThrowIfNull(fragments);
        Settle();
        var lines = NumaMaps(task);
        if (lines.Any(l => fragments.All(f => l.Contains(f, StringComparison.Ordinal))))
        {
            return;
        }

        throw new KernelTestException(
            $"AssertNumaMaps: no line of {task}'s numa_maps contains all of [{string.Join(", ", fragments.Select(f => $"\"{f}\""))}]{Environment.NewLine}" +
            $"  numa_maps:{Environment.NewLine}{string.Join(Environment.NewLine, lines.Select(l => "    " + l).DefaultIfEmpty("    (empty)"))}{Environment.NewLine}  ({Context})");
    }

    /// <summary>Asserts that the invariant checkers find nothing at rest and no kernel BUG happened.</summary>
    /// <exception cref="KernelTestException">Findings; the message lists them and the last trace events.</exception>
    public void AssertCheckersClean()
    {
        var found = CheckerViolations();
        if (found.Count == 0)
        {
            return;
        }

        throw new KernelTestException(
            $"AssertCheckersClean: {found.Count} finding(s){Environment.NewLine}{string.Join(Environment.NewLine, found.Select(v => "  " + v))}{Environment.NewLine}" +
            $"  ({Context}){Environment.NewLine}  last trace events:{Environment.NewLine}{TraceTail(10)}");
    }

    /// <summary>Asserts that no WARN_ON fired.</summary>
    /// <exception cref="KernelTestException">Warnings fired; the message lists them.</exception>
    public void AssertNoWarnings()
    {
        var warnings = Warnings;
        if (warnings.Count == 0)
        {
            return;
        }

        throw new KernelTestException(
            $"AssertNoWarnings: {warnings.Count} WARN_ON(s) fired{Environment.NewLine}{string.Join(Environment.NewLine, warnings.Select(w => $"  {w.Site} pfn {w.Pfn}: {w.Message}"))}{Environment.NewLine}  ({Context})");
    }
}

/// <summary>Assertions on syscall results.</summary>
public static class SyscallResultAssertions
{
    /// <summary>Asserts the call succeeded (errno 0) and returns it.</summary>
    /// <param name="result">The result.</param>
    /// <param name="what">What was called, for the message.</param>
    /// <returns><paramref name="result"/>.</returns>
    /// <exception cref="KernelTestException">It failed; the message names the errno.</exception>
    public static NumaTask.SyscallResult ShouldSucceed(this NumaTask.SyscallResult result, string what = "the syscall")
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Errno == Errno.None ? result
            : throw new KernelTestException($"{what} failed: ret {result.Ret}, errno {result.Errno}");
    }

    /// <summary>Asserts the call failed with <paramref name="errno"/>.</summary>
    /// <param name="result">The result.</param>
    /// <param name="errno">The expected errno.</param>
    /// <param name="what">What was called, for the message.</param>
    /// <returns><paramref name="result"/>.</returns>
    /// <exception cref="KernelTestException">It succeeded or failed otherwise.</exception>
    public static NumaTask.SyscallResult ShouldFailWith(this NumaTask.SyscallResult result, Errno errno, string what = "the syscall")
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Errno == errno ? result
            : throw new KernelTestException($"{what}: expected errno {errno}, got ret {result.Ret}, errno {result.Errno}");
    }
}

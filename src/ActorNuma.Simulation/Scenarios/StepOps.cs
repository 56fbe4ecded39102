namespace ActorNuma.Simulation.Scenarios;

/// <summary>An op a step may name, the keys it takes (in the order they are checked when missing) and which of
/// them it requires.</summary>
internal sealed record StepOpInfo(string Name, StepOp Op, string[] Required, string[] Optional)
{
    /// <summary>Needs an address range: <c>pages</c> or <c>len</c>, exactly one.</summary>
    public bool NeedsRange => Optional.Contains("pages");

    public IReadOnlyList<string> Keys { get; } = ["op", .. Required, .. Optional];
}

internal static class StepOps
{
    private static readonly string[] Range = ["pages", "len"];
    private static readonly string[] Call = ["async", "expect"];
    private static readonly string[] Policy = ["maxnode", "nodemask"];

    public static readonly StepOpInfo[] All =
    [
        new("mmap", StepOp.Mmap, ["task", "addr"], [.. Range, .. Call]),
        new("munmap", StepOp.Munmap, ["task", "addr"], [.. Range, .. Call]),
        new("touch", StepOp.Touch, ["task", "addr"], [.. Range, "write", .. Call]),
        new("mbind", StepOp.Mbind, ["task", "addr", "mode"], [.. Range, "nodes", "flags", .. Policy, .. Call]),
        new("set_mempolicy", StepOp.SetMempolicy, ["task", "mode"], ["nodes", .. Policy, .. Call]),
        new("get_mempolicy", StepOp.GetMempolicy, ["task"], ["flags", "addr", .. Policy, .. Call]),
        new("sched_setaffinity", StepOp.SchedSetaffinity, ["task", "cpu"], Call),
        new("swapout", StepOp.Swapout, ["task", "addr"], [.. Range, .. Call]),
        new("exit", StepOp.Exit, ["task"], ["status", .. Call]),
        new("waitpid", StepOp.Waitpid, ["task"], ["pid", "nohang", .. Call]),
        new("wait", StepOp.Wait, [], []),
        new("advance", StepOp.Advance, ["time"], []),
        new("expect-pages", StepOp.ExpectPages, ["task", "addr"], [.. Range, "nodes", "swapped", "swapcache"]),
        new("expect-vmstat", StepOp.ExpectVmstat, [], []),
        new("fork", StepOp.Fork, ["task", "child"], Call),
        new("migrate_pages", StepOp.MigratePages, ["task", "pid"], ["old-nodes", "new-nodes", .. Policy, .. Call]),
        new("suspend", StepOp.Suspend, ["task"], Call),
        new("resume", StepOp.Resume, ["task"], Call),
        new("move_pages", StepOp.MovePages, ["task", "addrs"], ["pid", "to", "count", "flags", "fault", .. Call]),
        new("offline-node", StepOp.OfflineNode, ["task", "node"], Call),
        new("online-node", StepOp.OnlineNode, ["task", "node"], Call),
        new("inject-ecc", StepOp.InjectEcc, ["task", "node", "pfn"], Call),
    ];

    public static readonly (string Name, StepOpInfo Info)[] Choices = All.Select(o => (o.Name, o)).ToArray();

    /// <summary>The keys of expect {} on this op: get_mempolicy also returns a mode, a nodemask or a node.</summary>
    public static string[] ExpectKeys(StepOp op) =>
        op switch
        {
            StepOp.GetMempolicy => ["ret", "errno", "mode", "nodes", "node"],
            StepOp.MovePages => ["ret", "errno", "status"],
            _ => ["ret", "errno"],
        };
}

using ActorNuma.Mm;

namespace ActorNuma.Simulation.Scenarios;

/// <summary>The names a scenario may write for the mempolicy syscalls' arguments, and their kernel values.</summary>
internal static class SyscallNames
{
    /// <summary><c>MPOL_*</c> modes; "prefer" is accepted as the kernel's own spelling in /proc (mpol_to_str).</summary>
    public static readonly (string Name, int Value)[] Modes =
    [
        ("default", (int)MpolMode.Default), ("preferred", (int)MpolMode.Preferred), ("prefer", (int)MpolMode.Preferred),
        ("bind", (int)MpolMode.Bind), ("interleave", (int)MpolMode.Interleave),
    ];

    public const string ModeExpected = "default, preferred, bind, interleave or a number";

    /// <summary><c>MPOL_MF_*</c>, the flags of mbind.</summary>
    public static readonly (string Name, int Value)[] MbindFlags =
        [("strict", (int)MpolFlags.Strict), ("move", (int)MpolFlags.Move), ("move_all", (int)MpolFlags.MoveAll)];

    /// <summary><c>MPOL_F_*</c>, the flags of get_mempolicy.</summary>
    public static readonly (string Name, int Value)[] GetMempolicyFlags =
        [("node", (int)MpolGetFlags.Node), ("addr", (int)MpolGetFlags.Addr)];

    /// <summary>The only capability the model knows: CAP_SYS_NICE, which MOVE_ALL and moving another task's pages
    /// require.</summary>
    public static readonly (string Name, bool Value)[] Caps = [("sys_nice", true)];
}

using ActorNuma.Kernel;

namespace ActorNuma.Simulation.Checkers;

/// <summary>A checker's working arrays, kept from one check to the next: a soak checks after every round, so a checker
/// that rented or allocated its per-frame and per-slot arrays each time spent a share of the run on it. One spare set
/// per checker instance; a check that finds it taken (two machines checked at once through the shared
/// <see cref="InvariantCheckers.All"/>, as parallel tests do) makes its own, so two checks never share arrays.</summary>
internal sealed class CheckerScratch<T> where T : class, new()
{
    private T? _spare;

    /// <summary>The spare set, or a new one when another check holds it.</summary>
    public T Take() => Interlocked.Exchange(ref _spare, null) ?? new T();

    /// <summary>Keeps <paramref name="scratch"/> for the next check. A check that threw does not give its set back.</summary>
    public void Return(T scratch) => Volatile.Write(ref _spare, scratch);

    /// <summary>Runs <paramref name="check"/> (a checker's static body) with a set taken for it, then keeps the set.</summary>
    public void Check(KernelMachine machine, ICollection<string> violations, Action<KernelMachine, T, ICollection<string>> check)
    {
        var scratch = Take();
        check(machine, scratch, violations);
        Return(scratch);
    }
}

/// <summary>Sizing of the arrays a <see cref="CheckerScratch{T}"/> holds.</summary>
internal static class CheckerScratch
{
    /// <summary><paramref name="array"/> with room for <paramref name="length"/> elements, the first
    /// <paramref name="length"/> cleared; a new array when it has less room.</summary>
    public static TElement[] Cleared<TElement>(ref TElement[]? array, int length)
    {
        if (array is null || array.Length < length)
        {
            return array = new TElement[length];
        }

        Array.Clear(array, 0, length);
        return array;
    }

    /// <summary><paramref name="array"/> with room for <paramref name="length"/> elements, as the last check left them:
    /// for an array the check fills before it reads.</summary>
    public static TElement[] Sized<TElement>(ref TElement[]? array, int length) =>
        array is null || array.Length < length ? array = new TElement[length] : array;
}

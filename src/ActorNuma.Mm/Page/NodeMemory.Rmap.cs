namespace ActorNuma.Mm;

/// <summary>The node's frames, continued: the reverse map (<c>page_add_anon_rmap</c>, <c>page_remove_rmap</c>) and the
/// mapper sets read from it.</summary>
public sealed partial class NodeMemory
{
    // ---- reverse map -----------------------------------------------------------------------------------------

    /// <summary><c>page_add_anon_rmap()</c>: one more PTE maps the page, in <paramref name="task"/> at <paramref name="vpn"/>.</summary>
    public void AddRmap(int i, int task, uint vpn)
    {
        if (_mapcount[i] == 0)
        {
            _rmapTask[i] = task;
            _rmapVpn[i] = vpn;
        }
        else
        {
            if (_rmapVpn[i] != vpn)
            {
                throw new InvalidOperationException($"pfn {PfnOf(i)} mapped at two page offsets ({_rmapVpn[i]:x}, {vpn:x})");
            }

            _sharedRmap ??= new Dictionary<int, List<int>>();
            if (!_sharedRmap.TryGetValue(i, out var list))
            {
                _sharedRmap[i] = list = new List<int>(2);
            }

            list.Add(task);
        }
        if (_mapcount[i]++ == 0)
        {
            _nrMapped++;
        }
    }

    /// <summary><c>page_remove_rmap()</c> for the mapping in <paramref name="task"/>.</summary>
    public void RemoveRmap(int i, int task)
    {
        if (_mapcount[i] <= 0)
        {
            throw new InvalidOperationException($"page_remove_rmap: pfn {PfnOf(i)} not mapped (task {task} unmaps it)");
        }

        // Checked before anything changes, so the frame a BUG reports is the frame as it was.
        var shared = _sharedRmap is not null && _sharedRmap.TryGetValue(i, out var list) ? list : null;
        if (_rmapTask[i] != task && (shared is null || !shared.Contains(task)))
        {
            throw new InvalidOperationException($"page_remove_rmap: task {task} does not map pfn {PfnOf(i)}");
        }

        if (--_mapcount[i] == 0)
        {
            _nrMapped--;
        }

        if (shared is not null)
        {
            if (_rmapTask[i] == task)
            {
                _rmapTask[i] = shared[^1];
                shared.RemoveAt(shared.Count - 1);
            }
            else
            {
                shared.Remove(task);
            }

            if (shared.Count == 0)
            {
                _sharedRmap!.Remove(i);
            }
        }

        if (_mapcount[i] == 0)
        {
            _rmapTask[i] = 0;
        }
    }

    /// <summary>The page offset at which every mapper maps the page (anon pages keep their address across fork).</summary>
    public uint RmapVpn(int i) => _rmapVpn[i];

    /// <summary>Every task that maps the page: the anon_vma walk of <c>try_to_unmap_anon</c>. A struct, so the walk
    /// that every eviction does per page allocates nothing.</summary>
    public MapperSet Mappers(int i) => MappersOf(i, _sharedRmap is not null && _sharedRmap.TryGetValue(i, out var list) ? list : null);

    private MapperSet MappersOf(int i, List<int>? shared) => _mapcount[i] == 0 ? default : new MapperSet(_rmapTask[i], shared);

    /// <summary>The frames mapped by more than one task, each with its <see cref="Mappers"/>: <see cref="IReadOnlyNodeMemory.SharedMappers"/>.</summary>
    public readonly struct SharedMapperList(NodeMemory memory)
    {
        public Enumerator GetEnumerator() => new(memory);

        public struct Enumerator(NodeMemory memory)
        {
            private Dictionary<int, List<int>>.Enumerator _shared = (memory._sharedRmap ?? Empty).GetEnumerator();

            public readonly (int Frame, MapperSet Mappers) Current => (_shared.Current.Key, memory.MappersOf(_shared.Current.Key, _shared.Current.Value));

            public bool MoveNext() => _shared.MoveNext();
        }

        private static readonly Dictionary<int, List<int>> Empty = new();
    }

    /// <summary>The tasks that map one page: the first mapper, then the shared ones in the order they mapped it.</summary>
    public readonly struct MapperSet : IEnumerable<int>
    {
        private readonly int _first;
        private readonly List<int>? _more;
        private readonly bool _any;

        internal MapperSet(int first, List<int>? more) => (_first, _more, _any) = (first, more, true);

        public Enumerator GetEnumerator() => new(this);
        IEnumerator<int> IEnumerable<int>.GetEnumerator() => GetEnumerator();
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public struct Enumerator(MapperSet set) : IEnumerator<int>
        {
            private int _pos = -1;

            public readonly int Current => _pos == 0 ? set._first : set._more![_pos - 1];
            readonly object System.Collections.IEnumerator.Current => Current;

            public bool MoveNext()
            {
                if (!set._any)
                {
                    return false;
                }

                _pos++;
                return _pos == 0 || (set._more is not null && _pos - 1 < set._more.Count);
            }

            public void Reset() => _pos = -1;
            public readonly void Dispose() { }
        }
    }
}

namespace CuratedIndex.Features.Typosquat;

/// <summary>The folded forms of one name, computed once per target and once per checked name.</summary>
internal class Forms
{
    public Forms(string name)
    {
        Name = name;
        SeparatorFree = NameForms.SeparatorFree(name);
        Canonical = NameForms.HomoglyphCanonical(SeparatorFree);
        Core = NameForms.Core(name);
        Words = NameForms.SortedWords(name);
    }

    public string Name { get; }

    public string SeparatorFree { get; }

    public string Canonical { get; }

    public string Core { get; }

    public string? Words { get; }

    /// <summary>True when the name carries a language or packaging prefix or suffix ("py", "-python", "lib", …).</summary>
    public bool HasAffix => Core.Length != SeparatorFree.Length;
}

/// <summary>A name lookalikes may imitate; rank 0 marks one of the organization's own names.</summary>
internal sealed class Target(string name, int rank) : Forms(name)
{
    public int Rank { get; } = rank;
}

/// <summary>
/// Dictionaries from every folded form of the targets to the targets, plus a symmetric-delete index (each
/// separator-free name and every one-character deletion of it) so that all names within edit distance 1 of a
/// candidate are found by looking up the candidate and its own deletions.
/// </summary>
internal sealed class NameIndex
{
    // Below these lengths a likeness is scored 0 (TyposquatDetector.LengthFactor): no need to index them.
    private const int MinimumEditLength = 4;
    private const int MinimumCoreEditLength = TyposquatDetector.Weights.AffixTypoMinimumCore;

    private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);
    private readonly HashSet<string> _nameWords = new(StringComparer.Ordinal);
    private readonly MultiMap _separatorFree;
    private readonly MultiMap _canonical;
    private readonly MultiMap _core;
    private readonly MultiMap _words;
    private readonly MultiMap _deletions;
    private readonly MultiMap _coreDeletions;

    private NameIndex(Target[] targets)
    {
        Targets = targets;
        var separatorFree = new MultiMap.Builder(targets.Length);
        var canonical = new MultiMap.Builder(targets.Length);
        var core = new MultiMap.Builder(targets.Length);
        var words = new MultiMap.Builder(targets.Count(t => t.Words is not null));
        var deletions = new MultiMap.Builder(targets.Sum(t => t.SeparatorFree.Length >= MinimumEditLength ? CountWithDeletions(t.SeparatorFree) : 0));
        var coreDeletions = new MultiMap.Builder(targets.Sum(t => t.Core.Length >= MinimumCoreEditLength ? CountWithDeletions(t.Core) : 0));
        Span<char> scratch = stackalloc char[256];
        for (var id = 0; id < targets.Length; id++)
        {
            var target = targets[id];
            _exact.TryAdd(target.Name, id);
            _nameWords.UnionWith(target.Name.Split('-'));
            separatorFree.Add(target.SeparatorFree, id);
            canonical.Add(target.Canonical, id);
            core.Add(target.Core, id);
            if (target.Words is not null)
            {
                words.Add(target.Words, id);
            }

            if (target.SeparatorFree.Length >= MinimumEditLength)
            {
                AddWithDeletions(deletions, target.SeparatorFree, id, scratch);
            }

            if (target.Core.Length >= MinimumCoreEditLength)
            {
                AddWithDeletions(coreDeletions, target.Core, id, scratch);
            }
        }

        _separatorFree = separatorFree.Build();
        _canonical = canonical.Build();
        _core = core.Build();
        _words = words.Build();
        _deletions = deletions.Build();
        _coreDeletions = coreDeletions.Build();
    }

    public Target[] Targets { get; }

    public static NameIndex Build(IEnumerable<PopularProject> projects) =>
        new(projects.DistinctBy(p => p.Name).Select(p => new Target(p.Name, p.Rank)).ToArray());

    public bool Contains(string normalizedName) => _exact.ContainsKey(normalizedName);

    /// <summary>The target named exactly <paramref name="normalizedName"/>, or null.</summary>
    public Target? Find(string normalizedName) => _exact.TryGetValue(normalizedName, out var id) ? Targets[id] : null;

    /// <summary>True when <paramref name="word"/> is a word of some target's name ("requests", "toolbelt", "django").</summary>
    public bool IsKnownWord(ReadOnlySpan<char> word) => _nameWords.GetAlternateLookup<ReadOnlySpan<char>>().Contains(word);

    /// <summary>Adds every target whose separator-free name is within edit distance 1 of <paramref name="word"/> (or equal to it).</summary>
    public void FindWithinOneEdit(string word, ref TargetSet set) => CollectWithDeletions(_deletions, word, ref set);

    /// <summary>Adds every target that shares a form with <paramref name="candidate"/> or is within edit distance 1 of one.</summary>
    public void FindCandidates(Forms candidate, ref TargetSet set)
    {
        _separatorFree.Collect(candidate.SeparatorFree, ref set);
        _canonical.Collect(candidate.Canonical, ref set);
        _core.Collect(candidate.Core, ref set);
        if (candidate.Words is not null)
        {
            _words.Collect(candidate.Words, ref set);
        }

        if (candidate.SeparatorFree.Length >= MinimumEditLength - 1)
        {
            CollectWithDeletions(_deletions, candidate.SeparatorFree, ref set);
        }

        if (candidate.Core.Length >= MinimumCoreEditLength - 1)
        {
            CollectWithDeletions(_coreDeletions, candidate.Core, ref set);
        }
    }

    /// <summary>The same as <see cref="FindCandidates"/> without a size limit.</summary>
    public IReadOnlyCollection<int> FindCandidatesSlow(Forms candidate)
    {
        var all = new int[Targets.Length];
        var set = new TargetSet(all);
        FindCandidates(candidate, ref set);
        return set.Items.ToArray();
    }

    private static void AddWithDeletions(MultiMap.Builder map, string key, int id, Span<char> scratch)
    {
        map.Add(key, id);
        for (var i = 0; i < key.Length; i++)
        {
            // Deleting either of two equal neighbours gives the same key: add it once (the map keeps a pair once anyway).
            if (i > 0 && key[i] == key[i - 1])
            {
                continue;
            }

            map.Add(Delete(key, i, scratch), id);
        }
    }

    // The number of pairs AddWithDeletions adds for key: the key and its distinct deletions.
    private static int CountWithDeletions(string key)
    {
        var count = 1;
        for (var i = 0; i < key.Length; i++)
        {
            if (i == 0 || key[i] != key[i - 1])
            {
                count++;
            }
        }

        return count;
    }

    private static void CollectWithDeletions(MultiMap map, string key, ref TargetSet set)
    {
        Span<char> scratch = stackalloc char[256];
        map.Collect(key, ref set);
        if (key.Length > scratch.Length)
        {
            return;
        }

        for (var i = 0; i < key.Length; i++)
        {
            // Deleting either of two equal neighbours gives the same key: look it up once.
            if (i > 0 && key[i] == key[i - 1])
            {
                continue;
            }

            map.Collect(Delete(key, i, scratch), ref set);
        }
    }

    private static ReadOnlySpan<char> Delete(string key, int index, Span<char> scratch)
    {
        key.AsSpan(0, index).CopyTo(scratch);
        key.AsSpan(index + 1).CopyTo(scratch[index..]);
        return scratch[..(key.Length - 1)];
    }

    /// <summary>
    /// An immutable key-to-targets multimap in two parallel arrays sorted by the 64-bit FNV-1a hash of the key's
    /// characters, one (hash, target) pair per row: the corpus gives about 150,000 deletion keys per edit index, and a
    /// string plus a dictionary entry for each cost tens of megabytes (and as much garbage while building); 12 bytes a
    /// pair do the same job. Lookups take a span, binary-search the hash and allocate nothing.
    /// </summary>
    /// <remarks>
    /// Two different keys with the same hash would share one target list. That only adds candidates, and every candidate
    /// is scored on the real names (<see cref="TyposquatDetector"/> compares the target's own folded forms and edit
    /// distance), so a stray one yields no finding; at most it takes a slot in a full TargetSet, where the detector
    /// either rescans without a limit or (misspelled words) already accepts dropping the excess. And it is negligible:
    /// with about 150,000 keys in the largest map, the chance of any two colliding is about 1 in a billion.
    /// </remarks>
    private sealed class MultiMap
    {
        private readonly ulong[] _keys;   // ascending; a key repeats once per target
        private readonly int[] _targets;  // within one key, descending target id

        private MultiMap(ulong[] keys, int[] targets)
        {
            _keys = keys;
            _targets = targets;
        }

        public void Collect(scoped ReadOnlySpan<char> key, ref TargetSet set)
        {
            var hash = Hash(key);
            for (var i = LowerBound(_keys, hash); i < _keys.Length && _keys[i] == hash; i++)
            {
                set.Add(_targets[i]);
            }
        }

        // The first index whose key is not below hash.
        private static int LowerBound(ulong[] keys, ulong hash)
        {
            var (low, high) = (0, keys.Length);
            while (low < high)
            {
                var middle = (int)((uint)(low + high) >> 1);
                (low, high) = keys[middle] < hash ? (middle + 1, high) : (low, middle);
            }

            return low;
        }

        // The same function as NameSnapshot.Hash, over a span. Not shared with it: the snapshot's is a file format.
        private static ulong Hash(ReadOnlySpan<char> key)
        {
            var hash = 14695981039346656037UL;
            foreach (var c in key)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }

            return hash;
        }

        /// <summary>Collects (key, target) pairs into arrays of the exact size, then sorts them in place into a <see cref="MultiMap"/>.</summary>
        public sealed class Builder(int capacity)
        {
            // Sized up front (the caller counts the pairs) so that building leaves no grown-and-dropped arrays behind.
            private ulong[] _keys = new ulong[capacity];
            private int[] _targets = new int[capacity];
            private int _count;

            public void Add(ReadOnlySpan<char> key, int target)
            {
                _keys[_count] = Hash(key);
                _targets[_count++] = target;
            }

            /// <summary>The map; the builder must not be used afterwards (the map owns its arrays).</summary>
            public MultiMap Build()
            {
                var keys = _keys.AsSpan(0, _count);
                var targets = _targets.AsSpan(0, _count);
                keys.Sort(targets);

                // Within a key, targets come out newest first, as the linked lists of the string-keyed map this replaces
                // gave them: TargetSet keeps the first ones that fit, so the order decides which candidates an overflow
                // drops. Ids are added in ascending order, so newest first is descending id. A repeated pair is kept once.
                var written = 0;
                for (var start = 0; start < _count;)
                {
                    var end = start + 1;
                    while (end < _count && keys[end] == keys[start])
                    {
                        end++;
                    }

                    var run = targets[start..end];
                    if (run.Length > 1)
                    {
                        run.Sort(static (a, b) => b.CompareTo(a));
                    }

                    for (var i = 0; i < run.Length; i++)
                    {
                        if (i == 0 || run[i] != run[i - 1])
                        {
                            keys[written] = keys[start];
                            targets[written++] = run[i];
                        }
                    }

                    start = end;
                }

                if (written != _keys.Length)
                {
                    // Only when two keys of one target share a hash, which practically never happens.
                    Array.Resize(ref _keys, written);
                    Array.Resize(ref _targets, written);
                }

                return new MultiMap(_keys, _targets);
            }
        }
    }
}

/// <summary>A small set of target ids in a caller-provided buffer; <see cref="Overflowed"/> says some did not fit.</summary>
internal ref struct TargetSet(Span<int> buffer)
{
    private readonly Span<int> _buffer = buffer;
    private int _count;

    public readonly ReadOnlySpan<int> Items => _buffer[.._count];

    public bool Overflowed { get; private set; }

    public void Add(int id)
    {
        if (_buffer[.._count].Contains(id))
        {
            return;
        }

        if (_count == _buffer.Length)
        {
            Overflowed = true;
            return;
        }

        _buffer[_count++] = id;
    }
}

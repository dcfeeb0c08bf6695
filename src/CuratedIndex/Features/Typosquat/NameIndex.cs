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
    private readonly MultiMap _separatorFree = new();
    private readonly MultiMap _canonical = new();
    private readonly MultiMap _core = new();
    private readonly MultiMap _words = new();
    private readonly MultiMap _deletions = new();
    private readonly MultiMap _coreDeletions = new();

    private NameIndex(Target[] targets)
    {
        Targets = targets;
        Span<char> scratch = stackalloc char[256];
        for (var id = 0; id < targets.Length; id++)
        {
            var target = targets[id];
            _exact.TryAdd(target.Name, id);
            _nameWords.UnionWith(target.Name.Split('-'));
            _separatorFree.Add(target.SeparatorFree, id);
            _canonical.Add(target.Canonical, id);
            _core.Add(target.Core, id);
            if (target.Words is not null)
            {
                _words.Add(target.Words, id);
            }

            if (target.SeparatorFree.Length >= MinimumEditLength)
            {
                AddWithDeletions(_deletions, target.SeparatorFree, id, scratch);
            }

            if (target.Core.Length >= MinimumCoreEditLength)
            {
                AddWithDeletions(_coreDeletions, target.Core, id, scratch);
            }
        }
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

    private static void AddWithDeletions(MultiMap map, string key, int id, Span<char> scratch)
    {
        map.Add(key, id);
        for (var i = 0; i < key.Length; i++)
        {
            map.Add(Delete(key, i, scratch).ToString(), id);
        }
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

    /// <summary>A string-to-targets multimap stored as linked lists in two arrays; lookups take a span and allocate nothing.</summary>
    private sealed class MultiMap
    {
        private readonly Dictionary<string, int> _heads = new(StringComparer.Ordinal);
        private readonly List<int> _targets = [];
        private readonly List<int> _next = [];

        public void Add(string key, int target)
        {
            if (_heads.TryGetValue(key, out var head))
            {
                // Targets are added one at a time, so a repeated (key, target) pair is always at the head.
                if (_targets[head] == target)
                {
                    return;
                }
            }
            else
            {
                head = -1;
            }

            _targets.Add(target);
            _next.Add(head);
            _heads[key] = _targets.Count - 1;
        }

        public void Collect(scoped ReadOnlySpan<char> key, ref TargetSet set)
        {
            if (!_heads.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out var entry))
            {
                return;
            }

            for (; entry >= 0; entry = _next[entry])
            {
                set.Add(_targets[entry]);
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

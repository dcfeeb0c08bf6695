using System.Globalization;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Typosquat;

/// <summary>
/// Says whether a project name imitates a popular project or one of the organization's own names. Immutable and
/// thread-safe: build it once (a singleton) from the corpus; <see cref="WithOrganizationNames"/> makes a copy that
/// shares the corpus index when the approved or internal names change.
/// </summary>
/// <remarks>
/// Established names are never suspicious: a name in the corpus or among the organization's names gets no finding.
/// Every other name is compared through dictionary lookups on folded forms (<see cref="NameForms"/>) and a
/// symmetric-delete index for edit distance 1, so one check costs a few dozen lookups whatever the corpus size.
/// </remarks>
internal sealed class TyposquatDetector
{
    /// <summary>Findings below this score are not reported.</summary>
    public const double DefaultThreshold = 0.55;

    private readonly NameIndex _corpus;
    private readonly NameIndex _organization;

    public TyposquatDetector(TyposquatCorpus corpus, IEnumerable<string>? organizationNames = null, double threshold = DefaultThreshold)
        : this(NameIndex.Build(corpus.Projects), NameIndex.Build(Organization(organizationNames)), threshold)
    {
    }

    private TyposquatDetector(NameIndex corpus, NameIndex organization, double threshold)
    {
        _corpus = corpus;
        _organization = organization;
        Threshold = threshold;
    }

    public double Threshold { get; }

    /// <summary>A detector over the same corpus with <paramref name="names"/> (approved and internal projects) as the organization's names.</summary>
    public TyposquatDetector WithOrganizationNames(IEnumerable<string> names) => new(_corpus, NameIndex.Build(Organization(names)), Threshold);

    /// <summary>True when the name is in the corpus or among the organization's names.</summary>
    public bool IsEstablished(string name)
    {
        var normalized = ProjectName.IsValid(name) ? ProjectName.Normalize(name) : name;
        return _corpus.Contains(normalized) || _organization.Contains(normalized);
    }

    /// <summary>The most suspicious finding for <paramref name="name"/>, or null when it looks like nothing or is established.</summary>
    public TyposquatFinding? Check(string name)
    {
        var findings = CheckAll(name);
        return findings.Count == 0 ? null : findings[0];
    }

    /// <summary>Every finding at or above <see cref="Threshold"/>, one per imitated project, most suspicious first.</summary>
    public IReadOnlyList<TyposquatFinding> CheckAll(string name)
    {
        if (!ProjectName.IsValid(name))
        {
            return [];
        }

        // Every index request for a name asks; the answer never changes for this detector (a new curation gets a new one).
        if (_checked.TryGetValue(name, out var known))
        {
            return known;
        }

        var normalized = ProjectName.Normalize(name);
        IReadOnlyList<TyposquatFinding> findings = IsEstablished(normalized) ? [] : Evaluate(normalized, exclude: null);
        if (_checked.Count >= MaxRemembered)
        {
            _checked.Clear();
        }

        _checked[name] = findings;
        return findings;
    }

    // Names whose answer is kept: the hot set of a busy index, bounded so that made-up names cannot grow it without end.
    private const int MaxRemembered = 20_000;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<TyposquatFinding>> _checked = new(StringComparer.Ordinal);

    /// <summary>
    /// Checks a name that is itself in the corpus against the rest of it, as if it were new: what would happen to a
    /// legitimate project like it. Used by the quality benchmark; the established-name rule is not applied.
    /// </summary>
    internal IReadOnlyList<TyposquatFinding> CheckAgainstOthers(string normalizedName) => Evaluate(normalizedName, exclude: normalizedName);

    private List<TyposquatFinding> Evaluate(string name, string? exclude)
    {
        var candidate = new Forms(name);
        List<TyposquatFinding>? findings = null;
        Collect(_organization, candidate, exclude, ref findings);
        Collect(_corpus, candidate, exclude, ref findings);
        CollectComposites(_organization, name, exclude, ref findings);
        CollectComposites(_corpus, name, exclude, ref findings);
        if (findings is null)
        {
            return [];
        }

        if (findings.Count == 1)
        {
            return findings;
        }

        // One finding per imitated project: an organization name may also be in the corpus.
        return findings
            .OrderByDescending(f => f.Score)
            .ThenBy(f => f.Rank ?? 0)
            .DistinctBy(f => f.Imitated)
            .ToList();
    }

    private void Collect(NameIndex index, Forms candidate, string? exclude, ref List<TyposquatFinding>? findings)
    {
        Span<int> buffer = stackalloc int[64];
        var targets = new TargetSet(buffer);
        index.FindCandidates(candidate, ref targets);
        if (targets.Overflowed)
        {
            // More than the stack buffer can hold happens only for degenerate names; they are found again, all of
            // them, and scored from the heap (the ones that fit are not scored twice).
            foreach (var id in index.FindCandidatesSlow(candidate))
            {
                AddIfFlagged(index.Targets[id], candidate, exclude, ref findings);
            }

            return;
        }

        foreach (var id in targets.Items)
        {
            AddIfFlagged(index.Targets[id], candidate, exclude, ref findings);
        }
    }

    // Likenesses of a whole name inside a longer one, which the edit index cannot see: a popular name presented as a
    // build of itself ("sympy-dev", "pytz3-dev"), and a misspelled popular name as one word ("matplitlib-terminal").
    private void CollectComposites(NameIndex index, string name, string? exclude, ref List<TyposquatFinding>? findings)
    {
        if (NameForms.WithoutReleaseWord(name, out var withoutDigits, out var word) is { } stripped
            && (index.Find(stripped) ?? (withoutDigits is null ? null : index.Find(withoutDigits))) is { } released
            && released.Name != exclude)
        {
            Add(name, released, TyposquatKind.ReleaseWord, Weights.ReleaseWord, $"'-{word}' added as if it were a build of {Describe(released)}", ref findings);
        }

        if (!name.Contains('-', StringComparison.Ordinal))
        {
            return;
        }

        Span<int> buffer = stackalloc int[16];
        foreach (var range in name.AsSpan().Split('-'))
        {
            var span = name.AsSpan(range);
            if (span.Length < Weights.MisspelledWordMinimumLength || index.IsKnownWord(span))
            {
                continue;
            }

            var part = span.ToString();

            // Sixteen names within one edit of a nine-letter word is far more than any real corpus has; more are not scored.
            var targets = new TargetSet(buffer);
            index.FindWithinOneEdit(part, ref targets);
            foreach (var id in targets.Items)
            {
                var target = index.Targets[id];
                if (target.Name == exclude || target.Name.Contains('-', StringComparison.Ordinal) || target.Rank > Weights.MisspelledWordMaximumRank
                    || DamerauLevenshtein.Distance(part, target.Name, 1) != 1)
                {
                    continue;
                }

                var (kind, description, _) = ClassifyEdit(part, target);
                if (kind is not (TyposquatKind.TrailingLetter or TyposquatKind.DigitForDigit))
                {
                    Add(name, target, TyposquatKind.MisspelledWord, Weights.MisspelledWord, $"the word '{part}' is {Describe(target)} misspelled ({description})", ref findings);
                }
            }
        }
    }

    private void Add(string name, Target target, TyposquatKind kind, double weight, string reason, ref List<TyposquatFinding>? findings)
    {
        var score = Math.Round(weight * Popularity(target.Rank), 3);
        if (score >= Threshold)
        {
            (findings ??= []).Add(new TyposquatFinding(name, target.Name, target.Rank == 0 ? null : target.Rank, score, kind, [reason]));
        }
    }

    private void AddIfFlagged(Target target, Forms candidate, string? exclude, ref List<TyposquatFinding>? findings)
    {
        if (target.Name == exclude || target.Name == candidate.Name)
        {
            return;
        }

        var finding = Score(candidate, target);
        if (finding is not null && finding.Score >= Threshold)
        {
            (findings ??= []).Add(finding);
        }
    }

    private static TyposquatFinding? Score(Forms candidate, Target target)
    {
        TyposquatKind? best = null;
        var bestScore = 0.0;
        var reasons = new List<string>(2);
        void Consider(TyposquatKind kind, double weight, string reason)
        {
            var score = weight * Popularity(target.Rank);
            reasons.Add(reason);
            if (score > bestScore)
            {
                bestScore = score;
                best = kind;
            }
        }

        var of = Describe(target);
        if (candidate.SeparatorFree == target.SeparatorFree)
        {
            Consider(TyposquatKind.Separator, Weights.Separator * LengthFactor(target.SeparatorFree.Length), $"same letters as {of} with different separators");
        }
        else if (candidate.Canonical == target.Canonical)
        {
            Consider(TyposquatKind.Homoglyph, Weights.Homoglyph * LengthFactor(target.SeparatorFree.Length, TyposquatKind.Homoglyph), $"lookalike characters (l/I/1, 0/o, g/q, rn/m, vv/w, cl/d) for {of}");
        }

        if (candidate.Words is not null && candidate.Words == target.Words && candidate.Name != target.Name)
        {
            var language = candidate.Name.Split('-').Any(NameForms.IsLanguageWord);
            Consider(
                language ? TyposquatKind.LanguageWordMoved : TyposquatKind.WordOrder,
                language ? Weights.LanguageWordMoved : Weights.WordOrder,
                $"the words of {of} reordered");
        }

        if (candidate.SeparatorFree != target.SeparatorFree
            && DamerauLevenshtein.Distance(candidate.SeparatorFree, target.SeparatorFree, 1) == 1)
        {
            var (kind, description, wordLength) = ClassifyEdit(candidate.SeparatorFree, target);
            Consider(kind, Weights.For(kind) * LengthFactor(wordLength, kind), $"edit distance 1 ({description}) from {of}");
        }

        if (candidate.Core == target.Core && candidate.SeparatorFree != target.SeparatorFree)
        {
            // Swapping one language affix for another ("python-mongo" for "pymongo", "libhtml5" for "html5lib") is rare
            // among legitimate projects; adding one ("pyarrow" and "arrow") is how many legitimate pairs are named.
            var swapped = candidate.HasAffix && target.HasAffix;
            Consider(
                swapped ? TyposquatKind.AffixSwapped : TyposquatKind.AffixAdded,
                (swapped ? Weights.AffixSwapped : Weights.AffixAdded) * CoreLengthFactor(target.Core.Length),
                swapped ? $"prefix or suffix (python-, py, -py, lib, 3, …) of {of} swapped for another" : $"prefix or suffix (python-, py, -py, lib, 3, …) added to or dropped from {of}");
        }
        else if ((candidate.HasAffix || target.HasAffix)
            && candidate.Core.Length >= Weights.AffixTypoMinimumCore && target.Core.Length >= Weights.AffixTypoMinimumCore
            && DamerauLevenshtein.Distance(candidate.Core, target.Core, 1) == 1)
        {
            // Two neighbouring letters swapped keep every letter of the core ("openvc" for "opencv-python"): the
            // likeness survives the changed affix better than a dropped, added or replaced letter does.
            var swappedCore = IsAdjacentSwap(candidate.Core, target.Core);
            Consider(
                TyposquatKind.AffixAndTypo,
                (swappedCore ? Weights.AffixAndSwap : Weights.AffixAndTypo) * LengthFactor(target.Core.Length),
                swappedCore ? $"prefix or suffix changed and two letters swapped from {of}" : $"prefix or suffix changed and edit distance 1 from {of}");
        }

        return best is { } kind2 ? new TyposquatFinding(candidate.Name, target.Name, target.Rank == 0 ? null : target.Rank, Math.Round(bestScore, 3), kind2, reasons) : null;
    }

    private static string Describe(Target target) =>
        target.Rank == 0 ? $"'{target.Name}' (organization name)" : $"'{target.Name}' (rank {target.Rank.ToString(CultureInfo.InvariantCulture)})";

    // True when b is a with two neighbouring characters swapped ("openvc" and "opencv").
    private static bool IsAdjacentSwap(string a, string b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        var i = a.AsSpan().CommonPrefixLength(b);
        return i + 1 < a.Length && a[i] == b[i + 1] && a[i + 1] == b[i] && a.AsSpan(i + 2).SequenceEqual(b.AsSpan(i + 2));
    }

    /// <summary>
    /// Names what one edit changed, reading <paramref name="candidate"/> (separator-free) as a mistyped
    /// <paramref name="original"/>, and the length of the original's word that the edit falls in.
    /// </summary>
    internal static (TyposquatKind Kind, string Description, int WordLength) ClassifyEdit(string candidate, Forms original)
    {
        var target = original.SeparatorFree;
        var i = candidate.AsSpan().CommonPrefixLength(target);
        var (wordStart, wordEnd) = WordAt(original.Name, Math.Min(i, target.Length - 1));
        var wordLength = wordEnd - wordStart;
        if (candidate.Length == target.Length + 1)
        {
            var added = candidate[i];
            if (i == wordEnd && (added == 's' || char.IsAsciiDigit(added)))
            {
                // "requests" from "request", "urllib3" from "urllib": plurals and version digits also make legitimate siblings.
                return (TyposquatKind.TrailingLetter, $"added '{added}' at the end", wordLength);
            }

            if (i == 0)
            {
                return (TyposquatKind.LeadingLetter, $"added '{added}' in front", wordLength);
            }

            var doubled = (i > 0 && candidate[i - 1] == added) || (i + 1 < candidate.Length && candidate[i + 1] == added);
            return doubled ? (TyposquatKind.Doubled, $"doubled '{added}'", wordLength) : (TyposquatKind.Added, $"added '{added}'", wordLength);
        }

        if (candidate.Length + 1 == target.Length)
        {
            var dropped = target[i];
            if (i + 1 == wordEnd && (dropped == 's' || char.IsAsciiDigit(dropped)))
            {
                return (TyposquatKind.TrailingLetter, $"dropped '{dropped}' at the end", wordLength);
            }

            // "cattrs" and "attrs", "grequests" and "requests": a letter in front often makes a legitimate sibling.
            return i == 0 ? (TyposquatKind.LeadingLetter, $"dropped the leading '{dropped}'", wordLength) : (TyposquatKind.Dropped, $"dropped '{dropped}'", wordLength);
        }

        if (i + 1 < candidate.Length && candidate[i] == target[i + 1] && candidate[i + 1] == target[i]
            && candidate.AsSpan(i + 2).SequenceEqual(target.AsSpan(i + 2)))
        {
            return (TyposquatKind.Swapped, "swapped characters", wordLength);
        }

        // cu11/cu12, rfc3986/rfc3987: a changed digit names a sibling version, not a typo.
        if (char.IsAsciiDigit(candidate[i]) && char.IsAsciiDigit(target[i]))
        {
            return (TyposquatKind.DigitForDigit, $"'{target[i]}' replaced by '{candidate[i]}'", wordLength);
        }

        return NameForms.KeyboardAdjacent(candidate[i], target[i])
            ? (TyposquatKind.KeyboardSubstitution, $"'{target[i]}' replaced by its keyboard neighbour '{candidate[i]}'", wordLength)
            : (TyposquatKind.Substitution, $"'{target[i]}' replaced by '{candidate[i]}'", wordLength);
    }

    // The word of a normalized name holding separator-free position i, as [start, end) in separator-free positions.
    private static (int Start, int End) WordAt(string name, int i)
    {
        var start = 0;
        foreach (var word in name.Split('-'))
        {
            if (i < start + word.Length)
            {
                return (start, start + word.Length);
            }

            start += word.Length;
        }

        return (Math.Max(0, start - 1), start);
    }

    // Attackers aim at the most downloaded projects; a likeness to rank 10,000 says less than one to rank 10.
    // The organization's own names (rank 0) count as the most popular of all.
    private static double Popularity(int rank) => rank <= 1 ? 1.0 : 1.0 - (Weights.PopularityDecay * Math.Log10(rank));

    // One edit turns most short words into another real one: a likeness is only as strong as the word it hides in.
    // A swap keeps every letter of a short word, so it stays recognisable where a dropped or changed letter does not.
    private static double LengthFactor(int length, TyposquatKind kind = TyposquatKind.Substitution) => length switch
    {
        <= 3 => 0.0,
        4 => kind is TyposquatKind.Swapped or TyposquatKind.Homoglyph ? 0.8 : 0.6,
        5 => 0.8,
        6 => 0.9,
        7 => 0.95,
        _ => 1.0,
    };

    // An affix around a short core is still a recognisable imitation ("py" + "smb"): the core, not the affix, is
    // what the user meant to type.
    private static double CoreLengthFactor(int length) => length switch
    {
        < 3 => 0.0,
        3 => 0.9,
        _ => 1.0,
    };

    private static IEnumerable<PopularProject> Organization(IEnumerable<string>? names) =>
        (names ?? []).Where(ProjectName.IsValid).Select(n => new PopularProject(ProjectName.Normalize(n), 0));

    /// <summary>How suspicious each kind of transformation is before popularity and length are weighed in.</summary>
    internal static class Weights
    {
        // With the popularity factor 1 - 0.1 log10(rank) and the 0.55 threshold, a weight flags likenesses up to
        // about rank: 1.0 all, 0.95 15,000, 0.9 7,900, 0.85 3,200, 0.8 1,300, 0.75 460, 0.7 140.
        public const double Homoglyph = 1.0;
        public const double Separator = 0.85;
        public const double LanguageWordMoved = 1.0;
        public const double WordOrder = 0.8;
        public const double Swapped = 1.0;
        public const double Doubled = 0.95;
        public const double KeyboardSubstitution = 0.95;
        public const double Dropped = 0.95;
        public const double Added = 0.85;
        public const double LeadingLetter = 0.75;
        public const double Substitution = 0.8;
        public const double DigitForDigit = 0.3;
        public const double TrailingLetter = 0.7;
        public const double AffixSwapped = 0.9;
        public const double AffixAdded = 0.75;
        public const double AffixAndTypo = 0.8;
        public const double AffixAndSwap = 0.9;
        public const double PopularityDecay = 0.1;
        public const int AffixTypoMinimumCore = 5;
        public const double ReleaseWord = 0.9;
        public const double MisspelledWord = 0.85;

        // One edit inside a short word of a longer name makes another ordinary word ("weather" from "leather"): only
        // long words, and only the most imitated projects, are looked for inside names.
        public const int MisspelledWordMinimumLength = 9;
        public const int MisspelledWordMaximumRank = 500;

        public static double For(TyposquatKind kind) => kind switch
        {
            TyposquatKind.Swapped => Swapped,
            TyposquatKind.Doubled => Doubled,
            TyposquatKind.KeyboardSubstitution => KeyboardSubstitution,
            TyposquatKind.Dropped => Dropped,
            TyposquatKind.Added => Added,
            TyposquatKind.DigitForDigit => DigitForDigit,
            TyposquatKind.TrailingLetter => TrailingLetter,
            TyposquatKind.LeadingLetter => LeadingLetter,
            _ => Substitution,
        };
    }
}

using System.Diagnostics.CodeAnalysis;

namespace CuratedIndex.Protocol;

/// <summary>
/// A comma separated list of PEP 440 version specifiers (<c>~= == != &lt;= &gt;= &lt; &gt; ===</c>) that must all hold,
/// matched with packaging's <c>SpecifierSet</c> semantics. The empty set puts no bound on the version.
/// </summary>
public sealed class VersionSpecifierSet
{
    /// <summary>Longer input is rejected without parsing.</summary>
    public const int MaxInputLength = 1024;

    private readonly VersionSpecifier[] _specifiers;

    private VersionSpecifierSet(VersionSpecifier[] specifiers)
    {
        _specifiers = specifiers;
    }

    /// <summary>The set with no specifiers.</summary>
    public static VersionSpecifierSet Empty { get; } = new([]);

    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> when any specifier is invalid.</summary>
    public static VersionSpecifierSet Parse(string text) =>
        TryParse(text, out var set) ? set : throw new FormatException($"Invalid version specifier set: '{text}'.");

    /// <summary>
    /// Parses a comma separated specifier list; empty items are ignored, so <c>""</c> is the empty set.
    /// Legacy forms that packaging rejects (such as <c>&gt;=3.6.*</c>) return false; never throws.
    /// </summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out VersionSpecifierSet? set)
    {
        set = null;
        if (text is null || text.Length > MaxInputLength)
        {
            return false;
        }

        var specifiers = new List<VersionSpecifier>();
        foreach (var item in text.Split(','))
        {
            if (string.IsNullOrWhiteSpace(item))
            {
                continue;
            }

            if (!VersionSpecifier.TryParse(item, out var specifier))
            {
                return false;
            }

            if (!specifiers.Exists(s => s.ToString() == specifier.ToString()))
            {
                specifiers.Add(specifier);
            }
        }

        specifiers.Sort((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
        set = specifiers.Count == 0 ? Empty : new VersionSpecifierSet([.. specifiers]);
        return true;
    }

    /// <summary>True when the set has no specifiers.</summary>
    public bool IsEmpty => _specifiers.Length == 0;

    /// <summary>
    /// The version when the set is exactly one <c>==</c> specifier without a wildcard (a pin, as lock files
    /// write them), else null. <c>===</c> is not a pin here: its operand need not be a PEP 440 version.
    /// </summary>
    public Pep440Version? ExactVersion =>
        _specifiers is [{ Operator: "==", IsPrefix: false } only] ? only.Version : null;

    /// <summary>
    /// True when every specifier admits <paramref name="version"/>. Pre-releases (including dev releases) are
    /// rejected unless <paramref name="includePrereleases"/> is true, or it is null and some specifier names a
    /// pre-release itself (e.g. <c>&gt;=1.0a1</c>).
    /// </summary>
    public bool Contains(Pep440Version version, bool? includePrereleases = null)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.IsPrerelease && !(includePrereleases ?? AllowsPrereleases))
        {
            return false;
        }

        foreach (var specifier in _specifiers)
        {
            if (!specifier.Matches(version, null))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Like <see cref="Contains"/> with the default pre-release policy, but <c>===</c> specifiers compare
    /// <paramref name="versionText"/> as written (case-insensitively), so non-PEP 440 versions can match them.
    /// A text that is not a PEP 440 version is only satisfied by a set made of matching <c>===</c> specifiers.
    /// </summary>
    public bool IsSatisfiedBy(string versionText)
    {
        ArgumentNullException.ThrowIfNull(versionText);
        var trimmed = versionText.Trim();
        if (!Pep440Version.TryParse(trimmed, out var version))
        {
            foreach (var specifier in _specifiers)
            {
                if (!specifier.MatchesArbitrary(trimmed))
                {
                    return false;
                }
            }

            return !IsEmpty;
        }

        if (version.IsPrerelease && !AllowsPrereleases)
        {
            return false;
        }

        foreach (var specifier in _specifiers)
        {
            if (!specifier.Matches(version, trimmed))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The normalized specifiers, deduplicated, sorted ordinally and joined with <c>,</c>.</summary>
    public override string ToString() => string.Join(',', _specifiers.Select(s => s.ToString()));

    private bool AllowsPrereleases
    {
        get
        {
            foreach (var specifier in _specifiers)
            {
                if (specifier.NamesPrerelease)
                {
                    return true;
                }
            }

            return false;
        }
    }
}

using System.Diagnostics.CodeAnalysis;

namespace CuratedIndex.Protocol;

// One clause of a VersionSpecifierSet. Internal: callers only need the set.
internal sealed class VersionSpecifier
{
    private static readonly string[] Operators = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];

    private readonly string _text;

    private VersionSpecifier(string op, Pep440Version? version, bool isPrefix, string arbitrary)
    {
        Operator = op;
        Version = version;
        IsPrefix = isPrefix;
        Arbitrary = arbitrary;
        _text = op == "==="
            ? op + arbitrary
            : op + version + (isPrefix ? ".*" : "");
    }

    public string Operator { get; }

    // Null only for === whose operand is not a PEP 440 version.
    public Pep440Version? Version { get; }

    // == or != with a trailing .* (prefix match on epoch and release).
    public bool IsPrefix { get; }

    // The operand exactly as written (after trimming); used by ===.
    public string Arbitrary { get; }

    // packaging: a specifier whose own version is a pre-release opts in to pre-releases (except != ).
    public bool NamesPrerelease => Operator != "!=" && Version is { IsPrerelease: true };

    public static bool TryParse(string text, [NotNullWhen(true)] out VersionSpecifier? specifier)
    {
        specifier = null;
        var span = text.AsSpan().Trim();
        string? op = null;
        foreach (var candidate in Operators)
        {
            if (span.StartsWith(candidate, StringComparison.Ordinal))
            {
                op = candidate;
                break;
            }
        }

        if (op is null)
        {
            return false;
        }

        var operand = span[op.Length..].TrimStart().ToString();
        if (operand.Length == 0 || operand.Any(char.IsWhiteSpace))
        {
            return false;
        }

        if (op == "===")
        {
            if (operand.Contains(';') || operand.Contains(')'))
            {
                return false;
            }

            var arbitraryVersion = Pep440Version.TryParse(operand, out var parsed) ? parsed : null;
            specifier = new VersionSpecifier(op, arbitraryVersion, false, operand);
            return true;
        }

        var isPrefix = operand.EndsWith(".*", StringComparison.Ordinal);
        if (isPrefix)
        {
            if (op is not ("==" or "!="))
            {
                return false;
            }

            operand = operand[..^2];
        }

        if (!Pep440Version.TryParse(operand, out var version))
        {
            return false;
        }

        // Wildcards only follow a bare release; local labels only make sense for (in)equality.
        var hasSuffix = version.PreLabel is not null || version.Post is not null || version.Dev is not null;
        if ((isPrefix && (hasSuffix || version.Local is not null))
            || (version.Local is not null && op is not ("==" or "!="))
            || (op == "~=" && version.Release.Count < 2))
        {
            return false;
        }

        specifier = new VersionSpecifier(op, version, isPrefix, operand);
        return true;
    }

    // rawText: the candidate as written, for ===; null to compare its canonical form as packaging does.
    public bool Matches(Pep440Version candidate, string? rawText) => Operator switch
    {
        "===" => string.Equals(rawText ?? candidate.ToString(), Arbitrary, StringComparison.OrdinalIgnoreCase),
        "==" => IsPrefix ? PrefixMatches(candidate, Version!) : EqualMatches(candidate, Version!),
        "!=" => !(IsPrefix ? PrefixMatches(candidate, Version!) : EqualMatches(candidate, Version!)),
        "~=" => CompatibleMatches(candidate, Version!),
        "<=" => candidate.Public <= Version!,
        ">=" => candidate.Public >= Version!,
        "<" => LessThan(candidate, Version!),
        ">" => GreaterThan(candidate, Version!),
        _ => false,
    };

    public bool MatchesArbitrary(string rawText) =>
        Operator == "===" && string.Equals(rawText, Arbitrary, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => _text;

    private static bool EqualMatches(Pep440Version candidate, Pep440Version spec) =>
        (spec.Local is null ? candidate.Public : candidate) == spec;

    private static bool PrefixMatches(Pep440Version candidate, Pep440Version spec) =>
        PrefixMatches(candidate, spec, spec.Release.Count);

    // Compares the epoch and the first `length` release segments of spec, padding the candidate's release with zeros.
    private static bool PrefixMatches(Pep440Version candidate, Pep440Version spec, int length)
    {
        if (candidate.Epoch != spec.Epoch)
        {
            return false;
        }

        for (var i = 0; i < length; i++)
        {
            var segment = i < candidate.Release.Count ? candidate.Release[i] : 0;
            if (segment != spec.Release[i])
            {
                return false;
            }
        }

        return true;
    }

    // ~=X.Y.Z means >=X.Y.Z together with ==X.Y.* (the last release segment dropped).
    private static bool CompatibleMatches(Pep440Version candidate, Pep440Version spec) =>
        candidate.Public >= spec && PrefixMatches(candidate, spec, spec.Release.Count - 1);

    // <V excludes pre-releases of V itself unless V is a pre-release.
    private static bool LessThan(Pep440Version candidate, Pep440Version spec)
    {
        if (!(candidate < spec))
        {
            return false;
        }

        return spec.IsPrerelease || !candidate.IsPrerelease || candidate.BaseVersion != spec.BaseVersion;
    }

    // >V excludes post-releases of V unless V is one, and local versions of V.
    private static bool GreaterThan(Pep440Version candidate, Pep440Version spec)
    {
        if (!(candidate > spec))
        {
            return false;
        }

        if (!spec.IsPostRelease && candidate.IsPostRelease && candidate.BaseVersion == spec.BaseVersion)
        {
            return false;
        }

        return candidate.Local is null || candidate.BaseVersion != spec.BaseVersion;
    }
}

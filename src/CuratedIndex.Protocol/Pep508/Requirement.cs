using System.Diagnostics.CodeAnalysis;


namespace CuratedIndex.Protocol.Pep508;

/// <summary>
/// One PEP 508 requirement as core metadata's <c>Requires-Dist</c> writes it: <c>name [extras] (specifier) ; marker</c>,
/// with or without parentheses, or <c>name @ url ; marker</c> (a direct reference, which an index cannot serve).
/// </summary>
/// <param name="Name">The name as written.</param>
/// <param name="Project">The PEP 503 normalized name.</param>
/// <param name="Extras">The extras asked for, PEP 685 normalized, each once, in written order.</param>
/// <param name="Specifier">The version specifiers (empty: any version).</param>
/// <param name="Marker">The environment marker, or null (always applies).</param>
/// <param name="Url">The direct reference after <c>@</c>, or null.</param>
public sealed record Requirement(
    string Name,
    string Project,
    IReadOnlyList<string> Extras,
    VersionSpecifierSet Specifier,
    Marker? Marker,
    string? Url,
    string Text)
{
    public const int MaxInputLength = 8192;

    /// <summary>Parses one requirement; on failure <paramref name="error"/> says why in one line. Never throws.</summary>
    /// <remarks>
    /// Accepts what packaging accepts: <c>name</c>, <c>name&gt;=1,&lt;2</c>, <c>name (&gt;=1.0)</c>,
    /// <c>name[a,b] (&gt;=1) ; marker</c>, <c>name; marker</c> and <c>name @ url ; marker</c> (the URL ends at whitespace,
    /// so a marker after a URL needs whitespace before its <c>;</c>). Spaces and tabs may appear between all parts.
    /// </remarks>
    public static bool TryParse(string? text, [NotNullWhen(true)] out Requirement? requirement, [NotNullWhen(false)] out string? error)
    {
        requirement = null;
        if (text is null)
        {
            error = "the requirement is missing";
            return false;
        }

        if (text.Length > MaxInputLength)
        {
            error = $"the requirement is longer than {MaxInputLength} characters";
            return false;
        }

        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            error = "the requirement is empty";
            return false;
        }

        if (!TryParseParts(trimmed, out var name, out var extras, out var specifier, out var url, out var markerText, out var detail))
        {
            error = $"invalid requirement '{Pep508.Marker.Quote(trimmed)}': {detail}";
            return false;
        }

        Marker? marker = null;
        if (markerText is not null && !Pep508.Marker.TryParse(markerText, out marker, out var markerError))
        {
            error = $"invalid requirement '{Pep508.Marker.Quote(trimmed)}': {markerError}";
            return false;
        }

        requirement = new Requirement(name, ProjectName.Normalize(name), extras, specifier, marker, url, trimmed);
        error = null;
        return true;
    }

    /// <summary>True when there is no marker or it holds for <paramref name="environment"/> with <paramref name="extras"/>.</summary>
    public bool AppliesTo(MarkerEnvironment environment, IReadOnlySet<string> extras) => Marker?.Evaluate(environment, extras) ?? true;

    /// <summary>PEP 685: extras compare after PEP 503 normalization.</summary>
    public static string NormalizeExtra(string extra) => ProjectName.Normalize(extra);

    /// <summary>The requirement as written (trimmed).</summary>
    public override string ToString() => Text;

    // Splits name, extras, then either "@ url" or a specifier, then an optional "; marker" (returned unparsed).
    private static bool TryParseParts(
        string s,
        out string name,
        out IReadOnlyList<string> extras,
        out VersionSpecifierSet specifier,
        out string? url,
        out string? markerText,
        out string detail)
    {
        extras = [];
        specifier = VersionSpecifierSet.Empty;
        url = null;
        markerText = null;
        detail = "";

        var pos = 0;
        while (pos < s.Length && (char.IsAsciiLetterOrDigit(s[pos]) || s[pos] is '.' or '_' or '-'))
        {
            pos++;
        }

        name = s[..pos];
        if (name.Length == 0)
        {
            detail = "expected a project name at the start";
            return false;
        }

        if (!ProjectName.IsValid(name))
        {
            detail = $"'{Pep508.Marker.Quote(name)}' is not a valid project name";
            return false;
        }

        pos = SkipWhitespace(s, pos);
        if (pos < s.Length && s[pos] == '[')
        {
            var close = s.IndexOf(']', pos);
            if (close < 0)
            {
                detail = "'[' is never closed";
                return false;
            }

            if (!TryParseExtras(s[(pos + 1)..close], out extras, out detail))
            {
                return false;
            }

            pos = SkipWhitespace(s, close + 1);
        }

        if (pos < s.Length && s[pos] == '@')
        {
            pos = SkipWhitespace(s, pos + 1);
            var start = pos;
            while (pos < s.Length && s[pos] is not (' ' or '\t'))
            {
                pos++;
            }

            url = s[start..pos];
            if (url.Length == 0)
            {
                detail = "expected a URL after '@'";
                return false;
            }

            pos = SkipWhitespace(s, pos);
            if (pos == s.Length)
            {
                return true;
            }

            if (s[pos] != ';')
            {
                detail = "expected ';' (after the URL and whitespace) or the end";
                return false;
            }

            markerText = s[(pos + 1)..];
            return true;
        }

        string specifierText;
        if (pos < s.Length && s[pos] == '(')
        {
            var close = s.IndexOf(')', pos);
            if (close < 0)
            {
                detail = "'(' around the version specifier is never closed";
                return false;
            }

            specifierText = s[(pos + 1)..close];
            pos = SkipWhitespace(s, close + 1);
            if (pos < s.Length && s[pos] != ';')
            {
                detail = "expected ';' or the end after the version specifier";
                return false;
            }
        }
        else
        {
            var semicolon = s.IndexOf(';', pos);
            specifierText = semicolon < 0 ? s[pos..] : s[pos..semicolon];
            pos = semicolon < 0 ? s.Length : semicolon;
            var first = specifierText.TrimStart(' ', '\t');
            if (first.Length > 0 && first[0] is not ('<' or '>' or '=' or '!' or '~'))
            {
                detail = $"expected a version specifier, ';' or the end after '{Pep508.Marker.Quote(name)}'";
                return false;
            }
        }

        if (!TryParseSpecifier(specifierText, out specifier, out detail))
        {
            return false;
        }

        if (pos < s.Length)
        {
            // s[pos] is ';' here.
            markerText = s[(pos + 1)..];
        }

        return true;
    }

    private static bool TryParseExtras(string inner, out IReadOnlyList<string> extras, out string detail)
    {
        extras = [];
        detail = "";
        if (inner.AsSpan().Trim(" \t").IsEmpty)
        {
            return true;
        }

        var normalized = new List<string>();
        foreach (var item in inner.Split(','))
        {
            var extra = item.Trim(' ', '\t');
            if (!ProjectName.IsValid(extra))
            {
                detail = extra.Length == 0
                    ? "an extra name is empty"
                    : $"'{Pep508.Marker.Quote(extra)}' is not a valid extra name";
                return false;
            }

            var name = NormalizeExtra(extra);
            if (!normalized.Contains(name))
            {
                normalized.Add(name);
            }
        }

        extras = normalized;
        return true;
    }

    // Each comma separated item must be one valid PEP 440 specifier (VersionSpecifierSet alone would skip empty items).
    private static bool TryParseSpecifier(string text, out VersionSpecifierSet specifier, out string detail)
    {
        specifier = VersionSpecifierSet.Empty;
        detail = "";
        if (text.AsSpan().Trim(" \t").IsEmpty)
        {
            return true;
        }

        foreach (var item in text.Split(','))
        {
            var clause = item.Trim(' ', '\t');
            if (clause.Length == 0)
            {
                detail = "a version specifier between commas is empty";
                return false;
            }

            if (!VersionSpecifierSet.TryParse(clause, out _))
            {
                detail = $"'{Pep508.Marker.Quote(clause)}' is not a valid version specifier";
                return false;
            }
        }

        if (!VersionSpecifierSet.TryParse(text.Trim(' ', '\t'), out var parsed))
        {
            detail = $"'{Pep508.Marker.Quote(text)}' is not a valid version specifier";
            return false;
        }

        specifier = parsed;
        return true;
    }

    private static int SkipWhitespace(string s, int pos)
    {
        while (pos < s.Length && s[pos] is ' ' or '\t')
        {
            pos++;
        }

        return pos;
    }
}

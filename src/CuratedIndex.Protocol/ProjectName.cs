namespace CuratedIndex.Protocol;

/// <summary>
/// Project names as defined by the core metadata Name field and normalized per PEP 503.
/// </summary>
public static class ProjectName
{
    /// <summary>The longest name accepted by <see cref="IsValid"/>.</summary>
    public const int MaxLength = 200;

    /// <summary>
    /// True when <paramref name="name"/> matches <c>^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$</c>
    /// case-insensitively, is ASCII only and is 1..<see cref="MaxLength"/> characters long.
    /// </summary>
    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength)
        {
            return false;
        }

        if (!char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && !IsSeparator(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// PEP 503 normalization: every run of <c>-</c>, <c>_</c> and <c>.</c> becomes a single <c>-</c>,
    /// and ASCII letters are lower-cased. Returns <paramref name="name"/> itself when already normalized.
    /// </summary>
    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (IsNormalized(name))
        {
            return name;
        }

        return string.Create(NormalizedLength(name), name, static (span, source) =>
        {
            var written = 0;
            var inSeparatorRun = false;
            foreach (var c in source)
            {
                if (IsSeparator(c))
                {
                    if (!inSeparatorRun)
                    {
                        span[written++] = '-';
                        inSeparatorRun = true;
                    }

                    continue;
                }

                inSeparatorRun = false;
                span[written++] = char.IsAsciiLetterUpper(c) ? (char)(c | 0x20) : c;
            }
        });
    }

    /// <summary>True when <see cref="Normalize"/> would return <paramref name="name"/> unchanged.</summary>
    public static bool IsNormalized(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var previousWasSeparator = false;
        foreach (var c in name)
        {
            if (char.IsAsciiLetterUpper(c) || c is '_' or '.')
            {
                return false;
            }

            if (c == '-')
            {
                if (previousWasSeparator)
                {
                    return false;
                }

                previousWasSeparator = true;
                continue;
            }

            previousWasSeparator = false;
        }

        return true;
    }

    private static bool IsSeparator(char c) => c is '-' or '_' or '.';

    private static int NormalizedLength(string name)
    {
        var length = 0;
        var inSeparatorRun = false;
        foreach (var c in name)
        {
            if (IsSeparator(c))
            {
                if (!inSeparatorRun)
                {
                    length++;
                    inSeparatorRun = true;
                }

                continue;
            }

            inSeparatorRun = false;
            length++;
        }

        return length;
    }
}

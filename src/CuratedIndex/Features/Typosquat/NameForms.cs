namespace CuratedIndex.Features.Typosquat;

/// <summary>
/// The folded forms of a PEP 503 normalized name that lookalikes share with their original. Each form is a
/// dictionary key in <see cref="TyposquatDetector"/>, so a candidate finds its originals by lookups, not scans.
/// </summary>
internal static class NameForms
{
    // Prefixes and suffixes that name the language or the packaging rather than the project: attackers add, drop or
    // swap them ("python3-dateutil" for "python-dateutil", "libcurl" for "pycurl"). Longest first, so that
    // "python3" wins over "python". Applied to the separator-free form.
    private static readonly string[] Prefixes = ["python3", "python2", "python", "py3", "py2", "py", "lib"];
    // A bare trailing digit is not among them: "cu12"/"cu13" and "boto"/"boto3" are versions, scored as edits.
    private static readonly string[] Suffixes = ["python3", "python2", "python", "py3", "py2", "lib", "py"];

    // A core shorter than this is a syllable, not a name: "py" + "ml" is no imitation of "ml".
    private const int MinimumCoreLength = 3;

    // Words that present a name as another build of the same project ("sympy-dev", "fake-useragent-ex"). Legitimate
    // projects seldom take a popular name plus one of these; "nightly", "core", "lite", "plus" and "x" are left out
    // because big projects publish their own builds and parts under them (keras-nightly, pydantic-core).
    private static readonly string[] ReleaseWords = ["dev", "ex", "new", "latest", "official", "fixed", "update", "updated", "beta"];

    /// <summary>The name without separators: "setup-tools" and "setuptools" share it.</summary>
    public static string SeparatorFree(string name) => name.Contains('-', StringComparison.Ordinal) ? name.Replace("-", "", StringComparison.Ordinal) : name;

    /// <summary>
    /// The separator-free name with characters that look alike mapped to one of them: l, i, 1 (after lower-casing
    /// "I" is "i"), 0 and o, g and q (alike in most lowercase fonts: "loquru" for "loguru"), and the pairs rn/m,
    /// vv/w, cl/d. "jeIlyfish" and "jellyfish" share it.
    /// </summary>
    public static string HomoglyphCanonical(string separatorFree)
    {
        Span<char> buffer = separatorFree.Length <= 256 ? stackalloc char[separatorFree.Length] : new char[separatorFree.Length];
        var written = 0;
        for (var i = 0; i < separatorFree.Length; i++)
        {
            var c = separatorFree[i];
            var next = i + 1 < separatorFree.Length ? separatorFree[i + 1] : '\0';
            if ((c, next) is ('r', 'n'))
            {
                buffer[written++] = 'm';
                i++;
                continue;
            }

            if ((c, next) is ('v', 'v'))
            {
                buffer[written++] = 'w';
                i++;
                continue;
            }

            if ((c, next) is ('c', 'l'))
            {
                buffer[written++] = 'd';
                i++;
                continue;
            }

            buffer[written++] = c switch
            {
                'i' or '1' or '|' => 'l',
                '0' => 'o',
                'q' => 'g',
                _ => c,
            };
        }

        var folded = buffer[..written];
        return folded.SequenceEqual(separatorFree) ? separatorFree : new string(folded);
    }

    /// <summary>
    /// The separator-free name without one language or packaging prefix and one such suffix:
    /// "python3-dateutil", "python-dateutil" and "dateutil" share "dateutil"; "libhtml5" and "html5lib" share "html5".
    /// </summary>
    public static string Core(string name)
    {
        var core = SeparatorFree(name).AsSpan();
        foreach (var prefix in Prefixes)
        {
            if (core.Length - prefix.Length >= MinimumCoreLength && core.StartsWith(prefix, StringComparison.Ordinal))
            {
                core = core[prefix.Length..];
                break;
            }
        }

        foreach (var suffix in Suffixes)
        {
            if (core.Length - suffix.Length >= MinimumCoreLength && core.EndsWith(suffix, StringComparison.Ordinal))
            {
                core = core[..^suffix.Length];
                break;
            }
        }

        return core.Length == name.Length ? name : core.ToString();
    }

    /// <summary>
    /// The name without a trailing release word and the version digits before it, or null when it has none:
    /// "sympy-dev" gives "sympy", "pytz3-dev" gives "pytz3" and then, through <paramref name="withoutDigits"/>, "pytz".
    /// The word must stand alone after a separator: "pyradex" is not "pyrad" plus "ex".
    /// </summary>
    public static string? WithoutReleaseWord(string name, out string? withoutDigits, out string? word)
    {
        withoutDigits = null;
        word = null;
        var separator = name.LastIndexOf('-');
        if (separator <= 0 || !IsReleaseWord(name.AsSpan(separator + 1)))
        {
            return null;
        }

        word = name[(separator + 1)..];
        var stripped = name[..separator];
        var trimmed = stripped.TrimEnd("0123456789".ToCharArray()).TrimEnd('-');
        withoutDigits = trimmed.Length > 0 && trimmed.Length != stripped.Length ? trimmed : null;
        return stripped;
    }

    private static bool IsReleaseWord(ReadOnlySpan<char> word)
    {
        foreach (var releaseWord in ReleaseWords)
        {
            if (word.SequenceEqual(releaseWord))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The words of a name with separators in sorted order, or null for a one-word name: "nmap-python" and "python-nmap" share it.</summary>
    public static string? SortedWords(string name)
    {
        if (!name.Contains('-', StringComparison.Ordinal))
        {
            return null;
        }

        var words = name.Split('-', StringSplitOptions.RemoveEmptyEntries);
        Array.Sort(words, StringComparer.Ordinal);
        return string.Join('-', words);
    }

    /// <summary>True for the words that name the language rather than the project: "python", "py", "python3", "lib".</summary>
    public static bool IsLanguageWord(string word) => word is "python" or "python3" or "python2" or "py" or "py3" or "lib";

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> are neighbours on a QWERTY keyboard.</summary>
    public static bool KeyboardAdjacent(char a, char b)
    {
        if (a == b || !TryKey(a, out var ra, out var ca) || !TryKey(b, out var rb, out var cb))
        {
            return false;
        }

        // Rows are staggered by about a quarter, a half and a quarter key: compare horizontal positions in quarter keys.
        var xa = (ca * 4) + RowOffset(ra);
        var xb = (cb * 4) + RowOffset(rb);
        return Math.Abs(ra - rb) <= 1 && Math.Abs(xa - xb) <= 4;
    }

    private static readonly string[] Rows = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];

    private static int RowOffset(int row) => row switch { 0 => 0, 1 => 2, 2 => 3, _ => 5 };

    private static bool TryKey(char c, out int row, out int column)
    {
        for (row = 0; row < Rows.Length; row++)
        {
            column = Rows[row].IndexOf(c, StringComparison.Ordinal);
            if (column >= 0)
            {
                return true;
            }
        }

        row = column = -1;
        return false;
    }
}

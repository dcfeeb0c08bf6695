namespace CuratedIndex.Protocol.SimpleApi;

/// <summary>
/// Private copy of the distribution filename safety rule (to be replaced by <c>DistributionFilename.IsSafe</c>
/// once that lands): non-empty, at most 255 characters, only ASCII letters, digits and <c>._-+!~</c>
/// (so no '/', '\', NUL/control characters, '%' or ':'), not "." or "..", no leading '.' and no leading '-'.
/// </summary>
internal static class FilenameGuard
{
    private const int MaxLength = 255;

    public static bool IsSafe(string? filename)
    {
        if (string.IsNullOrEmpty(filename) || filename.Length > MaxLength)
        {
            return false;
        }

        if (filename[0] is '.' or '-')
        {
            // Also covers "." and "..".
            return false;
        }

        foreach (var c in filename)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+' or '!' or '~'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A printable, one-line, bounded rendering of an untrusted string for error messages.</summary>
    public static string Printable(string? value)
    {
        if (value is null)
        {
            return "(null)";
        }

        const int limit = 80;
        var chars = new char[Math.Min(value.Length, limit)];
        for (var i = 0; i < chars.Length; i++)
        {
            var c = value[i];
            chars[i] = c < 0x20 || c == 0x7f || char.IsSurrogate(c) ? '?' : c;
        }

        var text = new string(chars);
        return value.Length > limit ? text + "..." : text;
    }
}

using System.Globalization;

namespace CuratedIndex.Protocol.SimpleApi;

/// <summary>Small shared helpers for the Simple API readers and writers.</summary>
internal static class SimpleApiText
{
    /// <summary>PEP 503 normalization: runs of '-', '_' and '.' become one '-', then lower-case.</summary>
    public static string NormalizeName(string name)
    {
        var chars = new char[name.Length];
        var length = 0;
        var inSeparator = false;
        foreach (var c in name)
        {
            if (c is '-' or '_' or '.')
            {
                if (!inSeparator)
                {
                    chars[length++] = '-';
                    inSeparator = true;
                }
            }
            else
            {
                chars[length++] = char.ToLowerInvariant(c);
                inSeparator = false;
            }
        }

        return new string(chars, 0, length);
    }

    /// <summary>A plausible project name: 1..200 ASCII letters, digits, '.', '-', '_'.</summary>
    public static bool IsValidProjectName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses "Major.Minor" (or a bare "Major").</summary>
    public static bool TryParseApiVersion(string? value, out int major, out int minor)
    {
        major = 0;
        minor = 0;
        if (string.IsNullOrWhiteSpace(value) || value.Length > 20)
        {
            return false;
        }

        var text = value.Trim();
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var majorText = dot < 0 ? text : text[..dot];
        var minorText = dot < 0 ? "0" : text[(dot + 1)..];
        return IsDigits(majorText) && IsDigits(minorText)
            && int.TryParse(majorText, NumberStyles.None, CultureInfo.InvariantCulture, out major)
            && int.TryParse(minorText, NumberStyles.None, CultureInfo.InvariantCulture, out minor);
    }

    // Hex digits of each hashlib digest a page may name; an algorithm not listed here is kept if its digest is hex.
    private static readonly Dictionary<string, int> DigestLengths = new(StringComparer.Ordinal)
    {
        ["md5"] = 32,
        ["sha1"] = 40,
        ["sha224"] = 56,
        ["sha256"] = 64,
        ["sha384"] = 96,
        ["sha512"] = 128,
        ["sha3_224"] = 56,
        ["sha3_256"] = 64,
        ["sha3_384"] = 96,
        ["sha3_512"] = 128,
        ["blake2b"] = 128,
        ["blake2s"] = 64,
    };

    /// <summary>True when <paramref name="name"/> (lower-case) is a hashlib algorithm whose digest length is known.</summary>
    public static bool IsKnownHash(string name) => DigestLengths.ContainsKey(name);

    /// <summary>
    /// Why <paramref name="digest"/> cannot be a <paramref name="name"/> digest (not hex, or the wrong length for a known
    /// algorithm), or null when it can. A digest that fails this must never be used to name or verify a file.
    /// </summary>
    public static string? DigestProblem(string name, string digest)
    {
        if (!IsHex(digest))
        {
            return $"{name} digest is not hex";
        }

        return DigestLengths.TryGetValue(name, out var length) && digest.Length != length
            ? $"{name} digest has {digest.Length} hex digits, not {length}"
            : null;
    }

    public static bool IsHex(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A hashlib-style algorithm name: 1..32 ASCII letters, digits or '_'.</summary>
    public static bool IsHashName(string value)
    {
        if (value.Length is 0 or > 32)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Resolves <paramref name="href"/> against <paramref name="baseUri"/>; only http(s) results succeed.</summary>
    public static bool TryResolveHttpUrl(Uri baseUri, string href, out Uri resolved)
    {
        resolved = null!;
        if (href.Length == 0 || !Uri.TryCreate(baseUri, href, out var uri) || !uri.IsAbsoluteUri)
        {
            return false;
        }

        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
        {
            return false;
        }

        resolved = uri;
        return true;
    }

    /// <summary>An absolute http(s) URL, or null (used for provenance, which must be fully qualified).</summary>
    public static string? AbsoluteHttpUrlOrNull(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)
            || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return null;
        }

        return uri.AbsoluteUri;
    }

    /// <summary>The URL without its fragment (the query is kept).</summary>
    public static string WithoutFragment(Uri uri) => uri.GetComponents(UriComponents.HttpRequestUrl, UriFormat.UriEscaped);

    /// <summary>The percent-decoded last path segment, without query and fragment.</summary>
    public static string LastSegment(Uri uri)
    {
        var path = uri.AbsolutePath;
        var slash = path.LastIndexOf('/');
        return Uri.UnescapeDataString(slash < 0 ? path : path[(slash + 1)..]);
    }

    private static bool IsDigits(string value)
    {
        if (value.Length is 0 or > 9)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}

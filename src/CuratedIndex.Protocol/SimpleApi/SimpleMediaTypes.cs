using System.Globalization;

namespace CuratedIndex.Protocol.SimpleApi;

/// <summary>The representation chosen for a Simple API response.</summary>
public enum SimpleFormat
{
    Html,
    Json,
}

/// <summary>PEP 691 media types and PyPI-compatible content negotiation (PROTOCOL.md C1–C6, N1, N2).</summary>
public static class SimpleMediaTypes
{
    public const string Json = "application/vnd.pypi.simple.v1+json";
    public const string Html = "application/vnd.pypi.simple.v1+html";
    public const string TextHtml = "text/html";
    public const string LatestJson = "application/vnd.pypi.simple.latest+json";
    public const string LatestHtml = "application/vnd.pypi.simple.latest+html";

    /// <summary>Content-Type for JSON: no charset parameter, exactly like PyPI.</summary>
    public const string JsonContentType = Json;

    /// <summary>Content-Type for HTML: text/html (pip &lt; 22.2 requires it), with charset.</summary>
    public const string HtmlContentType = "text/html; charset=utf-8";

    /// <summary>Accept headers longer than this are treated as absent.</summary>
    public const int MaxAcceptLength = 8 * 1024;

    // Offers in PyPI's order: text/html, v1+html, v1+json.
    private static readonly (string Type, string Subtype, SimpleFormat Format)[] Offers =
    [
        ("text", "html", SimpleFormat.Html),
        ("application", "vnd.pypi.simple.v1+html", SimpleFormat.Html),
        ("application", "vnd.pypi.simple.v1+json", SimpleFormat.Json),
    ];

    public static string ContentType(SimpleFormat format) =>
        format == SimpleFormat.Json ? JsonContentType : HtmlContentType;

    /// <summary>
    /// Chooses the representation like Warehouse/webob (PROTOCOL.md N1): each offer gets the q of the most
    /// specific matching media range (exact, then type/*, then */*); offers with q=0 or no match are dropped;
    /// the rest are stable-sorted by q descending. A missing, unparsable or overlong header, or no acceptable
    /// offer, gives HTML. <c>…latest+json</c>/<c>…latest+html</c> count as the v1 types.
    /// </summary>
    public static SimpleFormat Negotiate(string? acceptHeader)
    {
        if (string.IsNullOrWhiteSpace(acceptHeader) || acceptHeader.Length > MaxAcceptLength)
        {
            return SimpleFormat.Html;
        }

        var ranges = new List<MediaRange>();
        if (!TryParseAccept(acceptHeader, ranges) || ranges.Count == 0)
        {
            return SimpleFormat.Html;
        }

        var bestQ = 0.0;
        var best = SimpleFormat.Html;
        foreach (var (type, subtype, format) in Offers)
        {
            var specificity = -1;
            var q = 0.0;
            foreach (var range in ranges)
            {
                var s = Specificity(range, type, subtype);
                if (s > specificity)
                {
                    specificity = s;
                    q = range.Quality;
                }
                else if (s == specificity && s >= 0 && range.Quality > q)
                {
                    q = range.Quality;
                }
            }

            // Strictly greater keeps the earlier offer on ties (stable sort, take first).
            if (specificity >= 0 && q > bestQ)
            {
                bestQ = q;
                best = format;
            }
        }

        return best;
    }

    private static int Specificity(MediaRange range, string type, string subtype)
    {
        if (range.Type == "*")
        {
            return 0;
        }

        if (!string.Equals(range.Type, type, StringComparison.OrdinalIgnoreCase))
        {
            return -1;
        }

        if (range.Subtype == "*")
        {
            return 1;
        }

        var rangeSubtype = range.Subtype;
        if (string.Equals(rangeSubtype, "vnd.pypi.simple.latest+json", StringComparison.OrdinalIgnoreCase))
        {
            rangeSubtype = "vnd.pypi.simple.v1+json";
        }
        else if (string.Equals(rangeSubtype, "vnd.pypi.simple.latest+html", StringComparison.OrdinalIgnoreCase))
        {
            rangeSubtype = "vnd.pypi.simple.v1+html";
        }

        return string.Equals(rangeSubtype, subtype, StringComparison.OrdinalIgnoreCase) ? 2 : -1;
    }

    private readonly record struct MediaRange(string Type, string Subtype, double Quality);

    /// <summary>RFC 9110 Accept syntax; any malformed element makes the whole header invalid (returns false).</summary>
    private static bool TryParseAccept(string header, List<MediaRange> ranges)
    {
        var i = 0;
        while (i < header.Length)
        {
            SkipWhitespace(header, ref i);
            if (i < header.Length && header[i] == ',')
            {
                i++; // empty list element
                continue;
            }

            if (i >= header.Length)
            {
                break;
            }

            var type = ReadToken(header, ref i);
            if (type.Length == 0 || i >= header.Length || header[i] != '/')
            {
                return false;
            }

            i++;
            var subtype = ReadToken(header, ref i);
            if (subtype.Length == 0 || (type == "*" && subtype != "*"))
            {
                return false;
            }

            var quality = 1.0;
            SkipWhitespace(header, ref i);
            while (i < header.Length && header[i] == ';')
            {
                i++;
                SkipWhitespace(header, ref i);
                var name = ReadToken(header, ref i);
                if (name.Length == 0 || i >= header.Length || header[i] != '=')
                {
                    return false;
                }

                i++;
                string value;
                if (i < header.Length && header[i] == '"')
                {
                    if (!TryReadQuoted(header, ref i, out value))
                    {
                        return false;
                    }
                }
                else
                {
                    value = ReadToken(header, ref i);
                    if (value.Length == 0)
                    {
                        return false;
                    }
                }

                if (string.Equals(name, "q", StringComparison.OrdinalIgnoreCase) && !TryParseQuality(value, out quality))
                {
                    return false;
                }

                SkipWhitespace(header, ref i);
            }

            if (i < header.Length && header[i] != ',')
            {
                return false;
            }

            ranges.Add(new MediaRange(type, subtype, quality));
        }

        return true;
    }

    private static bool TryParseQuality(string value, out double quality)
    {
        // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
        quality = 0;
        if (value.Length is 0 or > 5 || (value[0] != '0' && value[0] != '1'))
        {
            return false;
        }

        if (value.Length > 1 && (value[1] != '.' || !value.AsSpan(2).ContainsOnlyAsciiDigits()))
        {
            return false;
        }

        if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out quality))
        {
            return false;
        }

        return quality <= 1.0;
    }

    private static bool ContainsOnlyAsciiDigits(this ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static void SkipWhitespace(string s, ref int i)
    {
        while (i < s.Length && (s[i] == ' ' || s[i] == '\t'))
        {
            i++;
        }
    }

    private static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && IsTokenChar(s[i]))
        {
            i++;
        }

        return s[start..i];
    }

    private static bool TryReadQuoted(string s, ref int i, out string value)
    {
        var sb = new System.Text.StringBuilder();
        i++; // opening quote
        while (i < s.Length)
        {
            var c = s[i++];
            if (c == '"')
            {
                value = sb.ToString();
                return true;
            }

            if (c == '\\' && i < s.Length)
            {
                c = s[i++];
            }

            if (c < 0x20 && c != '\t')
            {
                break;
            }

            sb.Append(c);
        }

        value = string.Empty;
        return false;
    }

    // RFC 9110 tchar.
    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.'
            or '^' or '_' or '`' or '|' or '~';
}

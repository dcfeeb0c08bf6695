using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace CuratedIndex.Hosting;

/// <summary>
/// Reads a request's <c>Accept-Encoding</c> (RFC 9110 12.5.3) for the one question the index asks: may the gzip copy of a
/// document be sent? pip, uv, poetry and pdm send <c>gzip, deflate</c> (and more); PyPI answers them compressed.
/// Asked on every page request, so it walks the header's spans instead of splitting it into strings.
/// </summary>
public static class AcceptEncoding
{
    /// <summary>
    /// True when the header accepts gzip (<c>gzip</c> or <c>x-gzip</c>, else <c>*</c>, with a q-value above 0) at least
    /// as much as identity. No header, or gzip refused with <c>q=0</c>, means identity.
    /// </summary>
    public static bool AcceptsGzip(StringValues header)
    {
        double? gzip = null;
        double? wildcard = null;
        double? identity = null;
        foreach (var value in header)
        {
            var rest = value.AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var item = comma < 0 ? rest : rest[..comma];
                rest = comma < 0 ? default : rest[(comma + 1)..];
                var semicolon = item.IndexOf(';');
                var coding = (semicolon < 0 ? item : item[..semicolon]).Trim();
                var quality = semicolon < 0 ? 1.0 : QualityOf(item[(semicolon + 1)..]);
                if (coding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || coding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase))
                {
                    gzip = Math.Max(gzip ?? 0, quality);
                }
                else if (coding is "*")
                {
                    wildcard = quality;
                }
                else if (coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    identity = quality;
                }
            }
        }

        var gzipQuality = gzip ?? wildcard ?? 0;
        // Identity is acceptable unless refused; when the client ranks it above gzip, it gets identity.
        return gzipQuality > 0 && gzipQuality >= (identity ?? 0);
    }

    // The parameters after a coding: "q=0.5" (RFC 9110 12.4.2), possibly among others. A malformed q-value refuses the
    // coding rather than guessing: identity is always there to fall back on.
    private static double QualityOf(ReadOnlySpan<char> parameters)
    {
        while (!parameters.IsEmpty)
        {
            var semicolon = parameters.IndexOf(';');
            var parameter = (semicolon < 0 ? parameters : parameters[..semicolon]).Trim();
            parameters = semicolon < 0 ? default : parameters[(semicolon + 1)..];
            if (parameter.Length >= 2 && (parameter[0] is 'q' or 'Q') && parameter[1] == '=')
            {
                return double.TryParse(parameter[2..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var q) && q is >= 0 and <= 1 ? q : 0;
            }
        }

        return 1.0;
    }
}

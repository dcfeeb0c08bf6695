using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace CuratedIndex.Protocol.Pep508;

/// <summary>
/// The fields of a core metadata file (a wheel's <c>METADATA</c>, PEP 658's <c>.metadata</c>, an sdist's <c>PKG-INFO</c>)
/// that a dependency closure needs. Headers are read up to the first empty line (the description body is ignored);
/// continuation lines are folded. Bounded: more than <see cref="MaxBytes"/> is refused.
/// </summary>
public sealed record CoreMetadata(
    string MetadataVersion,
    string Name,
    string Version,
    IReadOnlyList<string> RequiresDist,
    string? RequiresPython,
    IReadOnlyList<string> ProvidesExtra,
    IReadOnlyList<string> Dynamic)
{
    public const int MaxBytes = 4 * 1024 * 1024;

    /// <summary>Parses UTF-8 metadata (a BOM and CRLF line ends are accepted); on failure <paramref name="error"/> says why. Never throws.</summary>
    /// <remarks>
    /// Like Python's email parser (which pip uses): header lines are <c>Name: value</c>; a line starting with a space or
    /// tab continues the previous header (folded here with a single space); the first empty line, or the first line
    /// that is neither, ends the headers. Header names compare case-insensitively; for a single-valued field the first
    /// occurrence counts. Bytes that are not UTF-8 become U+FFFD. Metadata-Version, Name (a valid project name) and
    /// Version (non-empty, not necessarily PEP 440) are required. <see cref="ProvidesExtra"/> holds PEP 685 normalized
    /// names, each once; <see cref="RequiresDist"/> and <see cref="Dynamic"/> hold the values as written (trimmed).
    /// </remarks>
    public static bool TryParse(ReadOnlySpan<byte> utf8, [NotNullWhen(true)] out CoreMetadata? metadata, [NotNullWhen(false)] out string? error)
    {
        metadata = null;
        if (utf8.Length > MaxBytes)
        {
            error = $"the metadata is larger than {MaxBytes} bytes";
            return false;
        }

        if (utf8.StartsWith(Utf8Bom))
        {
            utf8 = utf8[Utf8Bom.Length..];
        }

        var headers = ReadHeaders(Encoding.UTF8.GetString(HeaderBlock(utf8)));
        string? First(string name) => headers.Find(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;
        List<string> All(string name) =>
            headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase) && h.Value.Length > 0).Select(h => h.Value).ToList();

        var metadataVersion = First("Metadata-Version");
        var name = First("Name");
        var version = First("Version");
        if (string.IsNullOrEmpty(metadataVersion))
        {
            error = "the metadata has no Metadata-Version header";
            return false;
        }

        if (string.IsNullOrEmpty(name))
        {
            error = "the metadata has no Name header";
            return false;
        }

        if (!ProjectName.IsValid(name))
        {
            error = $"the metadata's Name '{Marker.Quote(name)}' is not a valid project name";
            return false;
        }

        if (string.IsNullOrEmpty(version))
        {
            error = "the metadata has no Version header";
            return false;
        }

        var extras = new List<string>();
        foreach (var extra in All("Provides-Extra"))
        {
            var normalized = Requirement.NormalizeExtra(extra);
            if (!extras.Contains(normalized))
            {
                extras.Add(normalized);
            }
        }

        var requiresPython = First("Requires-Python");
        metadata = new CoreMetadata(
            metadataVersion,
            name,
            version,
            All("Requires-Dist"),
            string.IsNullOrEmpty(requiresPython) ? null : requiresPython,
            extras,
            All("Dynamic"));
        error = null;
        return true;
    }

    /// <summary>
    /// True when <see cref="RequiresDist"/> can be trusted to be what an install would use: always for a wheel's metadata;
    /// for an sdist's PKG-INFO only from Metadata-Version 2.2 on and when Requires-Dist is not listed in Dynamic (PEP 643).
    /// </summary>
    /// <remarks>
    /// This property applies the sdist rule (PEP 643); callers trust a wheel's metadata without asking it. A
    /// Metadata-Version that is not a version counts as older than 2.2.
    /// </remarks>
    public bool RequiresDistIsStatic =>
        Pep440Version.TryParse(MetadataVersion, out var version)
        && version >= Pep643Version
        && !Dynamic.Any(entry => entry.Equals("Requires-Dist", StringComparison.OrdinalIgnoreCase));

    private static readonly Pep440Version Pep643Version = Pep440Version.Parse("2.2");

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    // The bytes up to the first empty line (LF or CRLF), so a large description body is never decoded.
    private static ReadOnlySpan<byte> HeaderBlock(ReadOnlySpan<byte> utf8)
    {
        var lineStart = 0;
        while (lineStart < utf8.Length)
        {
            var newline = utf8[lineStart..].IndexOf((byte)'\n');
            var lineEnd = newline < 0 ? utf8.Length : lineStart + newline;
            var line = utf8[lineStart..lineEnd];
            if (line.IsEmpty || (line.Length == 1 && line[0] == (byte)'\r'))
            {
                return utf8[..lineStart];
            }

            lineStart = lineEnd + 1;
        }

        return utf8;
    }

    private readonly record struct Header(string Name, string Value);

    private static List<Header> ReadHeaders(string block)
    {
        var headers = new List<Header>();
        foreach (var rawLine in block.Split('\n'))
        {
            var line = rawLine.TrimEnd('\r');
            if (line.Length == 0)
            {
                break;
            }

            if (line[0] is ' ' or '\t')
            {
                if (headers.Count == 0)
                {
                    break;
                }

                var continued = line.Trim();
                if (continued.Length > 0)
                {
                    var last = headers[^1];
                    headers[^1] = last with { Value = last.Value.Length == 0 ? continued : last.Value + " " + continued };
                }

                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0 || !IsHeaderName(line.AsSpan(0, colon)))
            {
                // Python's email parser treats the rest as the body; so do we.
                break;
            }

            headers.Add(new Header(line[..colon], line[(colon + 1)..].Trim()));
        }

        return headers;
    }

    // RFC 5322 field names: printable ASCII except the colon.
    private static bool IsHeaderName(ReadOnlySpan<char> name)
    {
        foreach (var c in name)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}

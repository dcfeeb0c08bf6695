using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace CuratedIndex.Protocol.SimpleApi;

/// <summary>Reads PEP 503 HTML pages (project detail and the streaming root project list).</summary>
public static class SimpleHtmlReader
{
    private const int ChunkChars = 16 * 1024;
    private const int MaxAnchorTextChars = 1024;

    /// <summary>
    /// Parses a project detail page. Relative hrefs resolve against the first <c>&lt;base href&gt;</c> that appears
    /// before the first anchor, else against <paramref name="pageUrl"/> (which must be the final response URL).
    /// Anchors without an href, or whose resolved URL is not http(s) or has an empty last segment, are ignored.
    /// A truncated document yields the anchors that are complete. Versions are left empty.
    /// </summary>
    public static ProjectPage ReadProject(string html, Uri pageUrl, string normalizedName)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(pageUrl);
        ArgumentException.ThrowIfNullOrEmpty(normalizedName);
        if (!pageUrl.IsAbsoluteUri)
        {
            throw new ArgumentException("The page URL must be absolute.", nameof(pageUrl));
        }

        var tokenizer = new HtmlTokenizer();
        var token = new HtmlToken();
        var position = 0;
        Uri? baseUrl = null;
        var sawAnchor = false;
        var apiVersion = "1.0";
        long? serial = null;
        string? status = null;
        string? statusReason = null;
        var files = new List<DistributionFile>();
        var dropped = new List<string>();

        while (tokenizer.TryNext(html.AsSpan(position), isFinal: true, token, out var consumed))
        {
            position += consumed;
            switch (token.Kind)
            {
                case HtmlTokenKind.Comment:
                    serial ??= ParseSerialComment(token.Value);
                    break;
                case HtmlTokenKind.StartTag when token.Value == "base":
                    {
                        var href = token.GetAttribute("href")?.Trim();
                        if (!sawAnchor && baseUrl is null && !string.IsNullOrEmpty(href)
                            && SimpleApiText.TryResolveHttpUrl(pageUrl, href, out var resolved))
                        {
                            baseUrl = resolved;
                        }

                        break;
                    }

                case HtmlTokenKind.StartTag when token.Value == "meta":
                    switch (token.GetAttribute("name")?.Trim().ToLowerInvariant())
                    {
                        case "pypi:repository-version":
                            apiVersion = CheckRepositoryVersion(token.GetAttribute("content"));
                            break;
                        case "pypi:project-status":
                            status ??= NullIfEmpty(token.GetAttribute("content")?.Trim());
                            break;
                        case "pypi:project-status-reason":
                            statusReason ??= NullIfEmpty(token.GetAttribute("content"));
                            break;
                    }

                    break;
                case HtmlTokenKind.StartTag when token.Value == "a":
                    sawAnchor = true;
                    var file = ReadAnchor(token, baseUrl ?? pageUrl, out var drop);
                    if (file is not null)
                    {
                        files.Add(file);
                    }
                    else if (drop is not null)
                    {
                        dropped.Add(drop);
                    }

                    break;
            }
        }

        return new ProjectPage
        {
            Name = normalizedName,
            ApiVersion = apiVersion,
            LastSerial = serial,
            Files = files,
            Status = status is null ? null : new ProjectStatus(status, statusReason),
            DroppedFiles = dropped,
        };
    }

    /// <summary>Reads at most <paramref name="maxBytes"/> UTF-8 bytes from the stream and parses them as a project page.</summary>
    public static async Task<ProjectPage> ReadProjectAsync(Stream html, Uri pageUrl, string normalizedName, int maxBytes, CancellationToken ct = default)
    {
        var bytes = await BoundedReader.ReadAllAsync(html, maxBytes, ct).ConfigureAwait(false);
        return ReadProject(Encoding.UTF8.GetString(bytes.Span), pageUrl, normalizedName);
    }

    /// <summary>
    /// Streams a PEP 503 root page: each <c>&lt;a ...&gt;name&lt;/a&gt;</c> yields its anchor text as a project name.
    /// Anchor texts that are not valid project names (letters, digits, '.', '-', '_') are skipped. The document is
    /// read in chunks and never buffered whole. <paramref name="onSerial"/> receives a <c>&lt;!--SERIAL n--&gt;</c> value.
    /// </summary>
    public static async IAsyncEnumerable<ProjectListEntry> ReadIndexAsync(
        TextReader reader,
        [EnumeratorCancellation] CancellationToken ct,
        Action<long>? onSerial = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var tokenizer = new HtmlTokenizer();
        var token = new HtmlToken();
        var buffer = new char[ChunkChars];
        var start = 0;
        var end = 0;
        var isFinal = false;
        StringBuilder? anchorText = null;

        while (true)
        {
            while (tokenizer.TryNext(buffer.AsSpan(start, end - start), isFinal, token, out var consumed))
            {
                start += consumed;
                switch (token.Kind)
                {
                    case HtmlTokenKind.StartTag when token.Value == "a":
                        anchorText = new StringBuilder();
                        break;
                    case HtmlTokenKind.StartTag when token.Value == "meta"
                        && string.Equals(token.GetAttribute("name")?.Trim(), "pypi:repository-version", StringComparison.OrdinalIgnoreCase):
                        CheckRepositoryVersion(token.GetAttribute("content"));
                        break;
                    case HtmlTokenKind.Text when anchorText is not null:
                        if (anchorText.Length + token.Value.Length > MaxAnchorTextChars)
                        {
                            anchorText = null; // not a project name
                        }
                        else
                        {
                            anchorText.Append(token.Value);
                        }

                        break;
                    case HtmlTokenKind.EndTag when token.Value == "a" && anchorText is not null:
                        {
                            var name = System.Net.WebUtility.HtmlDecode(anchorText.ToString()).Trim();
                            anchorText = null;
                            if (SimpleApiText.IsValidProjectName(name))
                            {
                                yield return new ProjectListEntry(name, null);
                            }

                            break;
                        }

                    case HtmlTokenKind.Comment:
                        if (ParseSerialComment(token.Value) is { } serial)
                        {
                            onSerial?.Invoke(serial);
                        }

                        break;
                }
            }

            if (isFinal)
            {
                yield break;
            }

            if (start > 0)
            {
                Array.Copy(buffer, start, buffer, 0, end - start);
                end -= start;
                start = 0;
            }

            if (end == buffer.Length)
            {
                // One construct does not fit: grow (the tokenizer caps a construct's length).
                Array.Resize(ref buffer, buffer.Length * 2);
            }

            ct.ThrowIfCancellationRequested();
            var read = await reader.ReadAsync(buffer.AsMemory(end), ct).ConfigureAwait(false);
            if (read == 0)
            {
                isFinal = true;
            }

            end += read;
        }
    }

    private static DistributionFile? ReadAnchor(HtmlToken anchor, Uri baseUrl, out string? dropped)
    {
        dropped = null;
        var href = anchor.GetAttribute("href")?.Trim();
        if (string.IsNullOrEmpty(href) || !SimpleApiText.TryResolveHttpUrl(baseUrl, href, out var url))
        {
            return null;
        }

        var filename = SimpleApiText.LastSegment(url);
        if (filename.Length == 0)
        {
            return null; // a directory-style link, not a file
        }

        if (!DistributionFilename.IsSafe(filename))
        {
            throw new SimplePageFormatException($"file '{UntrustedText.Printable(filename)}' has an unsafe filename");
        }

        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (url.Fragment.Length > 1 && FragmentHashProblem(url.Fragment[1..]) is { } problem)
        {
            // Fail closed: a file whose digest cannot be right is not offered at all (never as a file without a hash).
            dropped = $"file '{UntrustedText.Printable(filename)}': {problem}";
            return null;
        }

        if (url.Fragment.Length > 1 && TryParseHash(url.Fragment[1..], out var hashName, out var digest))
        {
            hashes[hashName] = digest;
        }

        var yanked = anchor.GetAttribute("data-yanked");
        var gpg = anchor.GetAttribute("data-gpg-sig")?.Trim();
        long? size = long.TryParse(anchor.GetAttribute("data-size")?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsedSize)
            ? parsedSize
            : null;

        return new DistributionFile
        {
            Filename = filename,
            Url = SimpleApiText.WithoutFragment(url),
            Hashes = hashes,
            RequiresPython = NullIfEmpty(anchor.GetAttribute("data-requires-python")?.Trim()),
            CoreMetadata = ParseMetadataAttribute(anchor.GetAttribute("data-core-metadata") ?? anchor.GetAttribute("data-dist-info-metadata")),
            GpgSig = string.Equals(gpg, "true", StringComparison.OrdinalIgnoreCase) ? true
                : string.Equals(gpg, "false", StringComparison.OrdinalIgnoreCase) ? false : null,
            IsYanked = yanked is not null,
            YankedReason = NullIfEmpty(yanked),
            Size = size,
            UploadTime = NullIfEmpty(anchor.GetAttribute("data-upload-time")?.Trim()),
            Provenance = SimpleApiText.AbsoluteHttpUrlOrNull(anchor.GetAttribute("data-provenance")),
        };
    }

    /// <summary>
    /// "true" → metadata without hash; "name=hex" → that hash; "false", empty (bare attribute) or anything
    /// unparsable → null (never claim metadata upstream did not clearly offer, PROTOCOL.md F2).
    /// </summary>
    private static Dictionary<string, string>? ParseMetadataAttribute(string? value)
    {
        value = value?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (string.Equals(value, "true", StringComparison.OrdinalIgnoreCase))
        {
            return new Dictionary<string, string>(StringComparer.Ordinal);
        }

        return TryParseHash(value, out var name, out var digest)
            ? new Dictionary<string, string>(StringComparer.Ordinal) { [name] = digest }
            : null;
    }

    /// <summary>For <c>#name=digest</c> naming a known algorithm, why the digest cannot be right; null otherwise (incl. <c>#egg=…</c>).</summary>
    private static string? FragmentHashProblem(string fragment)
    {
        var equals = fragment.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            return null;
        }

        var name = fragment[..equals].ToLowerInvariant();
        return SimpleApiText.IsKnownHash(name) ? SimpleApiText.DigestProblem(name, fragment[(equals + 1)..]) : null;
    }

    private static bool TryParseHash(string text, out string name, out string digest)
    {
        name = string.Empty;
        digest = string.Empty;
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            return false;
        }

        var candidateName = text[..equals].ToLowerInvariant();
        var candidateDigest = text[(equals + 1)..];
        if (!SimpleApiText.IsHashName(candidateName) || SimpleApiText.DigestProblem(candidateName, candidateDigest) is not null)
        {
            return false; // e.g. #egg=name or #main, or a digest that cannot be right (metadata: then not offered)
        }

        name = candidateName;
        digest = candidateDigest.ToLowerInvariant();
        return true;
    }

    private static string CheckRepositoryVersion(string? content)
    {
        var text = content?.Trim();
        if (!SimpleApiText.TryParseApiVersion(text, out var major, out _))
        {
            throw new SimplePageFormatException($"repository-version '{UntrustedText.Printable(text)}' is not a version");
        }

        if (major != 1)
        {
            throw new SimplePageFormatException($"repository-version {UntrustedText.Printable(text)} is not supported");
        }

        return text!;
    }

    private static long? ParseSerialComment(string comment)
    {
        var text = comment.AsSpan().Trim();
        if (!text.StartsWith("SERIAL", StringComparison.Ordinal))
        {
            return null;
        }

        return long.TryParse(text[6..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var serial) ? serial : null;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

namespace CuratedIndex.Protocol.SimpleApi;

/// <summary>
/// One project's detail page (PEP 503 / PEP 691), independent of its representation.
/// Values that came from upstream are kept as upstream wrote them so that lockfiles do not churn
/// (PROTOCOL.md M2, E7).
/// </summary>
public sealed record ProjectPage
{
    /// <summary>The PEP 503 normalized project name.</summary>
    public required string Name { get; init; }

    /// <summary>The api-version upstream declared ("1.0" when it declared none).</summary>
    public string ApiVersion { get; init; } = "1.0";

    /// <summary>Upstream's last serial (meta._last-serial, X-PyPI-Last-Serial or the HTML SERIAL comment).</summary>
    public long? LastSerial { get; init; }

    /// <summary>The versions upstream listed (PEP 700); may include versions without files.</summary>
    public IReadOnlyList<string> Versions { get; init; } = [];

    public IReadOnlyList<DistributionFile> Files { get; init; } = [];

    /// <summary>PEP 792 status, or null when upstream sent none (clients assume active).</summary>
    public ProjectStatus? Status { get; init; }

    /// <summary>
    /// Files upstream listed but the reader left out, one line each (filename and why): a file whose digest cannot be
    /// right (not hex, or the wrong length) is never offered, since nothing could verify its bytes.
    /// </summary>
    public IReadOnlyList<string> DroppedFiles { get; init; } = [];
}

/// <summary>PEP 792 project status marker: active, archived, quarantined or deprecated.</summary>
public sealed record ProjectStatus(string Status, string? Reason)
{
    public const string Active = "active";
    public const string Archived = "archived";
    public const string Quarantined = "quarantined";
    public const string Deprecated = "deprecated";
}

/// <summary>One file link of a project page.</summary>
public sealed record DistributionFile
{
    /// <summary>The distribution filename: the last path segment of <see cref="Url"/>, percent-decoded.</summary>
    public required string Filename { get; init; }

    /// <summary>The absolute URL of the file (relative upstream URLs are resolved against the page URL or its base).</summary>
    public required string Url { get; init; }

    /// <summary>Hash name (lower-case, hashlib name) to lower-case hex digest.</summary>
    public IReadOnlyDictionary<string, string> Hashes { get; init; } = new Dictionary<string, string>();

    public string? RequiresPython { get; init; }

    /// <summary>PEP 658/714 metadata: null when none is offered; otherwise its hashes (possibly empty, meaning "true").</summary>
    public IReadOnlyDictionary<string, string>? CoreMetadata { get; init; }

    public bool? GpgSig { get; init; }

    public bool IsYanked { get; init; }

    /// <summary>The yank reason; only meaningful when <see cref="IsYanked"/> is true (null or empty: no reason).</summary>
    public string? YankedReason { get; init; }

    public long? Size { get; init; }

    /// <summary>PEP 700 upload time exactly as upstream wrote it (yyyy-mm-ddThh:mm:ss.ffffffZ).</summary>
    public string? UploadTime { get; init; }

    /// <summary>PEP 740 provenance URL (absolute), or null.</summary>
    public string? Provenance { get; init; }

    public string? Sha256 => Hashes.TryGetValue("sha256", out var digest) ? digest : null;
}

/// <summary>One entry of the root project list.</summary>
public sealed record ProjectListEntry(string Name, long? LastSerial);

/// <summary>An upstream page that cannot be read safely. The message is one line, fit for a 502 body.</summary>
public sealed class SimplePageFormatException(string message) : FormatException(message);

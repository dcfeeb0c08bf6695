namespace CuratedIndex.Data;

/// <summary>The kinds of upstream document kept in <see cref="CachedPage"/>.</summary>
public static class PageKind
{
    public const string Simple = "simple";
    public const string Json = "json";

    /// <summary>The root project list; its body lives in the cache directory, the row keeps the validators.</summary>
    public const string Root = "root";
}

/// <summary>
/// The last good upstream document for a key, kept for ETag revalidation and for serving when
/// upstream fails (stale-if-error). Only documents that parsed are stored.
/// </summary>
public sealed class CachedPage
{
    public long Id { get; set; }
    public required string Kind { get; set; }
    public required string Key { get; set; }
    public required string ContentType { get; set; }

    /// <summary>The URL the body was read from (relative links in it resolve against this).</summary>
    public required string SourceUrl { get; set; }

    public required byte[] Body { get; set; }
    public string? ETag { get; set; }
    public string? LastModified { get; set; }
    public long? LastSerial { get; set; }
    public DateTimeOffset FetchedAt { get; set; }
    public DateTimeOffset ValidatedAt { get; set; }
}

/// <summary>A distribution file committed to the artifact store after its sha256 matched the index.</summary>
public sealed class StoredArtifact
{
    public long Id { get; set; }
    public required string Project { get; set; }
    public required string Filename { get; set; }
    public required string Sha256 { get; set; }
    public long Size { get; set; }
    public required string StorageKey { get; set; }
    public DateTimeOffset StoredAt { get; set; }
}

/// <summary>Something that went wrong in a way a person must look at (e.g. upstream bytes that did not match the index).</summary>
public sealed class Incident
{
    public long Id { get; set; }
    public required string Kind { get; set; }
    public required string Project { get; set; }
    public string? Filename { get; set; }
    public required string Detail { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
}

public static class IncidentKind
{
    public const string HashMismatch = "hash-mismatch";
}

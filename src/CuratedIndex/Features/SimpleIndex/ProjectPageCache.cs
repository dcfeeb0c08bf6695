using System.Collections.Frozen;
using System.Text;
using CuratedIndex.Data;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Features.UpstreamWatch;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>A parsed upstream project page, with its files by filename.</summary>
public sealed record CachedProject(ProjectPage Page, FrozenDictionary<string, DistributionFile> FilesByName)
{
    /// <summary>
    /// The newest final release upstream lists files for (normalized), or null: worked out once per cached page, since
    /// every tier 3 page request asks (<see cref="Releases.Tier3Requests"/>) and a page may list thousands of files.
    /// </summary>
    public string? NewestRelease { get; } = Releases.Tier3Requests.NewestRelease(Page);
}

/// <summary>
/// Upstream project pages (<c>/simple/{project}/</c>), read as PEP 691 JSON when offered, else PEP 503 HTML. Every
/// visibility fact (which files exist, PEP 792 status) for pages, files, <c>.metadata</c> and provenance comes from
/// <see cref="UpstreamDocumentCache{T}.GetAsync"/>: a page no older than <c>Upstream:PageMaxAge</c>, or an older one
/// only while upstream fails and only where the upstream watch has not recorded the project quarantined or gone since.
/// </summary>
public sealed class ProjectPageCache(
    IServiceScopeFactory scopes,
    UpstreamPageClient upstream,
    IOptions<UpstreamOptions> options,
    CacheMemory memory,
    TimeProvider clock,
    ILogger<ProjectPageCache> logger)
    : UpstreamDocumentCache<CachedProject>(scopes, upstream, options, memory, clock, logger)
{
    public const string UpstreamAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

    protected override string Kind => PageKind.Simple;

    protected override string Accept => UpstreamAccept;

    protected override string UpstreamPath(string key) => $"simple/{key}/";

    protected override long SizeOf(CachedProject value)
    {
        var page = value.Page;
        long bytes = 256 + CacheSizes.Of(page.Name) + CacheSizes.Of(page.ApiVersion) + CacheSizes.Of(page.Status?.Reason);
        foreach (var version in page.Versions)
        {
            bytes += 8 + CacheSizes.Of(version);
        }

        foreach (var file in page.Files)
        {
            // The record, its two hash dictionaries and its slots in the list and the frozen map by filename.
            bytes += 480 + CacheSizes.Of(file.Filename) + CacheSizes.Of(file.Url) + CacheSizes.Of(file.RequiresPython)
                + CacheSizes.Of(file.YankedReason) + CacheSizes.Of(file.UploadTime) + CacheSizes.Of(file.Provenance);
            foreach (var (name, digest) in file.Hashes)
            {
                bytes += 48 + CacheSizes.Of(name) + CacheSizes.Of(digest);
            }

            foreach (var (name, digest) in file.CoreMetadata ?? FrozenDictionary<string, string>.Empty)
            {
                bytes += 48 + CacheSizes.Of(name) + CacheSizes.Of(digest);
            }
        }

        return bytes;
    }

    /// <summary>
    /// A stale page (upstream failing) does not override what the upstream watch recorded after the page was last
    /// validated, on this node or another: a project gone upstream is not found, a quarantined one lists no files.
    /// </summary>
    protected override async Task<DocumentLookup<CachedProject>?> OverruleStaleAsync(CuratedIndexDbContext db, string key, DocumentLookup<CachedProject> stale, CancellationToken cancellationToken)
    {
        var validatedAt = stale.ValidatedAt.UtcDateTime;
        var watched = await db.WatchedProjects.AsNoTracking()
            .Where(w => w.Project == key && w.CheckedAt >= validatedAt)
            .Select(w => w.Status)
            .FirstOrDefaultAsync(cancellationToken);
        switch (watched)
        {
            case UpstreamWatcher.NotFoundStatus:
                return new DocumentLookup<CachedProject>(LookupStatus.NotFound);
            case ProjectStatus.Quarantined when stale.Value is { } cached && cached.Page.Status?.Status != ProjectStatus.Quarantined:
                var page = cached.Page with
                {
                    Files = [],
                    Versions = [],
                    Status = new ProjectStatus(ProjectStatus.Quarantined, "quarantined upstream, as the upstream watch recorded"),
                };
                var quarantined = new CachedProject(page, FrozenDictionary<string, DistributionFile>.Empty);
                return stale with { Value = quarantined, Stamp = NextStamp() };
            default:
                return null;
        }
    }

    protected override CachedProject? Parse(string key, byte[] body, string contentType, Uri url, long? headerSerial, out string? refusal)
    {
        var parsed = ReadPage(key, body, contentType, url, headerSerial, out refusal);
        foreach (var dropped in parsed?.Page.DroppedFiles ?? [])
        {
            UpstreamLog.FileDropped(logger, key, dropped);
        }

        return parsed;
    }

    public static CachedProject? ReadPage(string project, byte[] body, string contentType, Uri url, long? headerSerial, out string? refusal)
    {
        try
        {
            var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
            ProjectPage page;
            if (mediaType == SimpleMediaTypes.Json)
            {
                page = SimpleJsonReader.ReadProject(body, url);
                if (!string.Equals(ProjectName.Normalize(page.Name), project, StringComparison.Ordinal))
                {
                    refusal = $"upstream page for '{project}' names another project";
                    return null;
                }
            }
            else if (mediaType is SimpleMediaTypes.Html or SimpleMediaTypes.TextHtml or "")
            {
                page = SimpleHtmlReader.ReadProject(Encoding.UTF8.GetString(body), url, project);
            }
            else
            {
                refusal = $"upstream page has unsupported Content-Type '{mediaType}'";
                return null;
            }

            page = page with { Name = project, LastSerial = page.LastSerial ?? headerSerial };
            var files = new Dictionary<string, DistributionFile>(StringComparer.Ordinal);
            foreach (var file in page.Files)
            {
                files.TryAdd(file.Filename, file);
            }

            refusal = null;
            return new CachedProject(page, files.ToFrozenDictionary(StringComparer.Ordinal));
        }
        catch (SimplePageFormatException e)
        {
            refusal = e.Message;
            return null;
        }
    }
}

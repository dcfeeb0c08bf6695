using System.Collections.Concurrent;
using CuratedIndex.Data;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Upstream;

public enum LookupStatus
{
    Found,
    NotFound,
    Failed,
}

/// <summary>
/// A cached upstream document. <see cref="Stamp"/> changes whenever a new upstream body is accepted; <see cref="ValidatedAt"/>
/// is when upstream last confirmed it (older than <c>Upstream:PageMaxAge</c> only while upstream fails).
/// </summary>
public sealed record DocumentLookup<T>(LookupStatus Status, T? Value = null, long Stamp = 0, string? Reason = null, DateTimeOffset ValidatedAt = default)
    where T : class;

/// <summary>
/// Upstream documents (project pages, JSON API documents): memory, then the database (the last good copy),
/// then upstream with ETag revalidation once older than <c>Upstream:PageMaxAge</c>. One upstream request per
/// key at a time. When upstream fails, the last good copy is served (stale-if-error), unless
/// <see cref="OverruleStaleAsync"/> knows better. Upstream's 404 is remembered for <c>Upstream:NotFoundMaxAge</c>.
/// Only bodies that <see cref="Parse"/> accepts are ever stored. Memory entries count against <c>Cache:MemoryLimit</c>.
/// </summary>
public abstract class UpstreamDocumentCache<T>(
    IServiceScopeFactory scopes,
    UpstreamPageClient upstream,
    IOptions<UpstreamOptions> options,
    CacheMemory memory,
    TimeProvider clock,
    ILogger logger)
    where T : class
{
    // After a failed revalidation the stale copy is kept this long before upstream is tried again,
    // so an outage does not make every request wait for the upstream timeout.
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(30);
    private static readonly DocumentLookup<T> NotFound = new(LookupStatus.NotFound);
    private static long s_stamp;

    private readonly LruCache<string, Entry> _memory = new(memory, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<DocumentLookup<T>>>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>The <see cref="CachedPage.Kind"/> of the rows this cache keeps.</summary>
    protected abstract string Kind { get; }

    protected abstract string Accept { get; }

    protected abstract string UpstreamPath(string key);

    /// <summary>Reads an upstream body; returns null and a one-line refusal when it cannot be used.</summary>
    protected abstract T? Parse(string key, byte[] body, string contentType, Uri url, long? headerSerial, out string? refusal);

    /// <summary>About how many bytes of memory <paramref name="value"/> keeps alive (its share of <c>Cache:MemoryLimit</c>).</summary>
    protected abstract long SizeOf(T value);

    /// <summary>
    /// Called when a copy older than <c>Upstream:PageMaxAge</c> is about to be served because upstream failed:
    /// returns what to serve instead (a status recorded since), or null to serve <paramref name="stale"/>.
    /// </summary>
    protected virtual Task<DocumentLookup<T>?> OverruleStaleAsync(CuratedIndexDbContext db, string key, DocumentLookup<T> stale, CancellationToken cancellationToken) =>
        Task.FromResult<DocumentLookup<T>?>(null);

    /// <summary>A stamp no other accepted document has, for a value derived from a cached one.</summary>
    protected static long NextStamp() => Interlocked.Increment(ref s_stamp);

    /// <summary>
    /// Gets the document, revalidating it when older than <c>Upstream:PageMaxAge</c>. An older copy comes back only
    /// while upstream fails (its <see cref="DocumentLookup{T}.ValidatedAt"/> says how old it is).
    /// </summary>
    public async Task<DocumentLookup<T>> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (_memory.TryGet(key, out var cached) && clock.GetUtcNow() < cached.FreshUntil)
        {
            upstream.Metrics.CacheLookup(Kind, UpstreamTags.FromMemory);
            return cached.Lookup;
        }

        // A miss (or a stale copy) is never the fast path: the refresh starts on the thread pool.
        await SocketThreads.LeaveAsync();
        var lazy = _inFlight.GetOrAdd(key, k => new Lazy<Task<DocumentLookup<T>>>(() => RefreshAsync(k, force: false)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Lazy<Task<DocumentLookup<T>>>>(key, lazy));
        }
    }

    /// <summary>
    /// Asks upstream now (ETag revalidation) however fresh the cached copy is, and keeps the answer for the
    /// next request, so a change upstream (a PEP 792 quarantine) is served at once rather than after <c>Upstream:PageMaxAge</c>.
    /// </summary>
    public Task<DocumentLookup<T>> RevalidateAsync(string key, CancellationToken cancellationToken) =>
        RefreshAsync(key, force: true).WaitAsync(cancellationToken);

    private bool IsFresh(DateTimeOffset validatedAt) => clock.GetUtcNow() - validatedAt < options.Value.PageMaxAge;

    // Runs detached from any one request so that a client hanging up does not cancel the shared refresh.
    private async Task<DocumentLookup<T>> RefreshAsync(string key, bool force)
    {
        using var timeout = new CancellationTokenSource(options.Value.Timeout * 3);
        var cancellationToken = timeout.Token;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var row = await db.CachedPages.FirstOrDefaultAsync(p => p.Kind == Kind && p.Key == key, cancellationToken);

        // A remembered 404 has nothing to revalidate.
        var current = _memory.TryGet(key, out var remembered) && remembered.Value is not null ? remembered : null;
        if (row is not null && (current is null || current.ETag != row.ETag))
        {
            var value = Parse(key, row.Body, row.ContentType, new Uri(row.SourceUrl), row.LastSerial, out _);
            current = value is null ? null : Validated(value, NextStamp(), row.ETag, row.ValidatedAt);
        }

        if (!force && current is not null && row is not null && IsFresh(row.ValidatedAt))
        {
            upstream.Metrics.CacheLookup(Kind, UpstreamTags.FromDatabase);
            return Remember(key, Validated(current.Value!, current.Stamp, current.ETag, row.ValidatedAt));
        }

        upstream.Metrics.CacheLookup(Kind, UpstreamTags.FromUpstream);
        var document = await upstream.GetAsync(UpstreamPath(key), Accept, current?.ETag, cancellationToken);
        var now = clock.GetUtcNow();
        switch (document.Status)
        {
            case UpstreamStatus.NotModified when current is not null && row is not null:
                row.ValidatedAt = now;
                await SaveQuietlyAsync(db, cancellationToken);
                return Remember(key, Validated(current.Value!, current.Stamp, current.ETag, now));

            case UpstreamStatus.Ok:
                var parsed = Parse(key, document.Body!, document.ContentType!, document.Url!, document.LastSerial, out var refusal);
                if (parsed is null)
                {
                    UpstreamLog.PageRefused(logger, key, refusal!);
                    return await StaleAsync(db, key, current, refusal!, cancellationToken);
                }

                row ??= db.CachedPages.Add(new CachedPage { Kind = Kind, Key = key, ContentType = "", SourceUrl = "", Body = [] }).Entity;
                row.ContentType = document.ContentType!;
                row.SourceUrl = document.Url!.ToString();
                row.Body = document.Body!;
                row.ETag = document.ETag;
                row.LastModified = document.LastModified;
                row.LastSerial = document.LastSerial;
                row.FetchedAt = now;
                row.ValidatedAt = now;
                await SaveQuietlyAsync(db, cancellationToken);
                return Remember(key, Validated(parsed, NextStamp(), document.ETag, now));

            case UpstreamStatus.NotFound:
                if (row is not null)
                {
                    db.CachedPages.Remove(row);
                    await SaveQuietlyAsync(db, cancellationToken);
                }

                // Remembered briefly, so that a name upstream lacks does not cost an upstream request per client request.
                return Remember(key, new Entry(null, 0, null, now, now + options.Value.NotFoundMaxAge, NotFound));

            default:
                return await StaleAsync(db, key, current, document.Reason ?? "upstream failed", cancellationToken);
        }
    }

    private Entry Validated(T value, long stamp, string? etag, DateTimeOffset validatedAt) =>
        new(value, stamp, etag, validatedAt, validatedAt + options.Value.PageMaxAge, new DocumentLookup<T>(LookupStatus.Found, value, stamp, ValidatedAt: validatedAt));

    private DocumentLookup<T> Remember(string key, Entry entry)
    {
        _memory.Set(key, entry, CacheSizes.Of(key) + 64 + (entry.Value is null ? 0 : SizeOf(entry.Value)));
        return entry.Lookup;
    }

    private async Task<DocumentLookup<T>> StaleAsync(CuratedIndexDbContext db, string key, Entry? current, string reason, CancellationToken cancellationToken)
    {
        if (current is null)
        {
            return new DocumentLookup<T>(LookupStatus.Failed, Reason: reason);
        }

        UpstreamLog.ServingStale(logger, key, reason);
        // From the document itself, not from what an earlier stale round served: what the watch recorded may have changed since.
        var stale = new DocumentLookup<T>(LookupStatus.Found, current.Value, current.Stamp, ValidatedAt: current.ValidatedAt);
        if (!IsFresh(current.ValidatedAt))
        {
            stale = await OverruleStaleAsync(db, key, stale, cancellationToken) ?? stale;
        }

        // The stale copy (with any overruling) is served until upstream is tried again; its ETag stays for that revalidation.
        return Remember(key, current with { FreshUntil = clock.GetUtcNow() + RetryAfterFailure, Lookup = stale });
    }

    private static async Task SaveQuietlyAsync(CuratedIndexDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another node stored the same document first; its copy is as good as ours.
        }
    }

    /// <summary>
    /// What memory holds for a key: a document (<see cref="Value"/>, with the <see cref="ETag"/> to revalidate it and
    /// when upstream last confirmed it) or a remembered 404 (no value), served as <see cref="Lookup"/> until <see cref="FreshUntil"/>.
    /// </summary>
    private sealed record Entry(T? Value, long Stamp, string? ETag, DateTimeOffset ValidatedAt, DateTimeOffset FreshUntil, DocumentLookup<T> Lookup);
}

using System.Collections.Concurrent;
using CuratedIndex.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Upstream;

public enum LookupStatus
{
    Found,
    NotFound,
    Failed,
}

/// <summary>A cached upstream document. <see cref="Stamp"/> changes whenever a new upstream body is accepted.</summary>
public sealed record DocumentLookup<T>(LookupStatus Status, T? Value = null, long Stamp = 0, string? Reason = null)
    where T : class;

/// <summary>
/// Upstream documents (project pages, JSON API documents): memory, then the database (the last good copy),
/// then upstream with ETag revalidation once older than <c>Upstream:PageMaxAge</c>. One upstream request per
/// key at a time. When upstream fails, the last good copy is served (stale-if-error). Only bodies that
/// <see cref="Parse"/> accepts are ever stored.
/// </summary>
public abstract class UpstreamDocumentCache<T>(
    IServiceScopeFactory scopes,
    UpstreamPageClient upstream,
    IOptions<UpstreamOptions> options,
    TimeProvider clock,
    ILogger logger)
    where T : class
{
    // After a failed revalidation the stale copy is kept this long before upstream is tried again,
    // so an outage does not make every request wait for the upstream timeout.
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(30);
    private static long s_stamp;

    private readonly ConcurrentDictionary<string, Entry> _memory = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<DocumentLookup<T>>>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>The <see cref="CachedPage.Kind"/> of the rows this cache keeps.</summary>
    protected abstract string Kind { get; }

    protected abstract string Accept { get; }

    protected abstract string UpstreamPath(string key);

    /// <summary>Reads an upstream body; returns null and a one-line refusal when it cannot be used.</summary>
    protected abstract T? Parse(string key, byte[] body, string contentType, Uri url, long? headerSerial, out string? refusal);

    /// <summary>Gets the document, revalidating it when older than <c>Upstream:PageMaxAge</c>.</summary>
    public async Task<DocumentLookup<T>> GetAsync(string key, CancellationToken cancellationToken)
    {
        if (_memory.TryGetValue(key, out var cached) && IsFresh(cached.ValidatedAt))
        {
            return cached.Found;
        }

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

    /// <summary>Gets the document however old it is, asking upstream only when nothing is cached.</summary>
    public Task<DocumentLookup<T>> GetAnyAgeAsync(string key, CancellationToken cancellationToken) =>
        _memory.TryGetValue(key, out var cached) ? Task.FromResult(cached.Found) : GetAsync(key, cancellationToken);

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

        _memory.TryGetValue(key, out var current);
        if (row is not null && (current is null || current.ETag != row.ETag))
        {
            var value = Parse(key, row.Body, row.ContentType, new Uri(row.SourceUrl), row.LastSerial, out _);
            current = value is null ? null : new Entry(value, Interlocked.Increment(ref s_stamp), row.ETag, row.ValidatedAt);
        }

        if (!force && current is not null && row is not null && IsFresh(row.ValidatedAt))
        {
            return Remember(key, current with { ValidatedAt = row.ValidatedAt });
        }

        var document = await upstream.GetAsync(UpstreamPath(key), Accept, current?.ETag, cancellationToken);
        var now = clock.GetUtcNow();
        switch (document.Status)
        {
            case UpstreamStatus.NotModified when current is not null && row is not null:
                row.ValidatedAt = now;
                await SaveQuietlyAsync(db, cancellationToken);
                return Remember(key, current with { ValidatedAt = now });

            case UpstreamStatus.Ok:
                var parsed = Parse(key, document.Body!, document.ContentType!, document.Url!, document.LastSerial, out var refusal);
                if (parsed is null)
                {
                    UpstreamLog.PageRefused(logger, key, refusal!);
                    return Stale(key, current, refusal!);
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
                return Remember(key, new Entry(parsed, Interlocked.Increment(ref s_stamp), document.ETag, now));

            case UpstreamStatus.NotFound:
                _memory.TryRemove(key, out _);
                if (row is not null)
                {
                    db.CachedPages.Remove(row);
                    await SaveQuietlyAsync(db, cancellationToken);
                }

                return new DocumentLookup<T>(LookupStatus.NotFound);

            default:
                return Stale(key, current, document.Reason ?? "upstream failed");
        }
    }

    private DocumentLookup<T> Remember(string key, Entry entry)
    {
        _memory[key] = entry;
        return entry.Found;
    }

    private DocumentLookup<T> Stale(string key, Entry? current, string reason)
    {
        if (current is null)
        {
            return new DocumentLookup<T>(LookupStatus.Failed, Reason: reason);
        }

        UpstreamLog.ServingStale(logger, key, reason);
        return Remember(key, current with { ValidatedAt = clock.GetUtcNow() - options.Value.PageMaxAge + RetryAfterFailure });
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

    private sealed record Entry(T Value, long Stamp, string? ETag, DateTimeOffset ValidatedAt)
    {
        public DocumentLookup<T> Found => new(LookupStatus.Found, Value, Stamp);
    }
}

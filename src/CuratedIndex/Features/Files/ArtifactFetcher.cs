using System.Collections.Concurrent;
using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol.SimpleApi;
using CuratedIndex.Storage;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace CuratedIndex.Features.Files;

/// <summary>What the proxy needs to fetch one file: where from, under which store key, and the digest the index promised.</summary>
public sealed record ArtifactRequest(string Project, string Filename, Uri Source, string StoreKey, string? ExpectedSha256, long? ExpectedSize, string ContentType)
{
    public const string MetadataSuffix = ".metadata";

    /// <summary>A distribution file as the project page lists it.</summary>
    public static ArtifactRequest ForFile(string project, DistributionFile file) =>
        new(project, file.Filename, new Uri(file.Url), StoreKeyOf(file.Sha256, file.Filename), file.Sha256, file.Size, "application/octet-stream");

    /// <summary>A vetted file upstream no longer lists: only its stored copy can serve it (no source to fetch from).</summary>
    public static ArtifactRequest ForPinned(string project, Releases.PinnedFile pinned) =>
        new(project, pinned.Filename, new Uri("about:blank"), StoreKeyOf(pinned.Sha256, pinned.Filename), pinned.Sha256, pinned.Size, "application/octet-stream");

    /// <summary>The PEP 658 metadata of a listed file; null where upstream does not offer it (PROTOCOL.md F2).</summary>
    public static ArtifactRequest? ForMetadata(string project, DistributionFile file)
    {
        if (file.CoreMetadata is not { } hashes)
        {
            return null;
        }

        var sha256 = hashes.TryGetValue("sha256", out var digest) ? digest : null;
        var source = new UriBuilder(file.Url) { Fragment = "" };
        source.Path += MetadataSuffix;
        var filename = file.Filename + MetadataSuffix;
        return new(project, filename, source.Uri, StoreKeyOf(sha256, filename), sha256, null, "application/octet-stream");
    }

    // Content-addressed: a stored object under a digest's key is, by construction, the verified bytes.
    private static string StoreKeyOf(string? sha256, string filename) =>
        sha256 is null ? $"unverified/{filename}" : $"files/{sha256[..2].ToLowerInvariant()}/{sha256.ToLowerInvariant()}/{filename}";
}

public enum FetchStatus
{
    /// <summary>The client received the whole, verified file.</summary>
    Served,

    /// <summary>The verified file is in the store; the caller serves it from there.</summary>
    Stored,

    /// <summary>Nothing was stored. <see cref="FetchOutcome.ClientStarted"/> says whether the response must be aborted.</summary>
    Failed,
}

public sealed record FetchOutcome(FetchStatus Status, string? Reason = null, bool ClientStarted = false);

/// <summary>
/// Cache-miss downloads through YARP's forwarder. Concurrent misses for one file share one download, which runs at
/// upstream's speed into a temporary file under <c>Cache:Path</c> while its sha256 is computed; every client, the
/// first included, reads that file as it grows, so a slow or stalled client never holds the download (or the other
/// clients) back. The file is committed to the store only when size and digest match the index; on a mismatch every
/// reader fails (a response already under way is aborted), nothing is stored and an incident is recorded.
/// </summary>
public sealed class ArtifactFetcher(
    IHttpForwarder forwarder,
    IArtifactStore store,
    ClusterLocks locks,
    FileHostGuard hostGuard,
    IServiceScopeFactory scopes,
    IOptions<UpstreamOptions> options,
    IOptions<CacheOptions> cacheOptions,
    IHostEnvironment hostEnvironment,
    TimeProvider clock,
    ILogger<ArtifactFetcher> logger) : IDisposable
{
    public const string ImmutableCacheControl = "max-age=365000000, immutable, public";
    private const int ReadChunk = 64 * 1024;

    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectCallback = SocketThreads.ConnectAsync, // parsing, hashing and storing never on a socket thread
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    });

    private readonly ConcurrentDictionary<string, SharedDownload> _inFlight = new(StringComparer.Ordinal);
    private string? _downloadDirectory;

    /// <summary>
    /// Fetches <paramref name="request"/>, joining the download in progress if there is one. When <paramref name="client"/>
    /// is given the file streams to it as it arrives; otherwise the caller serves the stored file afterwards.
    /// </summary>
    /// <summary>
    /// The stored, verified bytes of <paramref name="request"/>, downloaded (and verified) first when not stored yet; or,
    /// with no stream, why they cannot be had. For readers of archives (release diffs, dependency metadata).
    /// </summary>
    public async Task<(StoredObject? Stored, string? Problem)> OpenStoredAsync(ArtifactRequest request, CancellationToken cancellationToken)
    {
        if (await store.OpenAsync(request.StoreKey, cancellationToken) is { } stored)
        {
            return (stored, null);
        }

        var outcome = await FetchAsync(request, null, cancellationToken);
        if (outcome.Status == FetchStatus.Failed)
        {
            return (null, outcome.Reason);
        }

        stored = await store.OpenAsync(request.StoreKey, cancellationToken);
        return stored is null ? (null, "not in the artifact store after its download") : (stored, null);
    }

    public async Task<FetchOutcome> FetchAsync(ArtifactRequest request, HttpContext? client, CancellationToken cancellationToken)
    {
        // A miss is never the fast path: directories, temporary files and the download start on the thread pool.
        await SocketThreads.LeaveAsync();
        if (hostGuard.Refusal(request.Source) is { } refused)
        {
            FilesLog.HostRefused(logger, request.Filename, request.Source.Authority);
            return new FetchOutcome(FetchStatus.Failed, $"the index points '{request.Filename}' at {refused}");
        }

        if (Join(request) is not { } download)
        {
            return new FetchOutcome(FetchStatus.Stored);
        }

        try
        {
            if (client is null)
            {
                var outcome = await download.Completion.Task.WaitAsync(cancellationToken);
                return outcome.Status == FetchStatus.Failed ? outcome : new FetchOutcome(FetchStatus.Stored);
            }

            return await ReadAlongAsync(download, client, cancellationToken);
        }
        finally
        {
            download.Leave();
        }
    }

    // The download in progress for this store key, or a new one; either way joined as a reader. Null when the
    // download this request just missed has stored the file.
    private SharedDownload? Join(ArtifactRequest request)
    {
        while (true)
        {
            if (_inFlight.TryGetValue(request.StoreKey, out var running))
            {
                if (running.TryJoin())
                {
                    return running;
                }

                if (request.ExpectedSha256 is not null && running.Completion.Task is { IsCompletedSuccessfully: true, Result.Status: FetchStatus.Stored })
                {
                    return null;
                }
            }

            var path = Path.Combine(DownloadDirectory(), $"{Guid.NewGuid():N}.partial");
            var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous);
            var fresh = new SharedDownload(request, path, handle);
            fresh.TryJoin();
            if (running is null ? _inFlight.TryAdd(request.StoreKey, fresh) : _inFlight.TryUpdate(request.StoreKey, fresh, running))
            {
                _ = RunAsync(fresh);
                return fresh;
            }

            handle.Dispose();
            File.Delete(path);
        }
    }

    // Detached from every request: the download goes on at upstream speed whoever reads it, and ends by itself
    // (complete, refused, or after Upstream:FileActivityTimeout without data).
    private async Task RunAsync(SharedDownload download)
    {
        FetchOutcome outcome;
        try
        {
            outcome = await DownloadAsync(download);
        }
        catch (ArtifactStoreUnavailableException e)
        {
            // Verified, but the store could not take it: nothing stored, and not upstream's fault (503, not 502).
            FilesLog.DownloadFailed(logger, download.Request.Filename, e.Message);
            outcome = new FetchOutcome(FetchStatus.Failed, FileEndpoints.StoreUnavailableMessage);
        }
        catch (Exception e)
        {
            FilesLog.DownloadFailed(logger, download.Request.Filename, e.Message);
            outcome = new FetchOutcome(FetchStatus.Failed, $"download of '{download.Request.Filename}' failed");
        }

        _inFlight.TryRemove(new KeyValuePair<string, SharedDownload>(download.Request.StoreKey, download));
        download.Finish(outcome);
    }

    private async Task<FetchOutcome> DownloadAsync(SharedDownload download)
    {
        var request = download.Request;
        if (request.ExpectedSha256 is null)
        {
            // A file without a digest in the index cannot be verified, so it is passed through but never stored.
            return await DownloadFromUpstreamAsync(download, null);
        }

        // One download per file across the cluster: another node's download of it is waited for (up to
        // Upstream:SharedDownloadWait), then its stored copy is what this node's clients read. Past the wait, this node
        // downloads it too; the store's copy is replaced by identical verified bytes.
        await using var clusterWide = await TryLockAcrossNodesAsync(request);

        // The caller found nothing stored; only another node can have stored it since (one node: this check would be I/O
        // for nothing on every miss).
        if (locks.AcrossNodes && await store.OpenAsync(request.StoreKey, CancellationToken.None) is { } stored)
        {
            await using (stored)
            {
                if (request.ExpectedSize is not { } expectedSize || stored.Length == expectedSize)
                {
                    return await CopyStoredAsync(download, stored);
                }
            }
        }

        await using var write = await store.BeginWriteAsync(request.StoreKey, CancellationToken.None);
        return await DownloadFromUpstreamAsync(download, write);
    }

    // The cluster-wide lock on this file, or null: after the wait, or when the database cannot be reached (the file is then
    // downloaded without it: identical verified bytes under a content-addressed key, committed atomically).
    private async Task<IAsyncDisposable?> TryLockAcrossNodesAsync(ArtifactRequest request)
    {
        try
        {
            var held = await locks.TryAcquireAsync($"artifact:{request.StoreKey}", options.Value.SharedDownloadWait, CancellationToken.None);
            if (held is null)
            {
                FilesLog.SharedDownloadWaitExpired(logger, request.Filename, options.Value.SharedDownloadWait);
            }

            return held;
        }
        catch (System.Data.Common.DbException e)
        {
            FilesLog.SharedDownloadUnlocked(logger, request.Filename, e.Message);
            return null;
        }
    }

    // The copy another node stored meanwhile, read into this node's shared download and verified like upstream's bytes.
    private async Task<FetchOutcome> CopyStoredAsync(SharedDownload download, StoredObject stored)
    {
        var request = download.Request;
        using var tee = new VerifyingTeeStream(download, null);
        await stored.Content.CopyToAsync(tee, ReadChunk);
        if (!string.Equals(tee.Sha256Hex(), request.ExpectedSha256, StringComparison.OrdinalIgnoreCase))
        {
            // Damaged in the store: removed, so the next request downloads it again (the scrub job would find it too).
            await store.DeleteAsync(request.StoreKey, CancellationToken.None);
            var failure = $"the stored copy of '{request.Filename}' has sha256 {tee.Sha256Hex()}, the index says {request.ExpectedSha256}; removed, it is downloaded again on the next request";
            FilesLog.DownloadFailed(logger, request.Filename, failure);
            return new FetchOutcome(FetchStatus.Failed, failure);
        }

        download.Verified();
        return new FetchOutcome(FetchStatus.Stored);
    }

    private async Task<FetchOutcome> DownloadFromUpstreamAsync(SharedDownload download, IArtifactWrite? write)
    {
        var request = download.Request;
        var fill = new DefaultHttpContext();
        fill.Request.Method = HttpMethods.Get;
        fill.Request.Protocol = "HTTP/1.1";
        fill.Request.Scheme = request.Source.Scheme;
        fill.Request.Host = new HostString(request.Source.Authority);
        using var tee = new VerifyingTeeStream(download, write?.Content);
        fill.Response.Body = tee;

        var destination = $"{request.Source.Scheme}://{request.Source.Authority}";
        var error = await forwarder.SendAsync(
            fill,
            destination,
            _invoker,
            new ForwarderRequestConfig { ActivityTimeout = options.Value.FileActivityTimeout },
            new FileTransformer(request.Source, download));

        var failure = error != ForwarderError.None
            ? $"download of '{request.Filename}' failed ({error})"
            : fill.Response.StatusCode != StatusCodes.Status200OK
                ? $"upstream answered {fill.Response.StatusCode} for '{request.Filename}'"
                : null;
        if (failure is null && request.ExpectedSize is { } size && tee.BytesWritten != size)
        {
            failure = $"'{request.Filename}' is {tee.BytesWritten} bytes, the index says {size}";
        }

        if (failure is null && request.ExpectedSha256 is { } expected && !string.Equals(tee.Sha256Hex(), expected, StringComparison.OrdinalIgnoreCase))
        {
            failure = $"sha256 of '{request.Filename}' is {tee.Sha256Hex()}, the index says {expected}";
            await RecordIncidentAsync(request, failure);
        }

        if (failure is not null)
        {
            FilesLog.DownloadFailed(logger, request.Filename, failure);
            return new FetchOutcome(FetchStatus.Failed, failure);
        }

        // Verified: committed first, so that a client holding the whole file finds it in the store (HEAD, Range, scrub).
        if (write is not null)
        {
            await write.CommitAsync(CancellationToken.None);
            await RecordStoredAsync(request, tee.BytesWritten);
        }

        download.Verified();
        return new FetchOutcome(FetchStatus.Stored);
    }

    // One client reading the shared download's file as it grows, at the client's own pace.
    private static async Task<FetchOutcome> ReadAlongAsync(SharedDownload download, HttpContext client, CancellationToken cancellationToken)
    {
        var started = false;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(ReadChunk);
        try
        {
            using var file = download.OpenRead();
            long position = 0;
            while (true)
            {
                var (limit, complete, failure) = await download.WaitAsync(position, cancellationToken);
                if (failure is not null)
                {
                    return new FetchOutcome(FetchStatus.Failed, failure, started);
                }

                if (!started)
                {
                    started = true;
                    StartClient(client, download);
                }

                if (complete)
                {
                    await client.Response.Body.FlushAsync(cancellationToken);
                    return new FetchOutcome(FetchStatus.Served);
                }

                while (position < limit)
                {
                    var read = await RandomAccess.ReadAsync(file, buffer.AsMemory(0, (int)Math.Min(buffer.Length, limit - position)), position, cancellationToken);
                    if (read == 0)
                    {
                        return new FetchOutcome(FetchStatus.Failed, "the download's temporary file ended early", started);
                    }

                    await client.Response.Body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    position += read;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client went away (or its connection broke); the download goes on for the store and the other readers.
            return new FetchOutcome(FetchStatus.Failed, "the client went away", started);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static void StartClient(HttpContext client, SharedDownload download)
    {
        var request = download.Request;
        var response = client.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = request.ContentType;
        response.ContentLength = request.ExpectedSize ?? download.UpstreamLength;
        response.Headers.CacheControl = ImmutableCacheControl;
        response.Headers.AccessControlAllowOrigin = "*";
        if (request.ExpectedSha256 is { } sha256)
        {
            response.Headers.ETag = $"\"{sha256}\"";
        }
    }

    private string DownloadDirectory()
    {
        if (_downloadDirectory is { } known)
        {
            return known;
        }

        var directory = Path.Combine(cacheOptions.Value.DirectoryUnder(hostEnvironment.ContentRootPath), "downloads");
        Directory.CreateDirectory(directory);
        // Left behind by a process that stopped mid-download; a day is far beyond any download's activity timeout.
        foreach (var leftover in new DirectoryInfo(directory).EnumerateFiles("*.partial"))
        {
            if (leftover.LastWriteTimeUtc < DateTime.UtcNow.AddDays(-1))
            {
                leftover.Delete();
            }
        }

        return _downloadDirectory = directory;
    }

    private async Task RecordStoredAsync(ArtifactRequest request, long size)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        db.StoredArtifacts.Add(new StoredArtifact
        {
            Project = request.Project,
            Filename = request.Filename,
            Sha256 = request.ExpectedSha256!,
            Size = size,
            StorageKey = request.StoreKey,
            StoredAt = clock.GetUtcNow(),
        });
        try
        {
            await db.SaveChangesAsync();
        }
        catch (Microsoft.EntityFrameworkCore.DbUpdateException e) when (e.InnerException is not System.Data.Common.DbException { IsTransient: true })
        {
            // Already recorded (another node stored these bytes under the same store key).
        }
        catch (Exception e) when (Hosting.DatabaseUnavailableMiddleware.IsUnreachableDatabase(e))
        {
            // Stored and verified, so served; only the scrub job's list misses it until the file is fetched again.
            FilesLog.StoredNotRecorded(logger, request.Filename, e.GetBaseException().Message);
        }
    }

    private async Task RecordIncidentAsync(ArtifactRequest request, string detail)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        scope.ServiceProvider.GetRequiredService<CuratedIndexMetrics>().UpstreamError(UpstreamTags.File, UpstreamTags.HashMismatch);
        db.Incidents.Add(new Incident
        {
            Kind = IncidentKind.HashMismatch,
            Project = request.Project,
            Filename = request.Filename,
            Detail = detail,
            OccurredAt = clock.GetUtcNow(),
        });
        await db.SaveChangesAsync();
    }

    public void Dispose() => _invoker.Dispose();

    /// <summary>Builds the upstream request from scratch: no client header (Range, cookies, credentials) reaches upstream.</summary>
    private sealed class FileTransformer(Uri source, SharedDownload download) : HttpTransformer
    {
        public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            proxyRequest.Method = HttpMethod.Get;
            proxyRequest.RequestUri = new UriBuilder(source) { Fragment = "" }.Uri;
            proxyRequest.Headers.TryAddWithoutValidation("Accept-Encoding", "identity");
            proxyRequest.Headers.TryAddWithoutValidation("User-Agent", "CuratedIndex/1.0");
            return ValueTask.CompletedTask;
        }

        public override ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            if (proxyResponse is null)
            {
                return ValueTask.FromResult(false);
            }

            httpContext.Response.StatusCode = (int)proxyResponse.StatusCode;
            httpContext.Response.ContentLength = proxyResponse.Content.Headers.ContentLength;
            download.UpstreamLength = proxyResponse.Content.Headers.ContentLength;
            // Only a 200 body is worth reading; anything else is reported by status alone.
            return ValueTask.FromResult(proxyResponse.StatusCode == HttpStatusCode.OK);
        }
    }
}

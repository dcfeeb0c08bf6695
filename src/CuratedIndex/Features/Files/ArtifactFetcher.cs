using System.Collections.Concurrent;
using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Features.Upstream;
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
        sha256 is null ? $"unverified/{filename}" : $"files/{sha256[..2]}/{sha256}/{filename}";
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
/// Cache-miss downloads through YARP's forwarder. The body streams to the client while its sha256 is computed;
/// the file is committed to the store only when the digest matches the index; on mismatch the response is
/// aborted, nothing is stored and an incident is recorded. Concurrent misses for one file share one download.
/// </summary>
public sealed class ArtifactFetcher(
    IHttpForwarder forwarder,
    IArtifactStore store,
    FileHostGuard hostGuard,
    IServiceScopeFactory scopes,
    IOptions<UpstreamOptions> options,
    TimeProvider clock,
    ILogger<ArtifactFetcher> logger) : IDisposable
{
    public const string ImmutableCacheControl = "max-age=365000000, immutable, public";

    private readonly HttpMessageInvoker _invoker = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    });

    private readonly ConcurrentDictionary<string, Task<FetchOutcome>> _inFlight = new(StringComparer.Ordinal);

    /// <summary>
    /// Fetches <paramref name="request"/>. When <paramref name="client"/> is given and this call leads the
    /// download, the file streams to it; otherwise the caller serves the stored file afterwards.
    /// </summary>
    public async Task<FetchOutcome> FetchAsync(ArtifactRequest request, HttpContext? client, CancellationToken cancellationToken)
    {
        if (!hostGuard.IsAllowed(request.Source))
        {
            FilesLog.HostRefused(logger, request.Filename, request.Source.Authority);
            return new FetchOutcome(FetchStatus.Failed, $"the index points '{request.Filename}' at a host that is not allowed ({request.Source.Authority})");
        }

        var leader = new TaskCompletionSource<FetchOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        var existing = _inFlight.GetOrAdd(request.StoreKey, leader.Task);
        if (existing != leader.Task)
        {
            var outcome = await existing.WaitAsync(cancellationToken);
            return outcome.Status == FetchStatus.Failed ? outcome with { ClientStarted = false } : new FetchOutcome(FetchStatus.Stored);
        }

        try
        {
            var outcome = await DownloadAsync(request, client);
            leader.SetResult(outcome);
            return outcome;
        }
        catch (Exception e)
        {
            leader.SetException(e);
            throw;
        }
        finally
        {
            _inFlight.TryRemove(new KeyValuePair<string, Task<FetchOutcome>>(request.StoreKey, leader.Task));
        }
    }

    private async Task<FetchOutcome> DownloadAsync(ArtifactRequest request, HttpContext? client)
    {
        // A file without a digest in the index cannot be verified, so it is passed through but never stored.
        await using var write = request.ExpectedSha256 is null ? null : await store.BeginWriteAsync(request.StoreKey, CancellationToken.None);
        var fill = new DefaultHttpContext();
        fill.Request.Method = HttpMethods.Get;
        fill.Request.Protocol = "HTTP/1.1";
        fill.Request.Scheme = request.Source.Scheme;
        fill.Request.Host = new HostString(request.Source.Authority);
        using var tee = new VerifyingTeeStream(write?.Content, () => StartClient(client, fill, request));
        fill.Response.Body = tee;

        var destination = $"{request.Source.Scheme}://{request.Source.Authority}";
        var error = await forwarder.SendAsync(
            fill,
            destination,
            _invoker,
            new ForwarderRequestConfig { ActivityTimeout = options.Value.FileActivityTimeout },
            new FileTransformer(request.Source));

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
            return new FetchOutcome(FetchStatus.Failed, failure, tee.ClientStarted);
        }

        if (write is not null)
        {
            await write.CommitAsync(CancellationToken.None);
            await RecordStoredAsync(request, tee.BytesWritten);
        }

        await tee.ReleaseAsync(CancellationToken.None);
        return tee.ClientConnected ? new FetchOutcome(FetchStatus.Served) : new FetchOutcome(FetchStatus.Stored);
    }

    private static Stream? StartClient(HttpContext? client, HttpContext fill, ArtifactRequest request)
    {
        if (client is null || client.Response.HasStarted)
        {
            return null;
        }

        var response = client.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = request.ContentType;
        response.ContentLength = request.ExpectedSize ?? fill.Response.ContentLength;
        response.Headers.CacheControl = ImmutableCacheControl;
        response.Headers.AccessControlAllowOrigin = "*";
        if (request.ExpectedSha256 is { } sha256)
        {
            response.Headers.ETag = $"\"{sha256}\"";
        }

        return response.Body;
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
        catch (Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            // Already recorded (another node, or a file that was stored before under the same name).
        }
    }

    private async Task RecordIncidentAsync(ArtifactRequest request, string detail)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
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
    private sealed class FileTransformer(Uri source) : HttpTransformer
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
            // Only a 200 body is worth reading; anything else is reported by status alone.
            return ValueTask.FromResult(proxyResponse.StatusCode == HttpStatusCode.OK);
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using Minio;
using Minio.DataModel.Args;
using Minio.Exceptions;

namespace CuratedIndex.Storage;

/// <summary>
/// Artifacts as objects in one S3 bucket (MinIO, or any S3-compatible store), through the Minio client, under the same
/// relative keys the filesystem store uses. A write is spooled to a local file and uploaded on commit; reads fetch byte
/// ranges on demand (<see cref="S3ObjectStream"/>).
/// </summary>
public sealed class S3ArtifactStore : IArtifactStore, IDisposable
{
    private const string ContentType = "application/octet-stream";

    // Signing a URL for one range request: long enough for any single request to start, short enough to be useless later.
    private static readonly TimeSpan ReadUrlExpiry = TimeSpan.FromMinutes(15);

    private readonly HttpClient _http;
    private readonly IMinioClient _client;
    private readonly string _bucket;
    private readonly string _serviceUrl;
    private readonly string _spoolDirectory;

    /// <param name="spoolDirectory">Where writes wait for their commit (under <c>Cache:Path</c>): created, and leftovers of a crashed process removed.</param>
    public S3ArtifactStore(S3StorageOptions options, string spoolDirectory)
    {
        var url = new Uri(options.ServiceUrl!);
        _bucket = options.Bucket!;
        _serviceUrl = url.GetLeftPart(UriPartial.Authority);
        _spoolDirectory = spoolDirectory;
        _http = new HttpClient(new SocketsHttpHandler
        {
            // The store is on this network, never behind a forward proxy; an unreachable one fails within seconds.
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(5),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        });
        _client = new MinioClient()
            .WithEndpoint(url.Host, url.Port)
            .WithSSL(url.Scheme == Uri.UriSchemeHttps)
            .WithCredentials(options.AccessKey, options.SecretKey)
            // A fixed region: nothing is looked up, so signing a URL is local work.
            .WithRegion(options.Region)
            .WithHttpClient(_http)
            .Build();
        // Build sets 30 minutes; one request (a multipart part of at most a few MB, a stat) is far shorter.
        _http.Timeout = TimeSpan.FromMinutes(2);
        RemoveSpoolLeftovers();
    }

    /// <remarks>
    /// One request, not the client's StatObject (a HEAD of the bucket, then one of the object): a GET of the first block,
    /// whose answer carries the object's length (<c>Content-Range</c>), ETag and date, and whose bytes are the first read.
    /// A file of up to <see cref="S3ObjectStream.BufferSize"/> bytes is then served with this one request.
    /// </remarks>
    public async Task<StoredObject?> OpenAsync(string key, CancellationToken cancellationToken)
    {
        CheckKey(key);
        using var response = await SendRangeAsync(key, null, 0, S3ObjectStream.BufferSize - 1, useAsync: true, cancellationToken);
        switch (response.StatusCode)
        {
            case HttpStatusCode.PartialContent when response.Content.Headers.ContentRange is { From: 0, Length: { } length }:
            {
                var block = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (block.Length != Math.Min(length, S3ObjectStream.BufferSize))
                {
                    throw new IOException($"S3 bucket '{_bucket}' at {_serviceUrl} sent {block.Length} bytes of the first block of '{key}'");
                }

                return Opened(key, response, length, block);
            }

            case HttpStatusCode.RequestedRangeNotSatisfiable:
                // Only an empty object has no first byte.
                return Opened(key, response, 0, []);
            case HttpStatusCode.NotFound:
                var error = await response.Content.ReadAsStringAsync(cancellationToken);
                return error.Contains("<Code>NoSuchBucket</Code>", StringComparison.Ordinal)
                    ? throw Unavailable(new BucketNotFoundException(_bucket, "the bucket does not exist"))
                    : null;
            default:
                throw new ArtifactStoreUnavailableException($"S3 bucket '{_bucket}' at {_serviceUrl} answered {(int)response.StatusCode} for '{key}'");
        }
    }

    private StoredObject Opened(string key, HttpResponseMessage response, long length, byte[] firstBlock)
    {
        var entityTag = response.Headers.ETag?.Tag;
        var lastModified = response.Content.Headers.LastModified ?? DateTimeOffset.UnixEpoch;
        return new StoredObject(new S3ObjectStream(this, key, length, entityTag, firstBlock), length, lastModified)
        {
            PresignedReadUrl = expiry => PresignedGetUrlAsync(key, expiry),
        };
    }

    public Task<IArtifactWrite> BeginWriteAsync(string key, CancellationToken cancellationToken)
    {
        CheckKey(key);
        Directory.CreateDirectory(_spoolDirectory);
        var spool = new FileStream(
            Path.Combine(_spoolDirectory, $"{Guid.NewGuid():N}.upload"),
            FileMode.CreateNew,
            FileAccess.ReadWrite,
            FileShare.None,
            bufferSize: 81920,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        return Task.FromResult<IArtifactWrite>(new Write(this, key, spool));
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        CheckKey(key);
        try
        {
            // S3 answers a delete of a missing key with success, as this contract asks.
            await _client.RemoveObjectAsync(new RemoveObjectArgs().WithBucket(_bucket).WithObject(key), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw Unavailable(e);
        }
    }

    /// <summary>A URL that GETs <paramref name="key"/> without credentials until <paramref name="expiry"/> has passed.</summary>
    public async Task<string> PresignedGetUrlAsync(string key, TimeSpan expiry)
    {
        CheckKey(key);
        return await _client.PresignedGetObjectAsync(new PresignedGetObjectArgs()
            .WithBucket(_bucket)
            .WithObject(key)
            .WithExpiry((int)Math.Ceiling(expiry.TotalSeconds)));
    }

    /// <summary>
    /// Starts a GET of bytes <paramref name="from"/> to <paramref name="to"/> (inclusive; null: to the end) of
    /// <paramref name="key"/>, as it was when opened (<paramref name="entityTag"/>), and returns the 206 response with its
    /// body unread. Every ranged read of this store goes through here.
    /// </summary>
    /// <remarks>
    /// Not the client's ranged GetObject (<c>WithOffsetAndLength</c>): it first sends a HEAD carrying the Range header,
    /// moto_server (and some other S3 implementations) answer that HEAD with 206, and the client throws
    /// PartialContentException. It also stats the bucket and the object before every range. Instead: a plain GET with a
    /// Range header on a presigned URL (signing is local), sent with this store's own HttpClient (<see cref="SendRangeAsync"/>,
    /// which opening uses too).
    /// </remarks>
    internal async ValueTask<HttpResponseMessage> GetRangeAsync(string key, string? entityTag, long from, long? to, bool useAsync, CancellationToken cancellationToken)
    {
        var response = await SendRangeAsync(key, entityTag, from, to, useAsync, cancellationToken);
        if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange?.From == from)
        {
            return response;
        }

        var status = (int)response.StatusCode;
        response.Dispose();
        throw status is 404 or 412
            ? new IOException($"artifact '{key}' was deleted or replaced in S3 bucket '{_bucket}' while it was read")
            : new IOException($"S3 bucket '{_bucket}' at {_serviceUrl} answered {status} for bytes {from}- of '{key}'");
    }

    /// <summary>The GET of a range, whatever it answers; a store that cannot be reached is <see cref="ArtifactStoreUnavailableException"/>.</summary>
    private async ValueTask<HttpResponseMessage> SendRangeAsync(string key, string? entityTag, long from, long? to, bool useAsync, CancellationToken cancellationToken)
    {
        var signing = PresignedGetUrlAsync(key, ReadUrlExpiry);
        // Completes synchronously: the region is configured, so signing looks nothing up (the sync path is for Stream.Read).
        var url = useAsync ? await signing : signing.GetAwaiter().GetResult();
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new RangeHeaderValue(from, to);
        if (entityTag is { Length: > 0 })
        {
            // Changed since it was opened (overwritten): fail, never splice another object's bytes into this one.
            request.Headers.TryAddWithoutValidation("If-Match", entityTag.StartsWith('"') ? entityTag : $"\"{entityTag}\"");
        }

        try
        {
            return useAsync
                ? await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken)
                : _http.Send(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw Unavailable(e);
        }
    }

    /// <summary>Refuses keys that are not plain relative paths (the proxy builds them from validated names; this is the last line of defence).</summary>
    private static void CheckKey(string key)
    {
        if (key.Length == 0 || key.Length > 1024 || key[0] == '/' || key.Contains('\\')
            || key.Any(char.IsControl)
            || key.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            throw new ArgumentException($"storage key '{key}' is not a plain relative path", nameof(key));
        }
    }

    private ArtifactStoreUnavailableException Unavailable(Exception e) => e switch
    {
        ArtifactStoreUnavailableException known => known,
        BucketNotFoundException => new ArtifactStoreUnavailableException(
            $"S3 bucket '{_bucket}' does not exist at {_serviceUrl}; create it (compose's bucket initializer does)", e),
        _ => new ArtifactStoreUnavailableException($"S3 bucket '{_bucket}' at {_serviceUrl} cannot be used: {Describe(e)}", e),
    };

    private static string Describe(Exception e) =>
        e is HttpRequestException { InnerException: { } socket } ? $"{e.Message} ({socket.Message})" : e.Message;

    private void RemoveSpoolLeftovers()
    {
        if (!Directory.Exists(_spoolDirectory))
        {
            return;
        }

        // Spool files delete themselves when closed; only a process killed mid-write leaves one. A day is far beyond any write.
        foreach (var leftover in new DirectoryInfo(_spoolDirectory).EnumerateFiles("*.upload"))
        {
            if (leftover.LastWriteTimeUtc < DateTime.UtcNow.AddDays(-1))
            {
                leftover.Delete();
            }
        }
    }

    public void Dispose()
    {
        _client.Dispose();
        _http.Dispose();
    }

    /// <summary>
    /// A write spooled to a local file, uploaded at commit straight to its final key with its size known (multipart above
    /// the client's 5 MiB threshold, each part read into memory on its own, never the whole file). An S3 PUT, like a
    /// multipart upload's completion, makes the object visible atomically and whole, so no partial object is ever seen;
    /// a temporary key and a copy would double the store's work and leave a visible stray object after a crash.
    /// </summary>
    private sealed class Write(S3ArtifactStore store, string key, FileStream spool) : IArtifactWrite
    {
        public Stream Content => spool;

        public async Task CommitAsync(CancellationToken cancellationToken)
        {
            await spool.FlushAsync(cancellationToken);
            var size = spool.Length;
            spool.Position = 0;
            try
            {
                await store._client.PutObjectAsync(
                    new PutObjectArgs()
                        .WithBucket(store._bucket)
                        .WithObject(key)
                        .WithStreamData(spool)
                        .WithObjectSize(size)
                        .WithContentType(ContentType),
                    cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw store.Unavailable(e);
            }
        }

        // The spool deletes itself on close: an uncommitted write leaves nothing, here or in the bucket.
        public ValueTask DisposeAsync() => spool.DisposeAsync();
    }
}

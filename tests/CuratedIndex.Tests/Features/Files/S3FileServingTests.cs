using System.Net;
using System.Net.Http.Headers;
using CuratedIndex.Storage;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace CuratedIndex.Tests.Features.Files;

/// <summary>
/// Files through a proxy whose artifacts live in S3 (<c>Storage:Provider=S3</c>, the S3 API ./test.sh starts, a bucket per
/// test): stored in the bucket only once verified, served from it with HEAD, Range and If-Range, redirected to a presigned
/// URL when asked, and a clear 503 (with the process up) when the store cannot be reached.
/// </summary>
public sealed class S3FileServingTests
{
    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string StoreKey(FakeFile file) => $"files/{file.Sha256[..2]}/{file.Sha256}/{file.Filename}";

    private static async Task<(FakePyPI Upstream, FakeFile File)> StartUpstreamAsync(int size, int seed)
    {
        var upstream = await FakePyPI.StartAsync();
        var file = upstream.AddFileWithoutMetadata("demo", "demo-1.0+local.tar.gz", RandomBytes(size, seed));
        return (upstream, file);
    }

    private static Task<ProxyInstance> StartProxyAsync(FakePyPI upstream, S3StorageOptions bucket, Dictionary<string, string>? more = null)
    {
        var settings = S3TestServer.Settings(bucket);
        foreach (var (key, value) in more ?? [])
        {
            settings[key] = value;
        }

        return ProxyInstance.StartAsync(upstream.BaseUrl, settings: settings);
    }

    private static string FileUrl(FakeFile file) => $"dev/files/demo/{Uri.EscapeDataString(file.Filename)}";

    [Fact]
    public async Task FirstDownload_IsStoredInTheBucket_ThenServedFromItWithUpstreamDown()
    {
        var bucket = await S3TestServer.CreateBucketAsync();
        var (upstream, file) = await StartUpstreamAsync(1_000_000, 1);
        await using var _ = upstream;
        await using var proxy = await StartProxyAsync(upstream, bucket);

        using var first = await proxy.Client.GetAsync(FileUrl(file));
        var keys = await S3TestServer.KeysAsync(bucket);
        upstream.Down = true;
        using var stored = await proxy.Client.GetAsync(FileUrl(file));
        using var head = await proxy.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, FileUrl(file)));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(file.Content, await first.Content.ReadAsByteArrayAsync());
        Assert.Equal([StoreKey(file)], keys);
        Assert.Equal(1, upstream.HitsOn($"/packages/{file.Filename}"));
        Assert.Equal(file.Content, await stored.Content.ReadAsByteArrayAsync());
        foreach (var response in new[] { stored, head })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(file.Content.Length, response.Content.Headers.ContentLength);
            Assert.Equal($"\"{file.Sha256}\"", response.Headers.ETag!.Tag);
            Assert.Equal(["bytes"], response.Headers.AcceptRanges);
            Assert.Equal("max-age=365000000, immutable, public", response.Headers.NonValidated["Cache-Control"].ToString());
            Assert.NotNull(response.Content.Headers.LastModified);
        }

        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        Assert.Empty(Directory.GetFiles(Path.Combine(proxy.Root, "data", "cache", "uploads")));
    }

    [Fact]
    public async Task StoredFile_RangeIfRangeAndPreconditions_AreAnsweredFromTheBucket()
    {
        var bucket = await S3TestServer.CreateBucketAsync();
        var (upstream, file) = await StartUpstreamAsync(600_000, 2);
        await using var _ = upstream;
        await using var proxy = await StartProxyAsync(upstream, bucket);
        var etag = new EntityTagHeaderValue($"\"{file.Sha256}\"");
        await proxy.Client.GetByteArrayAsync(FileUrl(file));

        async Task<HttpResponseMessage> SendAsync(Action<HttpRequestHeaders> headers)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, FileUrl(file));
            headers(request.Headers);
            return await proxy.Client.SendAsync(request);
        }

        using var range = await SendAsync(h => h.Range = new RangeHeaderValue(300_000, 300_009));
        using var lastByte = await SendAsync(h => h.Range = new RangeHeaderValue(null, 1));
        using var acrossBlocks = await SendAsync(h => h.Range = new RangeHeaderValue(65_000, 200_000));
        using var matchingIfRange = await SendAsync(h => { h.Range = new RangeHeaderValue(0, 9); h.IfRange = new RangeConditionHeaderValue(etag); });
        using var staleIfRange = await SendAsync(h => { h.Range = new RangeHeaderValue(0, 9); h.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"other\"")); });
        using var beyond = await SendAsync(h => h.Range = new RangeHeaderValue(700_000, null));
        using var notModified = await SendAsync(h => h.IfNoneMatch.Add(etag));

        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(file.Content[300_000..300_010], await range.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 300000-300009/{file.Content.Length}", range.Content.Headers.ContentRange!.ToString());
        Assert.Equal(HttpStatusCode.PartialContent, lastByte.StatusCode);
        Assert.Equal(file.Content[^1..], await lastByte.Content.ReadAsByteArrayAsync());
        Assert.Equal(file.Content[65_000..200_001], await acrossBlocks.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.PartialContent, matchingIfRange.StatusCode);
        Assert.Equal(file.Content[..10], await matchingIfRange.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, staleIfRange.StatusCode);
        Assert.Equal(file.Content, await staleIfRange.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task HashMismatchFromUpstream_StoresNothingInTheBucket()
    {
        var bucket = await S3TestServer.CreateBucketAsync();
        var (upstream, file) = await StartUpstreamAsync(300_000, 3);
        await using var _ = upstream;
        var served = (byte[])file.Content.Clone();
        served[^1] ^= 0xFF;
        file.ServedContent = served;
        await using var proxy = await StartProxyAsync(upstream, bucket);

        byte[]? body = null;
        try
        {
            using var response = await proxy.Client.GetAsync(FileUrl(file));
            body = response.IsSuccessStatusCode ? await response.Content.ReadAsByteArrayAsync() : null;
        }
        catch (HttpRequestException)
        {
            // Cut off mid-body: the only way to say "not the file" once it started.
        }

        Assert.Null(body);
        Assert.Empty(await S3TestServer.KeysAsync(bucket));
        Assert.Empty(Directory.GetFiles(Path.Combine(proxy.Root, "data", "cache", "uploads")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // traces exported: the store is wrapped for its spans, and redirects must still happen
    public async Task PresignedRedirect_RedirectsGetsToAUrlWithTheBytes_HeadIfRangeAndPreconditionsAnsweredHere(bool telemetry)
    {
        var bucket = await S3TestServer.CreateBucketAsync();
        var (upstream, file) = await StartUpstreamAsync(200_000, 4);
        await using var _ = upstream;
        var settings = new Dictionary<string, string>
        {
            ["Storage:S3:PresignedRedirect"] = "true",
            ["Storage:S3:PresignedExpiry"] = "00:02:00",
        };
        if (telemetry)
        {
            settings[CuratedIndex.Hosting.Telemetry.EndpointVariable] = $"http://127.0.0.1:{FreePort()}/"; // nobody listens: export fails quietly
        }

        await using var proxy = await StartProxyAsync(upstream, bucket, settings);
        var etag = new EntityTagHeaderValue($"\"{file.Sha256}\"");

        using var first = await proxy.Client.GetAsync(FileUrl(file));
        using var redirect = await proxy.Client.GetAsync(FileUrl(file));
        var ranged = new HttpRequestMessage(HttpMethod.Get, FileUrl(file));
        ranged.Headers.Range = new RangeHeaderValue(10, 19);
        using var rangeRedirect = await proxy.Client.SendAsync(ranged);
        using var head = await proxy.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, FileUrl(file)));
        var ifRange = new HttpRequestMessage(HttpMethod.Get, FileUrl(file));
        ifRange.Headers.Range = new RangeHeaderValue(0, 9);
        ifRange.Headers.IfRange = new RangeConditionHeaderValue(etag);
        using var ifRangeHere = await proxy.Client.SendAsync(ifRange);
        var conditional = new HttpRequestMessage(HttpMethod.Get, FileUrl(file));
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await proxy.Client.SendAsync(conditional);

        // The first download streams to its client while it is verified.
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(file.Content, await first.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
        var location = redirect.Headers.Location!;
        Assert.StartsWith(bucket.ServiceUrl!, location.ToString(), StringComparison.Ordinal);
        Assert.Contains("X-Amz-Expires=120", location.Query, StringComparison.Ordinal);
        Assert.Equal("no-store", redirect.Headers.CacheControl!.ToString());
        using var direct = new HttpClient();
        Assert.Equal(file.Content, await direct.GetByteArrayAsync(location));
        Assert.Equal(HttpStatusCode.TemporaryRedirect, rangeRedirect.StatusCode);
        var rangeFromStore = new HttpRequestMessage(HttpMethod.Get, rangeRedirect.Headers.Location);
        rangeFromStore.Headers.Range = new RangeHeaderValue(10, 19);
        using var partial = await direct.SendAsync(rangeFromStore);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(file.Content[10..20], await partial.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(file.Content.Length, head.Content.Headers.ContentLength);
        Assert.Equal($"\"{file.Sha256}\"", head.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.PartialContent, ifRangeHere.StatusCode);
        Assert.Equal(file.Content[..10], await ifRangeHere.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task SecondNode_ServesWhatTheFirstStored_WithUpstreamFilesFailing()
    {
        var bucket = await S3TestServer.CreateBucketAsync();
        var (upstream, file) = await StartUpstreamAsync(400_000, 5);
        await using var _ = upstream;
        await using var nodeA = await StartProxyAsync(upstream, bucket);
        await using var nodeB = await StartProxyAsync(upstream, bucket);
        await nodeA.Client.GetByteArrayAsync(FileUrl(file));

        upstream.Override[$"/packages/{file.Filename}"] = context =>
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        };
        using var fromB = await nodeB.Client.GetAsync(FileUrl(file));

        Assert.Equal(HttpStatusCode.OK, fromB.StatusCode);
        Assert.Equal(file.Content, await fromB.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, upstream.HitsOn($"/packages/{file.Filename}"));
    }

    [Fact]
    public async Task UnreachableStore_AMissAnswers503WithTheReason_AndTheNodeKeepsServing()
    {
        var (upstream, file) = await StartUpstreamAsync(1000, 6);
        await using var _ = upstream;
        var nobody = new S3StorageOptions
        {
            ServiceUrl = $"http://127.0.0.1:{FreePort()}",
            Bucket = "ci-unreachable",
            AccessKey = "a",
            SecretKey = "b",
        };
        // Starts although the store does not answer: a node comes up and recovers when the store returns.
        await using var proxy = await StartProxyAsync(upstream, nobody);

        using var miss = await proxy.Client.GetAsync(FileUrl(file));
        using var again = await proxy.Client.GetAsync(FileUrl(file));
        using var page = await proxy.Client.GetAsync("dev/simple/demo/");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, miss.StatusCode);
        // One line, and nothing of the store's address for anonymous clients (the log has the reason).
        Assert.Equal("artifact store unavailable; try again shortly\n", await miss.Content.ReadAsStringAsync());
        Assert.False(miss.Headers.CacheControl?.ToString().Contains("immutable", StringComparison.Ordinal) ?? false);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(0, upstream.HitsOn($"/packages/{file.Filename}"));
    }

    [Fact]
    public async Task StoreGoneDuringADownload_TheWaitingRequestAnswers503_NotUpstreamsFault()
    {
        var bucket = await S3TestServer.CreateBucketAsync();
        var (upstream, file) = await StartUpstreamAsync(64 * 1024, 11);
        await using var _ = upstream;
        await using var proxy = await StartProxyAsync(upstream, bucket);
        upstream.FileChunkDelay = TimeSpan.FromMilliseconds(300); // 4 chunks: the bucket goes while they arrive

        // HEAD waits for the verified, stored file rather than reading along.
        var head = proxy.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, FileUrl(file)));
        while (upstream.HitsOn($"/packages/{file.Filename}") == 0)
        {
            await Task.Delay(20);
        }

        await S3TestServer.RemoveBucketAsync(bucket);
        using var answer = await head;

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
    }

    [Fact]
    public async Task MissingBucket_AMissAnswers503()
    {
        var (upstream, file) = await StartUpstreamAsync(1000, 7);
        await using var _ = upstream;
        var missing = S3TestServer.MissingBucket();
        await using var proxy = await StartProxyAsync(upstream, missing);

        using var miss = await proxy.Client.GetAsync(FileUrl(file));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, miss.StatusCode);
        Assert.Equal("artifact store unavailable; try again shortly\n", await miss.Content.ReadAsStringAsync());
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Net;
using System.Net.Http.Headers;
using CuratedIndex.Storage;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Tests.Features.Files;

/// <summary>
/// Stored (verified) files as clients get them over HTTP: the whole body written straight from the file for plain requests,
/// Range and preconditions answered as before, a stored file that is no longer whole never sent as the file, and the
/// opt-in X-Accel-Redirect answer for an nginx in front (its end-to-end test with a real nginx is NginxAccelRedirectTests).
/// </summary>
public sealed class StoredFileServingTests
{
    private const string AccelPrefix = "/_curated_index_artifacts/";

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<FakePyPI> StartUpstreamAsync() => (await FakePyPI.StartAsync()).WithFixtureDists();

    private static string StoredPath(ProxyInstance proxy, FakeFile file) =>
        Path.Combine(proxy.Root, "data", "artifacts", "files", file.Sha256[..2], file.Sha256, file.Filename);

    [Theory]
    [InlineData(1)]
    [InlineData(256 * 1024)]
    [InlineData(256 * 1024 + 1)]
    [InlineData(1024 * 1024 + 12345)]
    public async Task StoredFile_PlainGetAndHead_SendTheExactBytesAndTheSameHeadersAsTheFirstDownload(int size)
    {
        await using var upstream = await StartUpstreamAsync();
        var file = upstream.AddFileWithoutMetadata("demo", "demo-1.0.tar.gz", RandomBytes(size, size));
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        var url = $"dev/files/demo/{file.Filename}";

        using var first = await proxy.Client.GetAsync(url);
        using var stored = await proxy.Client.GetAsync(url);
        using var head = await proxy.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));

        Assert.Equal(file.Content, await first.Content.ReadAsByteArrayAsync());
        Assert.Equal(file.Content, await stored.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, upstream.HitsOn($"/packages/{file.Filename}"));
        foreach (var response in new[] { stored, head })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.ToString());
            Assert.Equal(size, response.Content.Headers.ContentLength);
            Assert.Equal($"\"{file.Sha256}\"", response.Headers.ETag!.Tag);
            Assert.Equal("max-age=365000000, immutable, public", response.Headers.NonValidated["Cache-Control"].ToString());
            Assert.Equal(first.Headers.CacheControl, response.Headers.CacheControl);
            Assert.Equal(["*"], response.Headers.GetValues("Access-Control-Allow-Origin"));
            Assert.Equal(["bytes"], response.Headers.AcceptRanges);
            Assert.Equal(new DateTimeOffset(File.GetLastWriteTimeUtc(StoredPath(proxy, file))).ToUnixTimeSeconds(), response.Content.Headers.LastModified!.Value.ToUnixTimeSeconds());
            Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
            Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        }

        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task StoredFile_RangeAndPreconditions_AnswerPartialNotModifiedAndPreconditionFailed()
    {
        await using var upstream = await StartUpstreamAsync();
        var file = upstream.AddFileWithoutMetadata("demo", "demo-1.0.tar.gz", RandomBytes(600_000, 1));
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        var url = $"dev/files/demo/{file.Filename}";
        var etag = new EntityTagHeaderValue($"\"{file.Sha256}\"");
        await proxy.Client.GetByteArrayAsync(url);
        using var plain = await proxy.Client.GetAsync(url);

        async Task<HttpResponseMessage> SendAsync(Action<HttpRequestHeaders> headers)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            headers(request.Headers);
            return await proxy.Client.SendAsync(request);
        }

        using var range = await SendAsync(h => h.Range = new RangeHeaderValue(300_000, 300_009));
        using var matchingIfRange = await SendAsync(h => { h.Range = new RangeHeaderValue(0, 9); h.IfRange = new RangeConditionHeaderValue(etag); });
        using var beyond = await SendAsync(h => h.Range = new RangeHeaderValue(700_000, null));
        using var notModified = await SendAsync(h => h.IfNoneMatch.Add(etag));
        using var otherTag = await SendAsync(h => h.IfNoneMatch.Add(new EntityTagHeaderValue("\"other\"")));
        using var notModifiedSince = await SendAsync(h => h.IfModifiedSince = plain.Content.Headers.LastModified);
        using var failed = await SendAsync(h => h.IfMatch.Add(new EntityTagHeaderValue("\"other\"")));
        using var matching = await SendAsync(h => h.IfMatch.Add(etag));

        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(file.Content[300_000..300_010], await range.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 300000-300009/{file.Content.Length}", range.Content.Headers.ContentRange!.ToString());
        Assert.Equal(HttpStatusCode.PartialContent, matchingIfRange.StatusCode);
        Assert.Equal(file.Content[..10], await matchingIfRange.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyond.StatusCode);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, otherTag.StatusCode);
        Assert.Equal(file.Content, await otherTag.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotModified, notModifiedSince.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, failed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, matching.StatusCode);
        Assert.Equal(file.Content, await matching.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task StoredFile_TruncatedInTheStoreAfterVerification_IsFetchedAgainNotSentShort()
    {
        await using var upstream = await StartUpstreamAsync();
        var file = upstream.AddFileWithoutMetadata("demo", "demo-1.0.tar.gz", RandomBytes(300_000, 2));
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        var url = $"dev/files/demo/{file.Filename}";
        await proxy.Client.GetByteArrayAsync(url);
        using (var damaged = File.Open(StoredPath(proxy, file), FileMode.Open, FileAccess.Write))
        {
            damaged.SetLength(1000);
        }

        var served = await proxy.Client.GetByteArrayAsync(url);

        Assert.Equal(file.Content, served);
        Assert.Equal(2, upstream.HitsOn($"/packages/{file.Filename}"));
        // The damaged copy was replaced by the verified one.
        Assert.Equal(file.Content, await File.ReadAllBytesAsync(StoredPath(proxy, file)));
    }

    [Fact]
    public async Task StoredFile_ShrinkingWhileSent_AbortsTheResponseInsteadOfEndingItShort()
    {
        // Larger than what loopback socket buffers and Kestrel's response buffer can take before the client reads, so the
        // server is still reading the file when it shrinks.
        await using var upstream = await StartUpstreamAsync();
        var file = upstream.AddFileWithoutMetadata("demo", "demo-1.0.tar.gz", RandomBytes(16 * 1024 * 1024, 3));
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        var url = $"dev/files/demo/{file.Filename}";
        await proxy.Client.GetByteArrayAsync(url);

        using var response = await proxy.Client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
        using (var shrinking = File.Open(StoredPath(proxy, file), FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            shrinking.SetLength(1024 * 1024);
        }

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(file.Content.Length, response.Content.Headers.ContentLength);
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            await using var body = await response.Content.ReadAsStreamAsync();
            await body.CopyToAsync(Stream.Null);
        });
    }

    [Fact]
    public async Task AccelRedirect_Set_AnswersStoredFilesAndMetadataWithTheHeaderAndNoBody_FirstDownloadAndPreconditionsHere()
    {
        await using var upstream = await StartUpstreamAsync();
        var wheel = WheelBuilder.Build("demo", "1.0+local");
        var file = upstream.AddFile("demo", wheel.Filename, wheel.Content);
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
        {
            ["Storage:FileSystem:AccelRedirectPrefix"] = AccelPrefix,
        });
        var url = $"dev/files/demo/{file.Filename}";
        var storeKey = $"files/{file.Sha256[..2]}/{file.Sha256}/demo-1.0%2Blocal-py3-none-any.whl";

        using var first = await proxy.Client.GetAsync(url);
        using var stored = await proxy.Client.GetAsync(url);
        using var head = await proxy.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, url));
        var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(0, 9);
        using var range = await proxy.Client.SendAsync(ranged);
        var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{file.Sha256}\""));
        using var notModified = await proxy.Client.SendAsync(conditional);
        await proxy.Client.GetByteArrayAsync(url + ".metadata");
        using var metadata = await proxy.Client.GetAsync(url + ".metadata");

        // The first download streams while it is verified: the bytes, from here.
        Assert.Equal(file.Content, await first.Content.ReadAsByteArrayAsync());
        Assert.False(first.Headers.Contains("X-Accel-Redirect"));
        foreach (var response in new[] { stored, head, range })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal([AccelPrefix + storeKey], response.Headers.GetValues("X-Accel-Redirect"));
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(0, response.Content.Headers.ContentLength);
            Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.ToString());
            Assert.Equal($"\"{file.Sha256}\"", response.Headers.ETag!.Tag);
            Assert.Equal("max-age=365000000, immutable, public", response.Headers.NonValidated["Cache-Control"].ToString());
            Assert.Equal(["*"], response.Headers.GetValues("Access-Control-Allow-Origin"));
            Assert.False(response.Content.Headers.Contains("Content-Disposition"));
        }

        // nginx would test a precondition against its own validators: answered here.
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.False(notModified.Headers.Contains("X-Accel-Redirect"));
        Assert.Equal(
            [$"{AccelPrefix}files/{file.MetadataSha256![..2]}/{file.MetadataSha256}/demo-1.0%2Blocal-py3-none-any.whl.metadata"],
            metadata.Headers.GetValues("X-Accel-Redirect"));
        Assert.Empty(await metadata.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, upstream.HitsOn($"/packages/{file.Filename}"));
    }

    [Theory]
    [InlineData("_curated_index_artifacts/", "starts and ends with '/'")]
    [InlineData("/_curated_index_artifacts", "starts and ends with '/'")]
    [InlineData("/", "starts and ends with '/'")]
    [InlineData("/a/../b/", "no '..'")]
    [InlineData("/../", "no '..'")]
    [InlineData("/a//b/", "no '//'")]
    [InlineData("/a\u0001/", "control characters")]
    [InlineData("/a b/", "letters, digits")]
    [InlineData("/a?b=/", "letters, digits")]
    [InlineData("/a%2e%2e/", "letters, digits")]
    public async Task AccelRedirectPrefix_Invalid_StopsStartupWithTheReason(string prefix, string reason)
    {
        await using var upstream = await FakePyPI.StartAsync();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { ["Storage:FileSystem:AccelRedirectPrefix"] = prefix }));

        Assert.Contains("Storage:FileSystem:AccelRedirectPrefix", e.Message, StringComparison.Ordinal);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccelRedirectPrefix_WithAnotherProvider_StopsStartup()
    {
        await using var upstream = await FakePyPI.StartAsync();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
            {
                ["Storage:Provider"] = "S3",
                ["Storage:FileSystem:AccelRedirectPrefix"] = AccelPrefix,
            }));

        Assert.Contains("Storage:FileSystem:AccelRedirectPrefix needs Storage:Provider FileSystem", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/_curated_index_artifacts/")]
    [InlineData("/internal/artifacts/")]
    [InlineData("/a.b~c-d_e/")]
    public void AccelRedirectPrefix_PlainPaths_AreAccepted(string prefix) =>
        Assert.Null(FileSystemStorageOptions.AccelRedirectPrefixProblem(prefix));

    [Fact]
    public async Task ProvenancePassthrough_DropsUpstreamXAccelHeaders()
    {
        // Behind nginx, an X-Accel-Redirect from upstream would make nginx serve one of its internal locations instead.
        await using var upstream = await StartUpstreamAsync();
        const string Zipp = "zipp-3.7.0-py3-none-any.whl";
        upstream.File(Zipp).Provenance = "{\"version\": 1, \"attestation_bundles\": []}";
        upstream.Override[$"/integrity/zipp/3.7.0/{Zipp}/provenance"] = async context =>
        {
            context.Response.Headers["X-Accel-Redirect"] = AccelPrefix + "files/aa/secret";
            context.Response.Headers["X-Accel-Limit-Rate"] = "1";
            await context.Response.WriteAsync("{\"version\": 1, \"attestation_bundles\": []}");
        };
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);

        using var response = await proxy.Client.GetAsync($"dev/integrity/zipp/3.7.0/{Zipp}/provenance");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("attestation_bundles", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("X-Accel-Redirect"));
        Assert.False(response.Headers.Contains("X-Accel-Limit-Rate"));
    }
}

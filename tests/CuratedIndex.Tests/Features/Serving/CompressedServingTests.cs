using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Tests.Infrastructure;

namespace CuratedIndex.Tests.Features.Serving;

/// <summary>
/// Pages, JSON API documents and the root list in gzip for clients that ask (pip, uv, poetry and pdm do), over real HTTP:
/// the compressed copy decompresses to exactly the identity bytes, each representation has its own ETag, and caches are
/// told the answer varies with Accept-Encoding.
/// </summary>
public sealed class CompressedServingTests
{
    private const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";

    private static async Task<FakePyPI> StartUpstreamAsync() => (await FakePyPI.StartAsync()).WithFixtureDists();

    private static HttpRequestMessage Get(string path, string? acceptEncoding = null, string? accept = null, string? ifNoneMatch = null, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return request;
    }

    private static byte[] Gunzip(byte[] compressed)
    {
        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    [Theory]
    [InlineData("dev/simple/six/", null)]
    [InlineData("dev/simple/six/", PipAccept)]
    [InlineData("dev/pypi/six/json", null)]
    [InlineData("dev/simple/", null)]
    [InlineData("dev/simple/", PipAccept)]
    public async Task Document_AcceptingGzip_GetsTheGzipCopyOfTheIdentityBytesWithItsOwnETag(string path, string? accept)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);

        using var identity = await proxy.Client.SendAsync(Get(path, accept: accept));
        using var gzip = await proxy.Client.SendAsync(Get(path, "gzip, deflate", accept));
        var identityBody = await identity.Content.ReadAsByteArrayAsync();
        var gzipBody = await gzip.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, identity.StatusCode);
        Assert.Equal(HttpStatusCode.OK, gzip.StatusCode);
        Assert.Empty(identity.Content.Headers.ContentEncoding);
        Assert.Equal(["gzip"], gzip.Content.Headers.ContentEncoding);
        Assert.Equal(gzipBody.Length, gzip.Content.Headers.ContentLength);
        Assert.Equal(identityBody, Gunzip(gzipBody));
        Assert.Equal(identity.Content.Headers.ContentType, gzip.Content.Headers.ContentType);
        Assert.Contains("Accept-Encoding", identity.Headers.Vary);
        Assert.Contains("Accept-Encoding", gzip.Headers.Vary);
        Assert.NotEqual(identity.Headers.ETag!.Tag, gzip.Headers.ETag!.Tag);
        Assert.False(gzip.Headers.ETag.IsWeak);
        Assert.Equal(identity.Headers.GetValues("X-PyPI-Last-Serial"), gzip.Headers.GetValues("X-PyPI-Last-Serial"));
    }

    [Theory]
    [InlineData("dev/simple/six/")]
    [InlineData("dev/pypi/six/json")]
    [InlineData("dev/simple/")]
    public async Task Document_RevalidatedWithItsGzipETag_Answers304OnlyForTheGzipRepresentation(string path)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        using var gzip = await proxy.Client.SendAsync(Get(path, "gzip"));
        var etag = gzip.Headers.ETag!.Tag;

        using var notModified = await proxy.Client.SendAsync(Get(path, "gzip", ifNoneMatch: etag));
        // The same validator from a client that does not accept gzip names another representation: the full identity answer.
        using var identity = await proxy.Client.SendAsync(Get(path, ifNoneMatch: etag));

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(etag, notModified.Headers.ETag!.Tag);
        Assert.Contains("Accept-Encoding", notModified.Headers.Vary);
        Assert.Equal(HttpStatusCode.OK, identity.StatusCode);
        Assert.Empty(identity.Content.Headers.ContentEncoding);
        Assert.NotEmpty(await identity.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("dev/simple/six/")]
    [InlineData("dev/simple/")]
    public async Task Head_AcceptingGzip_HasTheGzipHeadersAndNoBody(string path)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        using var get = await proxy.Client.SendAsync(Get(path, "gzip"));
        var getLength = (await get.Content.ReadAsByteArrayAsync()).Length;

        using var head = await proxy.Client.SendAsync(Get(path, "gzip", method: HttpMethod.Head));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(["gzip"], head.Content.Headers.ContentEncoding);
        Assert.Equal(getLength, head.Content.Headers.ContentLength);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("gzip", true)]
    [InlineData("gzip, deflate, br, zstd", true)]
    [InlineData("x-gzip", true)]
    [InlineData("*", true)]
    [InlineData("gzip;q=0", false)]
    [InlineData("*;q=0", false)]
    [InlineData("br, deflate", false)]
    [InlineData("identity", false)]
    [InlineData("identity;q=1, gzip;q=0.5", false)]
    public async Task ProjectPage_AcceptEncodingVariants_AreHonoured(string acceptEncoding, bool compressed)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);

        using var response = await proxy.Client.SendAsync(Get("dev/simple/six/", acceptEncoding, PipAccept));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(compressed, response.Content.Headers.ContentEncoding.Contains("gzip"));
        var json = JsonNode.Parse(compressed ? Gunzip(body) : body)!;
        Assert.Equal("six", json["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task RootList_LinksRelativelyToEachProject()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, policyYaml: "deny:\n  six: compromised\n");

        var html = Encoding.UTF8.GetString(Gunzip(await (await proxy.Client.SendAsync(Get("dev/simple/", "gzip"))).Content.ReadAsByteArrayAsync()));

        Assert.Contains("<a href=\"jmespath/\">jmespath</a>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"six/\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BlockedProjectPage_IsSentAsItIsEvenToAGzipClient()
    {
        // A quarantined page is rendered per request (it names the review request): it is never compressed on the request path.
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, policyYaml: "deny:\n  six: compromised\n");

        using var response = await proxy.Client.SendAsync(Get("dev/simple/six/", "gzip", PipAccept));
        var json = JsonNode.Parse(await response.Content.ReadAsByteArrayAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.Equal("quarantined", json["project-status"]!["status"]!.GetValue<string>());
    }
}

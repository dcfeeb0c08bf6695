using System.Net;
using System.Text.Json.Nodes;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 1: what the index writes never depends on the request's <c>Host</c>; the URLs that must be absolute
/// come from <c>Server:PublicUrl</c>.
/// </summary>
public sealed class PublicUrlTests
{
    private const string Jmespath = "jmespath-0.10.0-py2.py3-none-any.whl";
    private const string JsonAccept = "application/vnd.pypi.simple.v1+json";

    private static async Task<byte[]> GetAsync(ProxyInstance proxy, string target, string accept, string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await proxy.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    [Fact]
    public async Task WithoutPublicUrl_PagesAreTheSameForEveryHostAndLeaveProvenanceOut()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        upstream.File(Jmespath).Provenance = """{"version":1,"attestation_bundles":[]}""";
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);

        var first = await GetAsync(proxy, "dev/simple/jmespath/", JsonAccept, "evil.example");
        var second = await GetAsync(proxy, "dev/simple/jmespath/", JsonAccept, "other.example:8443");
        var html = await GetAsync(proxy, "dev/simple/jmespath/", "text/html", "evil.example");
        var api = await GetAsync(proxy, "dev/pypi/jmespath/json", "application/json", "evil.example");
        var apiOther = await GetAsync(proxy, "dev/pypi/jmespath/json", "application/json", "other.example");
        var root = await GetAsync(proxy, "dev/simple/", "text/html", "evil.example");
        var rootOther = await GetAsync(proxy, "dev/simple/", "text/html", "other.example");

        Assert.Equal(first, second);
        Assert.Equal(api, apiOther);
        Assert.Equal(root, rootOther);
        Assert.Contains("<a href=\"jmespath/\">", System.Text.Encoding.UTF8.GetString(root), StringComparison.Ordinal); // relative: right under any path base
        var file = JsonNode.Parse(first)!["files"]![0]!;
        Assert.Equal($"/dev/files/jmespath/{Jmespath}", file["url"]!.GetValue<string>());
        Assert.Null(file["provenance"]); // PEP 740 allows only an absolute URL, and there is no configured one
        Assert.DoesNotContain("data-provenance", System.Text.Encoding.UTF8.GetString(html), StringComparison.Ordinal);
        Assert.DoesNotContain("evil.example", System.Text.Encoding.UTF8.GetString(html), StringComparison.Ordinal);
        Assert.Equal($"/dev/files/jmespath/{Jmespath}", JsonNode.Parse(api)!["urls"]![0]!["url"]!.GetValue<string>());
    }

    [Fact]
    public async Task WithPublicUrl_AbsoluteUrlsUseItWhateverTheHost()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        upstream.File(Jmespath).Provenance = """{"version":1,"attestation_bundles":[]}""";
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string>
        {
            ["Server:PublicUrl"] = "https://pypi.example.org/",
        });

        var page = await GetAsync(proxy, "dev/simple/jmespath/", JsonAccept, "evil.example");
        var samePage = await GetAsync(proxy, "dev/simple/jmespath/", JsonAccept, "other.example");
        var html = System.Text.Encoding.UTF8.GetString(await GetAsync(proxy, "dev/simple/jmespath/", "text/html", "evil.example"));
        var api = await GetAsync(proxy, "dev/pypi/jmespath/json", "application/json", "evil.example");

        Assert.Equal(page, samePage);
        var file = JsonNode.Parse(page)!["files"]![0]!;
        Assert.Equal($"/dev/files/jmespath/{Jmespath}", file["url"]!.GetValue<string>());
        Assert.Equal($"https://pypi.example.org/dev/integrity/jmespath/0.10.0/{Jmespath}/provenance", file["provenance"]!.GetValue<string>());
        Assert.Contains($"data-provenance=\"https://pypi.example.org/dev/integrity/jmespath/0.10.0/{Jmespath}/provenance\"", html, StringComparison.Ordinal);
        Assert.Equal($"https://pypi.example.org/dev/files/jmespath/{Jmespath}", JsonNode.Parse(api)!["urls"]![0]!["url"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("Server:PublicUrl", "ftp://pypi.example.org/", "Server:PublicUrl")]
    [InlineData("Server:PublicUrl", "https://pypi.example.org/?x=1", "Server:PublicUrl")]
    [InlineData("Server:PublicUrl", "https://user:secret@pypi.example.org/", "Server:PublicUrl")]
    [InlineData("Cache:MemoryLimit", "lots", "Cache:MemoryLimit")]
    [InlineData("Cache:MemoryLimit", "512KB", "Cache:MemoryLimit")]
    [InlineData("Closure:MaxPerRun", "0", "MaxPerRun")]
    [InlineData("Closure:MaxAge", "-01:00:00", "MaxAge")]
    public async Task BadSetting_StopsStartupNamingTheKey(string key, string value, string named)
    {
        await using var upstream = await FakePyPI.StartAsync();

        var e = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { [key] = value }));

        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1048576", 1048576L)]
    [InlineData("256MB", 256L * 1024 * 1024)]
    [InlineData("256 mb", 256L * 1024 * 1024)]
    [InlineData("1GiB", 1024L * 1024 * 1024)]
    [InlineData("64k", 64L * 1024)]
    public void TryParseSize_ReadsBytesAndUnits(string text, long expected)
    {
        Assert.True(CacheOptions.TryParseSize(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("MB")]
    [InlineData("-1MB")]
    [InlineData("1.5GB")]
    [InlineData("1TB")]
    [InlineData("99999999999999999GB")]
    public void TryParseSize_RefusesWhatIsNotASize(string text) =>
        Assert.False(CacheOptions.TryParseSize(text, out _));
}

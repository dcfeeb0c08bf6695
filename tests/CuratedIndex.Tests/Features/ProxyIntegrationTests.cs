using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features;

/// <summary>Tier 1 over HTTP against a fake upstream; runs once on SQLite and once on PostgreSQL.</summary>
public abstract class ProxyIntegrationTests
{
    private const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";

    protected abstract DatabaseProvider Provider { get; }

    private Task<ProxyInstance> StartProxyAsync(FakePyPI upstream, IDictionary<string, string>? settings = null, string? policy = null) =>
        ProxyInstance.StartAsync(upstream.BaseUrl, Provider, settings, policy);

    private static async Task<FakePyPI> StartUpstreamAsync() => (await FakePyPI.StartAsync()).WithFixtureDists();

    private static HttpRequestMessage Get(string path, string? accept = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        return request;
    }

    [Fact]
    public async Task ProjectPage_PipAccept_ServesJsonWithProxyUrlsAndUpstreamFields()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.SendAsync(Get("dev/simple/six/", PipAccept));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.pypi.simple.v1+json", response.Content.Headers.ContentType!.ToString());
        Assert.Contains("Accept", response.Headers.Vary);
        Assert.Equal("1000", response.Headers.GetValues("X-PyPI-Last-Serial").Single());
        Assert.True(response.Headers.CacheControl!.Public);
        Assert.Equal(TimeSpan.FromSeconds(600), response.Headers.CacheControl.MaxAge);
        var json = JsonNode.Parse(body)!;
        var file = json["files"]![0]!;
        var upstreamFile = upstream.File(Six);
        Assert.Equal(Six, file["filename"]!.GetValue<string>());
        Assert.Equal($"/dev/files/six/{Six}", file["url"]!.GetValue<string>());
        Assert.Equal(upstreamFile.Sha256, file["hashes"]!["sha256"]!.GetValue<string>());
        Assert.Equal(upstreamFile.Content.Length, file["size"]!.GetValue<long>());
        Assert.Equal(upstreamFile.UploadTime, file["upload-time"]!.GetValue<string>());
        Assert.Equal(upstreamFile.MetadataSha256, file["core-metadata"]!["sha256"]!.GetValue<string>());
        Assert.Null(file["dist-info-metadata"]);
        Assert.Equal("1.17.0", json["versions"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task ProjectPage_NoAccept_ServesHtmlAndAnswersIfNoneMatchWith304()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.SendAsync(Get("dev/simple/six/"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        Assert.Contains($"<a href=\"/dev/files/six/{Six}#sha256={upstream.File(Six).Sha256}\"", body, StringComparison.Ordinal);
        Assert.Contains("data-requires-python=\"&gt;=2.7, !=3.0.*, !=3.1.*, !=3.2.*\"", body, StringComparison.Ordinal);

        var conditional = Get("dev/simple/six/");
        conditional.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var notModified = await proxy.Client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Contains("Accept", notModified.Headers.Vary);

        // The JSON representation has its own validator.
        using var json = await proxy.Client.SendAsync(Get("dev/simple/six/", PipAccept));
        Assert.NotEqual(response.Headers.ETag, json.Headers.ETag);
    }

    [Fact]
    public async Task LargeProjectPage_IsSentWholeWithTheSameValidatorsOnGetHeadAnd304()
    {
        // ~330 KB rendered: several of the 64 KB segments PlainResults writes a large body in.
        await using var upstream = await StartUpstreamAsync();
        var page = new StringBuilder("<!DOCTYPE html>\n<html><body>\n");
        for (var i = 0; i < 2000; i++)
        {
            var filename = $"bigproject-1.{i}.0-py3-none-any.whl";
            page.Append(CultureInfo.InvariantCulture, $"<a href=\"../../packages/{filename}#sha256={i:x64}\">{filename}</a><br/>\n");
        }

        page.Append("</body></html>\n");
        upstream.Override["/simple/bigproject/"] = context =>
        {
            context.Response.ContentType = "text/html";
            return context.Response.WriteAsync(page.ToString());
        };
        await using var proxy = await StartProxyAsync(upstream);

        using var get = await proxy.Client.SendAsync(Get("dev/simple/bigproject/"));
        var body = await get.Content.ReadAsByteArrayAsync();
        using var again = await proxy.Client.SendAsync(Get("dev/simple/bigproject/"));
        using var head = await proxy.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "dev/simple/bigproject/"));
        var conditional = Get("dev/simple/bigproject/");
        conditional.Headers.TryAddWithoutValidation("If-None-Match", $"\"stale\", W/{get.Headers.ETag!.Tag}");
        using var notModified = await proxy.Client.SendAsync(conditional);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.True(body.Length > 256 * 1024, $"the page is only {body.Length} bytes");
        Assert.Equal(body.Length, get.Content.Headers.ContentLength);
        Assert.Equal(RenderedPage.ETagOf(body), get.Headers.ETag!.Tag);
        var text = Encoding.UTF8.GetString(body);
        Assert.Equal(2000, text.Split("<a href=\"/dev/files/bigproject/bigproject-1.").Length - 1);
        Assert.Contains($"#sha256={1999:x64}\"", text, StringComparison.Ordinal);
        Assert.EndsWith("</html>\n", text, StringComparison.Ordinal);
        Assert.Equal(body, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(get.Headers.ETag, again.Headers.ETag);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(get.Headers.ETag, head.Headers.ETag);
        Assert.Equal(body.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(get.Headers.ETag, notModified.Headers.ETag);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        foreach (var response in new[] { get, head, notModified })
        {
            Assert.Contains("Accept", response.Headers.Vary);
            Assert.Equal(TimeSpan.FromSeconds(600), response.Headers.CacheControl!.MaxAge);
            Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        }
    }

    [Theory]
    [InlineData("dev/simple/Six/", "/dev/simple/six/")]
    [InlineData("dev/simple/six", "/dev/simple/six/")]
    [InlineData("dev/simple/typing.Extensions/", "/dev/simple/typing-extensions/")]
    [InlineData("dev/simple", "/dev/simple/")]
    [InlineData("dev/pypi/Six/json", "/dev/pypi/six/json")]
    public async Task NonCanonicalUrl_RedirectsPermanentlyToRelativeCanonical(string path, string location)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(location, response.Headers.Location!.OriginalString);
    }

    [Theory]
    [InlineData("nope/simple/six/", 404, "unknown environment 'nope'")]
    [InlineData("dev/simple/-six-/", 400, "invalid project name")]
    [InlineData("dev/simple/six%20six/", 400, "invalid project name")]
    [InlineData("dev/files/six/..whl", 400, "invalid filename")]
    [InlineData("dev/simple/does-not-exist/", 404, "404 Not Found")]
    [InlineData("dev/files/six/six-9.9.9-py3-none-any.whl", 404, "404 Not Found")]
    public async Task BadRequests_GetPreciseStatusAndOneLineReason(string path, int status, string reason)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Contains(reason, body, StringComparison.Ordinal);
        Assert.Single(body.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task OverlongProjectName_IsRefusedWith400()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.GetAsync($"dev/simple/{new string('a', 201)}/");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("longer than 200", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, upstream.Hits.Keys.Count(k => k.StartsWith("/simple/a", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("/dev/simple/%2e%2e/%2e%2e/etc/passwd", "encoded '.'")]
    [InlineData("/dev/simple/../../etc/passwd", "'..' segment")]
    [InlineData("/dev/files/six/..%2f..%2fsecret", "encoded")]
    [InlineData("/dev/files/six/a\\b.whl", "backslash")]
    [InlineData("/dev/files/six/a%5cb.whl", "backslash")]
    [InlineData("/dev/files/six/a%00.whl", null)] // Kestrel itself refuses an encoded NUL, before any middleware
    public async Task TraversalInPath_IsRefusedBeforeRouting(string rawTarget, string? reason)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        var (status, body) = await RawHttp.GetAsync(proxy.BaseUrl, rawTarget);

        Assert.Equal(400, status);
        if (reason is not null)
        {
            Assert.Contains(reason, body, StringComparison.Ordinal);
        }

        // The process keeps serving.
        Assert.Equal(HttpStatusCode.OK, (await proxy.Client.GetAsync("healthz")).StatusCode);
    }

    [Fact]
    public async Task DeniedProject_IsQuarantinedWithReasonWithoutAskingUpstream()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream, policy: "deny:\n  six: compromised maintainer account\n");

        using var page = await proxy.Client.SendAsync(Get("dev/simple/six/", PipAccept));
        var json = JsonNode.Parse(await page.Content.ReadAsStringAsync())!;
        using var file = await proxy.Client.GetAsync($"dev/files/six/{Six}");
        using var api = await proxy.Client.GetAsync("dev/pypi/six/json");
        var root = await proxy.Client.GetStringAsync("dev/simple/");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Empty(json["files"]!.AsArray());
        Assert.Equal("quarantined", json["project-status"]!["status"]!.GetValue<string>());
        Assert.Contains("compromised maintainer account", json["project-status"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
        Assert.DoesNotContain("href=\"six/\"", root, StringComparison.Ordinal);
        Assert.Contains("href=\"jmespath/\"", root, StringComparison.Ordinal);
        Assert.Equal(0, upstream.HitsOn("/simple/six/"));
    }

    [Fact]
    public async Task Tier2Environment_ShowsOnlyApprovedProjects()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream, policy: "approve: [six]\n");

        var approved = JsonNode.Parse(await (await proxy.Client.SendAsync(Get("ci/simple/six/", PipAccept))).Content.ReadAsStringAsync())!;
        var unapproved = JsonNode.Parse(await (await proxy.Client.SendAsync(Get("ci/simple/jmespath/", PipAccept))).Content.ReadAsStringAsync())!;
        var root = await proxy.Client.GetStringAsync("ci/simple/");

        Assert.Single(approved["files"]!.AsArray());
        Assert.Empty(unapproved["files"]!.AsArray());
        Assert.Equal("quarantined", unapproved["project-status"]!["status"]!.GetValue<string>());
        Assert.Contains("href=\"six/\"", root, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"jmespath/\"", root, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Root_StreamsAllProjectsInBothFormats()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        using var html = await proxy.Client.SendAsync(Get("dev/simple/"));
        using var json = await proxy.Client.SendAsync(Get("dev/simple/", PipAccept));
        var projects = JsonNode.Parse(await json.Content.ReadAsStringAsync())!["projects"]!.AsArray();

        Assert.Equal("text/html; charset=utf-8", html.Content.Headers.ContentType!.ToString());
        Assert.Equal(upstream.Projects.Count, projects.Count);
        Assert.Contains("<a href=\"typing-extensions/\">", await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("1000", json.Headers.GetValues("X-PyPI-Last-Serial").Single());
    }

    [Fact]
    public async Task File_MissThenHit_StreamsVerifiedBytesOnceAndSupportsRangeAndHead()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        var expected = upstream.File(Six).Content;

        var first = await proxy.Client.GetByteArrayAsync($"dev/files/six/{Six}");
        using var head = await proxy.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"dev/files/six/{Six}"));
        var range = Get($"dev/files/six/{Six}");
        range.Headers.Range = new RangeHeaderValue(10, 19);
        using var partial = await proxy.Client.SendAsync(range);
        var suffix = Get($"dev/files/six/{Six}");
        suffix.Headers.Range = new RangeHeaderValue(null, 5);
        using var tail = await proxy.Client.SendAsync(suffix);
        var beyond = Get($"dev/files/six/{Six}");
        beyond.Headers.Range = new RangeHeaderValue(expected.Length + 10, null);
        using var unsatisfiable = await proxy.Client.SendAsync(beyond);
        var staleRange = Get($"dev/files/six/{Six}");
        staleRange.Headers.Range = new RangeHeaderValue(0, 9);
        staleRange.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue("\"other\""));
        using var full = await proxy.Client.SendAsync(staleRange);

        Assert.Equal(expected, first);
        Assert.Equal(1, upstream.HitsOn($"/packages/{Six}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(expected.Length, head.Content.Headers.ContentLength);
        Assert.Contains("bytes", head.Headers.AcceptRanges);
        Assert.Equal($"\"{upstream.File(Six).Sha256}\"", head.Headers.ETag!.Tag);
        Assert.Contains("immutable", head.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(expected[10..20], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(expected[^5..], await tail.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
        Assert.Equal($"bytes */{expected.Length}", unsatisfiable.Content.Headers.ContentRange!.ToString());
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(expected, await full.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task HeadOnMiss_FetchesVerifiesAndAnswersWithHeaders()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        using var head = await proxy.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"dev/files/six/{Six}"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(upstream.File(Six).Content.Length, head.Content.Headers.ContentLength);
        Assert.Equal(1, upstream.HitsOn($"/packages/{Six}"));
    }

    [Fact]
    public async Task Metadata_IsServedThroughTheProxyAndVerified()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        var metadata = await proxy.Client.GetByteArrayAsync($"dev/files/six/{Six}.metadata");

        Assert.Equal(upstream.File(Six).Metadata, metadata);
        Assert.StartsWith("Metadata-Version", Encoding.UTF8.GetString(metadata), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentMisses_ForOneFile_MakeOneUpstreamDownload()
    {
        await using var upstream = await StartUpstreamAsync();
        upstream.FileChunkDelay = TimeSpan.FromMilliseconds(30);
        await using var proxy = await StartProxyAsync(upstream);
        const string Setuptools = "setuptools-67.6.1-py3-none-any.whl";
        await proxy.Client.GetStringAsync("dev/simple/setuptools/");

        var downloads = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => proxy.Client.GetByteArrayAsync($"dev/files/setuptools/{Setuptools}")));

        Assert.All(downloads, bytes => Assert.Equal(upstream.File(Setuptools).Content, bytes));
        Assert.Equal(1, upstream.HitsOn($"/packages/{Setuptools}"));
    }

    [Fact]
    public async Task HashMismatch_AbortsResponseStoresNothingAndRecordsIncident()
    {
        await using var upstream = await StartUpstreamAsync();
        var served = (byte[])upstream.File("setuptools-67.6.1-py3-none-any.whl").Content.Clone();
        served[^1] ^= 0xFF;
        upstream.File("setuptools-67.6.1-py3-none-any.whl").ServedContent = served;
        await using var proxy = await StartProxyAsync(upstream);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => proxy.Client.GetByteArrayAsync("dev/files/setuptools/setuptools-67.6.1-py3-none-any.whl"));
        using var second = await proxy.Client.GetAsync("dev/files/setuptools/setuptools-67.6.1-py3-none-any.whl", HttpCompletionOption.ResponseHeadersRead);
        var secondBody = await ReadAllOrNullAsync(second);

        Assert.Null(secondBody); // never a complete, wrong file
        Assert.Empty(Directory.GetFiles(Path.Combine(proxy.Root, "data", "artifacts"), "*", SearchOption.AllDirectories));
        await using var scope = proxy.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        Assert.Empty(await db.StoredArtifacts.ToListAsync());
        var incident = Assert.Single(await db.Incidents.Where(i => i.Filename == "setuptools-67.6.1-py3-none-any.whl").Take(1).ToListAsync());
        Assert.Equal(IncidentKind.HashMismatch, incident.Kind);
        Assert.Contains("the index says", incident.Detail, StringComparison.Ordinal);
    }

    private static async Task<byte[]?> ReadAllOrNullAsync(HttpResponseMessage response)
    {
        try
        {
            return response.IsSuccessStatusCode ? await response.Content.ReadAsByteArrayAsync() : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    [Fact]
    public async Task UpstreamOutage_ServesLastGoodPagesAndStoredFiles()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream, new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" });
        await proxy.Client.GetStringAsync("dev/simple/six/");
        await proxy.Client.GetByteArrayAsync($"dev/files/six/{Six}");
        await proxy.Client.GetStringAsync("dev/simple/");

        upstream.Down = true;
        using var page = await proxy.Client.GetAsync("dev/simple/six/");
        var file = await proxy.Client.GetByteArrayAsync($"dev/files/six/{Six}");
        using var root = await proxy.Client.GetAsync("dev/simple/");
        using var unseen = await proxy.Client.GetAsync("dev/simple/jmespath/");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains(Six, await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(upstream.File(Six).Content, file);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, unseen.StatusCode);
        Assert.Contains("upstream answered 503", await unseen.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HtmlOnlyMirror_WithRelativeLinks_IsReadAndServed()
    {
        await using var upstream = await StartUpstreamAsync();
        upstream.HtmlOnly = true;
        await using var proxy = await StartProxyAsync(upstream);

        var json = JsonNode.Parse(await (await proxy.Client.SendAsync(Get("dev/simple/zipp/", PipAccept))).Content.ReadAsStringAsync())!;
        var bytes = await proxy.Client.GetByteArrayAsync("dev/files/zipp/zipp-3.7.0-py3-none-any.whl");

        Assert.Equal(2, json["files"]!.AsArray().Count);
        Assert.Equal(upstream.File("zipp-3.7.0-py3-none-any.whl").Content, bytes);
        Assert.Contains("3.7.0", json["versions"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [Theory]
    [InlineData("""{"meta":{"api-version":"1.1"},"name":"evil","files":[{"filename":"../../etc/passwd","url":"https://files.pythonhosted.org/x/../../etc/passwd","hashes":{}}]}""", "unsafe filename")]
    [InlineData("""{"meta":{"api-version":"1.1"},"name":"evil","files":[{"filename":"evil-1.0.tar.gz","url":"https://files""", "JSON")]
    [InlineData("""{"meta":{"api-version":"2.0"},"name":"evil","files":[]}""", "api-version")]
    [InlineData("""[1,2,3]""", "object")]
    public async Task HostileUpstreamPage_IsRefusedWith502AndNothingStored(string page, string reason)
    {
        await using var upstream = await StartUpstreamAsync();
        upstream.Override["/simple/evil/"] = async context =>
        {
            context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
            await context.Response.WriteAsync(page);
        };
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.GetAsync("dev/simple/evil/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains(reason, body, StringComparison.OrdinalIgnoreCase);
        await using var scope = proxy.Services.CreateAsyncScope();
        Assert.False(await scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>().CachedPages.AnyAsync(p => p.Key == "evil"));
        Assert.Equal(HttpStatusCode.OK, (await proxy.Client.GetAsync("dev/simple/six/")).StatusCode);
    }

    [Fact]
    public async Task OversizedUpstreamPage_IsRefused()
    {
        await using var upstream = await StartUpstreamAsync();
        upstream.Override["/simple/huge/"] = async context =>
        {
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync("<html><body>" + new string('x', 64 * 1024) + "</body></html>");
        };
        await using var proxy = await StartProxyAsync(upstream, new Dictionary<string, string> { ["Upstream:MaxPageBytes"] = "16384" });

        using var response = await proxy.Client.GetAsync("dev/simple/huge/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("exceeds 16384 bytes", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamRedirectToAnotherHost_IsRefused()
    {
        await using var upstream = await StartUpstreamAsync();
        upstream.Override["/simple/moved/"] = context =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = "http://127.0.0.2:1/simple/moved/";
            return Task.CompletedTask;
        };
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.GetAsync("dev/simple/moved/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("redirected to another host", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HangingUpstream_TimesOutWith502()
    {
        await using var upstream = await StartUpstreamAsync();
        upstream.Override["/simple/slow/"] = async context => await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
        await using var proxy = await StartProxyAsync(upstream, new Dictionary<string, string> { ["Upstream:Timeout"] = "00:00:01" });

        using var response = await proxy.Client.GetAsync("dev/simple/slow/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("did not answer within 1 s", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FileOnHostNotAllowed_IsNeverFetched()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var elsewhere = await StartUpstreamAsync();
        upstream.Override["/simple/offsite/"] = async context =>
        {
            context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
            await context.Response.WriteAsync($$"""{"meta":{"api-version":"1.1"},"name":"offsite","files":[{"filename":"offsite-1.0.tar.gz","url":"{{elsewhere.BaseUrl}}packages/offsite-1.0.tar.gz","hashes":{"sha256":"{{new string('a', 64)}}"},"size":1}]}""");
        };
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.GetAsync("dev/files/offsite/offsite-1.0.tar.gz");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("not allowed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(elsewhere.Hits);
    }

    [Fact]
    public async Task JsonApi_RewritesFileUrlsAndKeepsSerial()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.GetAsync("dev/pypi/zipp/json");
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        using var missing = await proxy.Client.GetAsync("dev/pypi/does-not-exist/json");

        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(1000, json["last_serial"]!.GetValue<long>());
        // Path-only without Server:PublicUrl: never taken from the request's Host (PublicUrlTests covers the absolute form).
        Assert.Equal("/dev/files/zipp/zipp-3.7.0-py3-none-any.whl", json["urls"]![0]!["url"]!.GetValue<string>());
        Assert.Equal(2, json["releases"]!.AsObject().Count);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Not Found", JsonNode.Parse(await missing.Content.ReadAsStringAsync())!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeadFirstDestination_FailsOverToTheNextMirror()
    {
        await using var upstream = await StartUpstreamAsync();
        var dead = new Uri($"http://127.0.0.1:{UnusedPort()}/");
        await using var proxy = await ProxyInstance.StartAsync(dead, Provider, new Dictionary<string, string>
        {
            ["Upstream:Mirrors:0"] = upstream.BaseUrl.ToString(),
            ["Upstream:FileHosts:0"] = upstream.BaseUrl.Authority,
        });

        using var page = await proxy.Client.GetAsync("dev/simple/six/");
        var file = await proxy.Client.GetByteArrayAsync($"dev/files/six/{Six}");

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal(upstream.File(Six).Content, file);
        Assert.Equal(1, upstream.HitsOn("/simple/six/"));
    }

    private static int UnusedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Healthz_AnswersOk()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);

        using var response = await proxy.Client.GetAsync("healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

public sealed class ProxyIntegrationTestsOnSqlite : ProxyIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ProxyIntegrationTestsOnPostgres : ProxyIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Tests.Features.Review;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Tests.Features;

/// <summary>
/// The one request path of every index endpoint (issue 9, section 3) and the holes it closes (section 4, holes 4, 5, 7, 8):
/// decided before upstream, internal names indistinguishable from unknown ones, private caching behind tokens, security
/// headers on every non-UI answer, the PEP 740 media type, and the upstream's scheme only.
/// </summary>
public sealed class IndexRequestPathTests
{
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";
    private const string Lookalike = "colourama";
    private const string LookalikeFile = "colourama-0.4.6.tar.gz";
    private const string InternalFile = "acme_tools-1.0.tar.gz";
    private const string Provenance = "{\"version\":1,\"attestation_bundles\":[]}";

    private const string Policy = """
        environments:
          strict: { tier: 1, typosquat: block }
          secure: { tier: 1, access: token }
        deny:
          six: known malware
        internal: [acme-, acme_tools]

        """;

    private static async Task<TestServers> StartAsync(IDictionary<string, string>? settings = null)
    {
        var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy, settings);
        servers.Upstream.AddFile(Lookalike, LookalikeFile, Encoding.UTF8.GetBytes("not really an sdist")).Provenance = Provenance;
        servers.Upstream.AddFile("acme-tools", InternalFile, Encoding.UTF8.GetBytes("someone else's acme-tools")).Provenance = Provenance;
        servers.Upstream.File(Six).Provenance = Provenance;
        return servers;
    }

    /// <summary>Every index endpoint for one project and file: page, both JSON API forms, file, .metadata, provenance.</summary>
    private static string[] Endpoints(string env, string project, string version, string filename) =>
    [
        $"{env}/simple/{project}/",
        $"{env}/pypi/{project}/json",
        $"{env}/pypi/{project}/{version}/json",
        $"{env}/files/{project}/{filename}",
        $"{env}/files/{project}/{filename}.metadata",
        $"{env}/integrity/{project}/{version}/{filename}/provenance",
    ];

    [Theory]
    [InlineData("dev", "six", "1.17.0", Six)] // denied by policy
    [InlineData("strict", Lookalike, "0.4.6", LookalikeFile)] // blocked as a typosquat
    public async Task DeniedOrBlockedName_NoEndpointAsksUpstream(string env, string project, string version, string filename)
    {
        await using var servers = await StartAsync();

        foreach (var path in Endpoints(env, project, version, filename))
        {
            servers.Upstream.Hits.Clear();
            using var response = await servers.Proxy.Client.GetAsync(path);

            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
            Assert.True(servers.Upstream.Hits.IsEmpty, $"{path} asked upstream: {string.Join(", ", servers.Upstream.Hits.Keys)}");
        }
    }

    [Fact]
    public async Task InternalName_OnlyTheDependencyConfusionCheckAsksUpstream_OnceForEveryEndpoint()
    {
        await using var servers = await StartAsync();

        foreach (var env in new[] { "dev", "ci", "prod", "strict" })
        {
            foreach (var path in Endpoints(env, "acme-tools", "1.0", InternalFile))
            {
                using var response = await servers.Proxy.Client.GetAsync(path);
                Assert.True(HttpStatusCode.NotFound == response.StatusCode, $"{path}: {(int)response.StatusCode}");
            }
        }

        // The first request's check found the name upstream and raised the alert; nothing else of it was ever asked for.
        Assert.Equal(["/simple/acme-tools/"], servers.Upstream.Hits.Keys);
        Assert.Equal(1, servers.Upstream.HitsOn("/simple/acme-tools/"));
        var incident = Assert.Single(await servers.Proxy.QueryAsync(db => db.Incidents.AsNoTracking().ToListAsync()));
        Assert.Equal((IncidentKind.DependencyConfusion, "acme-tools"), (incident.Kind, incident.Project));
    }

    [Theory]
    [InlineData("dev")]
    [InlineData("ci")]
    [InlineData("prod")]
    [InlineData("strict")]
    public async Task InternalName_AnswersByteForByteAsAnUnknownName_WhetherOrNotUpstreamHasIt(string env)
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;

        // The same version and filename in every path: they are the client's own input, not the project's.
        foreach (var (known, secret, unknown) in Endpoints(env, "acme-tools", "1.0", "x-1.0.tar.gz")
                     .Zip(Endpoints(env, "acme-secret", "1.0", "x-1.0.tar.gz"), Endpoints(env, "no-such-project", "1.0", "x-1.0.tar.gz")))
        {
            var expected = await AnswerAsync(proxy, unknown);
            Assert.StartsWith("404", expected, StringComparison.Ordinal);
            Assert.Equal(expected, await AnswerAsync(proxy, known));
            Assert.Equal(expected, await AnswerAsync(proxy, secret));
        }

        // The alert still fires for the name upstream has, and only for it.
        var incident = Assert.Single(await proxy.QueryAsync(db => db.Incidents.AsNoTracking().ToListAsync()));
        Assert.Equal("acme-tools", incident.Project);
    }

    // Status, headers (but Date) and body, as one string to compare.
    private static async Task<string> AnswerAsync(ProxyInstance proxy, string path)
    {
        using var response = await proxy.Client.GetAsync(path);
        var headers = response.Headers.Concat(response.Content.Headers)
            .Where(h => h.Key != "Date")
            .OrderBy(h => h.Key, StringComparer.Ordinal)
            .Select(h => $"{h.Key}: {string.Join(", ", h.Value)}");
        return $"{(int)response.StatusCode}\n{string.Join("\n", headers)}\n\n{await response.Content.ReadAsStringAsync()}";
    }

    [Fact]
    public async Task ReviewerDenial_IndexClientsReadWhyButNotWho_ExplainStillNamesTheReviewer()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/zipp/deny", new { reason = "abandoned" });

        var (status, page) = await ReviewIntegrationTests.PageAsync(proxy, "dev/simple/zipp/");
        using var html = await proxy.Client.GetAsync("ci/simple/zipp/");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("denied by a reviewer: abandoned", ReviewIntegrationTests.QuarantineReason(page));
        Assert.DoesNotContain("bootstrap-admin", await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=dev&project=zipp");
        Assert.Equal("denied by reviewer bootstrap-admin: abandoned", explain["reason"].Text());
    }

    [Fact]
    public async Task TokenEnvironment_EveryAnswerIsPrivateAndVariesOnAuthorization()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        var token = await proxy.CreateUserWithTokenAsync("ci-bot", "viewer");
        servers.Upstream.File("first-2.0.2-py2.py3-none-any.whl").Provenance = Provenance;

        // zipp: six is denied by policy in every environment.
        foreach (var path in new[] { "secure/simple/", "secure/simple/zipp/", "secure/pypi/zipp/json", "secure/pypi/zipp/3.7.0/json", "secure/files/zipp/zipp-3.7.0-py3-none-any.whl", "secure/integrity/first/2.0.2/first-2.0.2-py2.py3-none-any.whl/provenance", "secure/simple/no-such-project/" })
        {
            foreach (var authorization in new AuthenticationHeaderValue?[] { new("Bearer", token), null })
            {
                // Twice with the token: the second file answer comes from the store, the first streams from upstream.
                for (var i = 0; i < (authorization is null ? 1 : 2); i++)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, path);
                    request.Headers.Authorization = authorization;
                    using var response = await proxy.Client.SendAsync(request);

                    var cacheControl = response.Headers.CacheControl;
                    Assert.True(authorization is null || response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
                    Assert.False(cacheControl?.Public ?? false, $"{path}: Cache-Control {cacheControl}");
                    Assert.True(cacheControl is null || cacheControl.Private, $"{path}: Cache-Control {cacheControl}");
                    Assert.True(response.Headers.Vary.Contains("Authorization"), $"{path} ({(int)response.StatusCode}): Vary {response.Headers.Vary}");
                }
            }
        }

        // An open environment keeps PyPI's public caching.
        using var open = await proxy.Client.GetAsync("dev/simple/zipp/");
        Assert.True(open.Headers.CacheControl!.Public);
        Assert.DoesNotContain("Authorization", open.Headers.Vary);
    }

    [Theory]
    [InlineData("max-age=600, public", "max-age=600, private")]
    [InlineData("max-age=365000000, immutable, public", "max-age=365000000, immutable, private")]
    [InlineData("", "private")]
    [InlineData("Public,max-age=900", "max-age=900, private")]
    public void PrivateCacheControl_TurnsPublicIntoPrivate_KeepingTheRest(string cacheControl, string expected) =>
        Assert.Equal(expected, CuratedIndex.Features.SimpleIndex.IndexRequest.PrivateCacheControl(cacheControl));

    [Fact]
    public async Task Provenance_IsAlwaysThePep740MediaType_WhateverUpstreamSays()
    {
        await using var servers = await StartAsync();
        var upstream = servers.Upstream;
        upstream.Override[$"/integrity/zipp/3.7.0/zipp-3.7.0-py3-none-any.whl/provenance"] = async context =>
        {
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync("<script>alert(1)</script>");
        };
        upstream.File("zipp-3.7.0-py3-none-any.whl").Provenance = Provenance;
        upstream.Override[$"/integrity/zipp/3.6.0/zipp-3.6.0-py3-none-any.whl/provenance"] = async context =>
        {
            context.Response.StatusCode = 500;
            context.Response.ContentType = "text/html";
            await context.Response.WriteAsync("<h1>oops</h1>");
        };
        upstream.File("zipp-3.6.0-py3-none-any.whl").Provenance = Provenance;

        using var response = await servers.Proxy.Client.GetAsync("dev/integrity/zipp/3.7.0/zipp-3.7.0-py3-none-any.whl/provenance");
        using var failed = await servers.Proxy.Client.GetAsync("dev/integrity/zipp/3.6.0/zipp-3.6.0-py3-none-any.whl/provenance");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/vnd.pypi.integrity.v1+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        Assert.Equal(["sandbox"], response.Headers.GetValues("Content-Security-Policy"));
        // Upstream's error page is not passed on: a one-line 502.
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Equal("text/plain", failed.Content.Headers.ContentType!.MediaType);
        Assert.DoesNotContain("oops", await failed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Null(failed.Headers.CacheControl);
    }

    [Fact]
    public async Task EveryNonUiAnswer_CarriesNosniffAndSandbox_TheUiKeepsItsOwnPolicy()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        servers.Upstream.File("zipp-3.7.0-py3-none-any.whl").Provenance = Provenance;

        foreach (var path in new[]
                 {
                     "dev/simple/", "dev/simple/zipp/", "dev/simple/Zipp", "dev/pypi/zipp/json", "dev/pypi/zipp/3.7.0/json",
                     "dev/files/zipp/zipp-3.7.0-py3-none-any.whl", "dev/files/zipp/zipp-3.7.0-py3-none-any.whl.metadata",
                     "dev/integrity/zipp/3.7.0/zipp-3.7.0-py3-none-any.whl/provenance", "dev/simple/no-such-project/",
                     "nowhere/simple/", "healthz", "no/such/path", "api/v1/reviews", "dev/simple/%2e%2e/", "secure/simple/",
                 })
        {
            using var response = await proxy.Client.GetAsync(path);

            Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var nosniff) && nosniff.SequenceEqual(["nosniff"]), $"{path} ({(int)response.StatusCode}): no nosniff");
            Assert.True(response.Headers.TryGetValues("Content-Security-Policy", out var csp) && csp.SequenceEqual(["sandbox"]), $"{path} ({(int)response.StatusCode}): no sandbox");
        }

        using var login = await proxy.Client.GetAsync("ui/login");
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal([CuratedIndex.Features.ReviewUi.UiSecurityHeaders.ContentSecurityPolicy], login.Headers.GetValues("Content-Security-Policy"));
        Assert.Equal(["nosniff"], login.Headers.GetValues("X-Content-Type-Options"));
    }

    [Fact]
    public async Task FileOrProvenanceOnAnotherScheme_OfAnAllowedHost_Is502WithoutConnecting()
    {
        // An allowed host (in Upstream:FileHosts) that would take a connection: a plain listener counting them.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var connections = 0;
        _ = Task.Run(async () =>
        {
            while (true)
            {
                using var client = await listener.AcceptTcpClientAsync();
                Interlocked.Increment(ref connections);
            }
        });

        await using var servers = await StartAsync(new Dictionary<string, string> { ["Upstream:FileHosts:1"] = $"127.0.0.1:{port}" });
        var upstream = servers.Upstream;
        var content = Encoding.UTF8.GetBytes("schemey sdist");
        // Upstream is http://; the page names https:// on an allowed host (the same rule refuses http:// under an https upstream).
        var other = $"https://127.0.0.1:{port}";
        upstream.Override["/simple/schemey/"] = async context =>
        {
            context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
            await context.Response.WriteAsync(new JsonObject
            {
                ["meta"] = new JsonObject { ["api-version"] = "1.1" },
                ["name"] = "schemey",
                ["files"] = new JsonArray(new JsonObject
                {
                    ["filename"] = "schemey-1.0.tar.gz",
                    ["url"] = $"{other}/packages/schemey-1.0.tar.gz",
                    ["hashes"] = new JsonObject { ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(content)) },
                    ["provenance"] = $"{other}/integrity/schemey/1.0/schemey-1.0.tar.gz/provenance",
                }),
            }.ToJsonString());
        };

        using var file = await servers.Proxy.Client.GetAsync("dev/files/schemey/schemey-1.0.tar.gz");
        using var provenance = await servers.Proxy.Client.GetAsync("dev/integrity/schemey/1.0/schemey-1.0.tar.gz/provenance");

        Assert.Equal((HttpStatusCode.BadGateway, HttpStatusCode.BadGateway), (file.StatusCode, provenance.StatusCode));
        var reason = await file.Content.ReadAsStringAsync();
        Assert.Equal(1, reason.Count(c => c == '\n'));
        Assert.Contains("scheme is not the upstream's (https:// where Upstream:Url is http://)", reason, StringComparison.Ordinal);
        Assert.Contains("scheme is not the upstream's", await provenance.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, Volatile.Read(ref connections));
        listener.Stop();
    }

    [Theory]
    [InlineData("https://files.example/packages/a-1.0.tar.gz", true)]
    [InlineData("http://files.example/packages/a-1.0.tar.gz", false)]
    [InlineData("http://pypi.example/packages/a-1.0.tar.gz", false)]
    [InlineData("https://pypi.example/packages/a-1.0.tar.gz", true)]
    [InlineData("https://elsewhere.example/packages/a-1.0.tar.gz", false)]
    public void FileHostGuard_HttpsUpstream_RefusesPlainHttpOnAllowedHosts(string url, bool allowed)
    {
        var guard = new FileHostGuard(Options.Create(new UpstreamOptions { Url = "https://pypi.example/", FileHosts = ["files.example"] }));

        Assert.Equal(allowed, guard.IsAllowed(new Uri(url)));
    }
}

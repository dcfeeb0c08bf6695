using System.Net;
using CuratedIndex.Features.UpstreamWatch;
using CuratedIndex.Tests.Features.Jobs;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 3 and the 404 part of hole 10: files and provenance are decided on a page no older than
/// <c>Upstream:PageMaxAge</c> (an older one only while upstream fails, and never against what the upstream watch
/// recorded), and upstream's 404s are remembered for <c>Upstream:NotFoundMaxAge</c>.
/// </summary>
public sealed class UpstreamFreshnessTests
{
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";
    private const string Jmespath = "jmespath-0.10.0-py2.py3-none-any.whl";

    private static readonly Dictionary<string, string> NoPageCaching = new() { ["Upstream:PageMaxAge"] = "00:00:00" };

    [Fact]
    public async Task FileRemovedFromTheUpstreamPage_IsNoLongerServedOncePageMaxAgePassed()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: NoPageCaching);
        using var stored = await proxy.Client.GetAsync($"dev/files/six/{Six}");

        upstream.RemoveFromPage(Six);
        using var removed = await proxy.Client.GetAsync($"dev/files/six/{Six}");
        using var metadata = await proxy.Client.GetAsync($"dev/files/six/{Six}.metadata");

        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, removed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, metadata.StatusCode);
    }

    [Fact]
    public async Task ProjectQuarantinedUpstream_HidesItsStoredFilesAndProvenanceOncePageMaxAgePassed()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        upstream.File(Jmespath).Provenance = """{"version":1,"attestation_bundles":[]}""";
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: NoPageCaching);
        using var stored = await proxy.Client.GetAsync($"dev/files/jmespath/{Jmespath}");
        using var provenance = await proxy.Client.GetAsync($"dev/integrity/jmespath/0.10.0/{Jmespath}/provenance");

        upstream.ProjectStatus["jmespath"] = "quarantined";
        using var file = await proxy.Client.GetAsync($"dev/files/jmespath/{Jmespath}");
        using var quarantinedProvenance = await proxy.Client.GetAsync($"dev/integrity/jmespath/0.10.0/{Jmespath}/provenance");

        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(HttpStatusCode.OK, provenance.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, quarantinedProvenance.StatusCode);
    }

    [Fact]
    public async Task UpstreamDown_StalePageStillServesStoredFiles()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: NoPageCaching);
        var expected = await proxy.Client.GetByteArrayAsync($"dev/files/six/{Six}");

        upstream.Down = true;
        using var file = await proxy.Client.GetAsync($"dev/files/six/{Six}");

        Assert.Equal(HttpStatusCode.OK, file.StatusCode);
        Assert.Equal(expected, await file.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task UpstreamDown_StalePageDoesNotOverrideWhatAnotherNodesWatchRecorded()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var nodeA = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: NoPageCaching, policyYaml: "approve: [six, jmespath]\n");
        var shared = new Dictionary<string, string>(NoPageCaching) { ["ConnectionStrings:CuratedIndex"] = nodeA.ConnectionString };
        await using var nodeB = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: shared, policyYaml: "approve: [six, jmespath]\n");
        // Node A caches both pages and stores both files.
        using var six = await nodeA.Client.GetAsync($"dev/files/six/{Six}");
        using var jmespath = await nodeA.Client.GetAsync($"dev/files/jmespath/{Jmespath}");

        // Upstream drops six and quarantines jmespath; node B's watch records both, then upstream goes down.
        upstream.Override["/simple/six/"] = context =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        };
        upstream.ProjectStatus["jmespath"] = "quarantined";
        await nodeB.Services.GetRequiredService<UpstreamWatcher>().RunOnceAsync(CancellationToken.None);
        upstream.Override.Clear();
        upstream.Down = true;

        using var goneSix = await nodeA.Client.GetAsync($"dev/files/six/{Six}");
        using var quarantinedJmespath = await nodeA.Client.GetAsync($"dev/files/jmespath/{Jmespath}");

        Assert.Equal(HttpStatusCode.OK, six.StatusCode);
        Assert.Equal(HttpStatusCode.OK, jmespath.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, goneSix.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, quarantinedJmespath.StatusCode);
    }

    [Fact]
    public async Task UpstreamNotFound_IsRememberedForNotFoundMaxAge()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        var clock = new TestClock(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
        await using var proxy = await ProxyInstance.StartAsync(
            upstream.BaseUrl,
            settings: new Dictionary<string, string> { ["Upstream:NotFoundMaxAge"] = "00:01:00" },
            configure: b => b.Services.AddSingleton<TimeProvider>(clock));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var page = await proxy.Client.GetAsync("dev/simple/not-upstream/");
            using var json = await proxy.Client.GetAsync("dev/pypi/not-upstream/json");
            statuses.Add(page.StatusCode);
            statuses.Add(json.StatusCode);
        }

        var pageHitsInWindow = upstream.HitsOn("/simple/not-upstream/");
        var jsonHitsInWindow = upstream.HitsOn("/pypi/not-upstream/json");
        clock.Advance(TimeSpan.FromSeconds(61));
        using var later = await proxy.Client.GetAsync("dev/simple/not-upstream/");

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.NotFound, s));
        Assert.Equal(1, pageHitsInWindow);
        Assert.Equal(1, jsonHitsInWindow);
        Assert.Equal(HttpStatusCode.NotFound, later.StatusCode);
        Assert.Equal(2, upstream.HitsOn("/simple/not-upstream/"));
    }
}

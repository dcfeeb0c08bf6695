using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Releases;
using CuratedIndex.Tests.Features.Review;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>Tier 3 through HTTP: vetting pins files by hash, pages and downloads follow the pins, on SQLite and PostgreSQL.</summary>
public abstract class Tier3IntegrationTests
{
    // zipp is approved with no cooldown, so a reviewer may vet it at once; six keeps prod's 7 days.
    private const string Policy = "approve: [zipp, six]\ncooldown:\n  zipp: 0d\n";

    protected abstract DatabaseProvider Provider { get; }

    // Every page request revalidates upstream (PageMaxAge 0), so a change upstream shows on the next request.
    private Task<TestServers> StartAsync() =>
        TestServers.StartAsync(Provider, Policy, new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" }, inProcess: true);

    [Fact]
    public async Task Prod_ListsOnlyTheVettedRelease_AndServesItsPinnedFile()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;

        var before = await FilesAsync(proxy, "prod/simple/zipp/");
        var vet = await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "read the diff" });
        var after = await FilesAsync(proxy, "prod/simple/zipp/");
        using var download = await proxy.Client.GetAsync("prod/files/zipp/zipp-3.6.0-py3-none-any.whl");
        using var hidden = await proxy.Client.GetAsync("prod/files/zipp/zipp-3.7.0-py3-none-any.whl");

        Assert.Empty(before);
        Assert.Equal("vetted", vet["verdict"].Text());
        Assert.Equal("safe-to-deploy", vet["criteria"].Text());
        Assert.Equal(servers.Upstream.File("zipp-3.6.0-py3-none-any.whl").Sha256, vet["files"]![0]!["sha256"].Text());
        Assert.Equal(["zipp-3.6.0-py3-none-any.whl"], after);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(servers.Upstream.File("zipp-3.6.0-py3-none-any.whl").Content, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        // Tier 2 is unchanged: every release of an approved project.
        Assert.Equal(2, (await FilesAsync(proxy, "ci/simple/zipp/")).Count);
    }

    [Fact]
    public async Task FileAddedUpstreamAfterVetting_IsHiddenUntilVetted()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ok" });

        servers.Upstream.AddFile("zipp", "zipp-3.6.0.tar.gz", Encoding.UTF8.GetBytes("an sdist added later"));
        var files = await FilesAsync(proxy, "prod/simple/zipp/");
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&filename=zipp-3.6.0.tar.gz");
        using var download = await proxy.Client.GetAsync("prod/files/zipp/zipp-3.6.0.tar.gz");

        Assert.Equal(["zipp-3.6.0-py3-none-any.whl"], files);
        Assert.Equal("not-pinned", explain["rule"].Text());
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
    }

    [Fact]
    public async Task UpstreamSwapsAVettedFilesBytes_NeverServedAndAHighSeverityIncident()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ok" });

        // Upstream now lists other bytes (and their digest) under the vetted name.
        servers.Upstream.RemoveFromPage("zipp-3.6.0-py3-none-any.whl");
        var swapped = servers.Upstream.AddFile("zipp", "zipp-3.6.0-py3-none-any.whl", Encoding.UTF8.GetBytes("malicious wheel bytes"));
        var files = await FilesAsync(proxy, "prod/simple/zipp/");
        using var download = await proxy.Client.GetAsync("prod/files/zipp/zipp-3.6.0-py3-none-any.whl");
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&filename=zipp-3.6.0-py3-none-any.whl");
        var incidents = await proxy.QueryAsync(db => db.Incidents.Where(i => i.Kind == IncidentKind.PinMismatch).ToListAsync());

        Assert.Empty(files);
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.DoesNotContain("malicious", await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("pin-mismatch", explain["rule"].Text());
        var incident = Assert.Single(incidents);
        Assert.Equal(IncidentSeverity.High, incident.Severity);
        Assert.Contains(swapped.Sha256, incident.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamChangesAVettedWheelsMetadata_Prod_StopsOfferingIt_AndTheWheelStillInstalls()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        var wheel = servers.Upstream.File("zipp-3.6.0-py3-none-any.whl");
        await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ok" });
        var (_, before) = await ReviewIntegrationTests.PageAsync(proxy, "prod/simple/zipp/");
        using (var metadata = await proxy.Client.GetAsync($"prod/files/zipp/{wheel.Filename}.metadata"))
        {
            Assert.Equal(HttpStatusCode.OK, metadata.StatusCode);
        }

        // Same wheel bytes, other metadata: a new dependency declared without touching the wheel.
        servers.Upstream.RemoveFromPage(wheel.Filename);
        servers.Upstream.AddFile("zipp", wheel.Filename, wheel.Content, metadata: Encoding.UTF8.GetBytes("Metadata-Version: 2.1\nName: zipp\nVersion: 3.6.0\nRequires-Dist: evil-helper\n"));
        var (_, after) = await ReviewIntegrationTests.PageAsync(proxy, "prod/simple/zipp/");
        using var changed = await proxy.Client.GetAsync($"prod/files/zipp/{wheel.Filename}.metadata");
        using var download = await proxy.Client.GetAsync($"prod/files/zipp/{wheel.Filename}");

        Assert.Equal(System.Text.Json.JsonValueKind.Object, before["files"]![0]!["core-metadata"]!.GetValueKind());
        Assert.Equal(System.Text.Json.JsonValueKind.False, after["files"]![0]!["core-metadata"]!.GetValueKind());
        Assert.Equal(HttpStatusCode.NotFound, changed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(wheel.Content, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task VettedFile_KeepsInstallingWhenUpstreamDeletesIt()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ok" });
        var original = servers.Upstream.File("zipp-3.6.0-py3-none-any.whl").Content;
        // The vetting stored the pinned file (durable work); fetching it once makes sure it is in the store for this test.
        using (var first = await proxy.Client.GetAsync("prod/files/zipp/zipp-3.6.0-py3-none-any.whl"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        servers.Upstream.RemoveFromPage("zipp-3.6.0-py3-none-any.whl");
        var files = await FilesAsync(proxy, "prod/simple/zipp/");
        using var download = await proxy.Client.GetAsync("prod/files/zipp/zipp-3.6.0-py3-none-any.whl");

        Assert.Equal(["zipp-3.6.0-py3-none-any.whl"], files);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(original, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Cooldown_RefusesAReviewer_AndAnAdminBreaksGlassWithAReason()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        var reviewer = await proxy.CreateUserWithTokenAsync("rita", "reviewer");

        using var refused = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/six/releases/1.17.0/vet", reviewer, new { reason = "looks fine" });
        using var adminWithoutGlass = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/six/releases/1.17.0/vet", ApiTestKit.BootstrapToken, new { reason = "looks fine" });
        using var reviewerGlass = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/six/releases/1.17.0/vet", reviewer, new { reason = "urgent", breakGlass = true });
        var vetted = await proxy.PostJsonAsync("api/v1/projects/six/releases/1.17.0/vet", new { reason = "CVE fix needed today", breakGlass = true });
        var audit = await proxy.QueryAsync(db => db.AuditRecords.Where(r => r.Subject == "release:six==1.17.0").ToListAsync());

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("inside its cooldown of 7d", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, adminWithoutGlass.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, reviewerGlass.StatusCode);
        Assert.Contains("only an admin may break glass", await reviewerGlass.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(vetted["breakGlass"]!.GetValue<bool>());
        Assert.Contains("break-glass", vetted["summary"].Text(), StringComparison.Ordinal);
        var record = Assert.Single(audit);
        Assert.Equal("release.vet-break-glass", record.Action);
        Assert.Single(await FilesAsync(proxy, "prod/simple/six/"));
    }

    [Fact]
    public async Task Reject_HidesTheRelease_WithTheReasonInExplain()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ok" });
        await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/reject", new { reason = "maintainer account taken over" });

        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&version=3.6.0");
        var list = await proxy.GetJsonAsync("api/v1/releases?status=rejected");

        Assert.Empty(await FilesAsync(proxy, "prod/simple/zipp/"));
        Assert.Equal("rejected", explain["rule"].Text());
        Assert.Contains("maintainer account taken over", explain["reason"].Text(), StringComparison.Ordinal);
        Assert.Equal("3.6.0", Assert.Single(list["items"]!.AsArray())!["version"].Text());
    }

    [Fact]
    public async Task Vet_WithADigestThatDiffersFromUpstream_IsRefusedNamingTheFile()
    {
        await using var servers = await StartAsync();
        var wrong = Convert.ToHexStringLower(SHA256.HashData("other bytes"u8));

        using var response = await servers.Proxy.SendAsync(HttpMethod.Post, "api/v1/projects/zipp/releases/3.6.0/vet", ApiTestKit.BootstrapToken, new
        {
            reason = "from the lock file",
            sha256 = new Dictionary<string, string> { ["zipp-3.6.0-py3-none-any.whl"] = wrong },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"not {wrong}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ReleaseDecisions.CountAsync()));
    }

    [Fact]
    public async Task Criteria_SafeToRunVetting_IsNotEnoughForASafeToDeployEnvironment()
    {
        await using var servers = await StartAsync();
        await servers.Proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ran it in a sandbox", criteria = "safe-to-run" });

        var explain = await servers.Proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&version=3.6.0");

        Assert.False(explain["visible"]!.GetValue<bool>());
        Assert.Contains("requires safe-to-deploy", explain["reason"].Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReleaseDecisions_AreAppendOnly_AndAForgedVettingIsNotFollowed()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ok" });

        var update = await Record.ExceptionAsync(() => proxy.QueryAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE vetted_files SET sha256 = 'x'")));
        var delete = await Record.ExceptionAsync(() => proxy.QueryAsync(db => db.Database.ExecuteSqlRawAsync("DELETE FROM release_decisions")));
        // A vetting written around the application (no audit record) hides the release rather than showing it.
        await proxy.QueryAsync(db => db.Database.ExecuteSqlRawAsync(
            "INSERT INTO release_decisions (project, version, verdict, criteria, how, actor, reason, break_glass, decided_at) VALUES ('zipp', '3.7.0', 'vetted', 'safe-to-deploy', 'reviewer', 'mallory', 'forged', false, '2026-01-01T00:00:00Z')"));
        await proxy.Services.GetRequiredService<CuratedIndex.Features.Decisions.CurationStore>().RefreshAsync(CancellationToken.None);
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&version=3.7.0");

        Assert.NotNull(update);
        Assert.NotNull(delete);
        Assert.False(explain["visible"]!.GetValue<bool>());
        Assert.Contains("no valid audit record", explain["reason"].Text(), StringComparison.Ordinal);
        Assert.Equal(1, await proxy.QueryAsync(db => db.Incidents.CountAsync(i => i.Kind == IncidentKind.UnverifiedDecision)));
    }

    [Fact]
    public async Task JsonApi_Prod_ListsVettedReleasesOnly_WithInfoFromTheNewestVetted()
    {
        await using var servers = await StartAsync();
        await servers.Proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ok" });

        using var response = await servers.Proxy.Client.GetAsync("prod/pypi/zipp/json");
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("3.6.0", document["info"]!["version"].Text());
        Assert.Equal(["3.6.0"], document["releases"]!.AsObject().Select(r => r.Key).ToList());
    }

    [Fact]
    public async Task UnparseableFilename_IsHiddenInTiers2And3()
    {
        await using var servers = await StartAsync();
        // Another project's file listed on zipp's page, and a file with a version that is not PEP 440.
        servers.Upstream.AddFile("zipp", "six-1.17.0-py2.py3-none-any.whl", servers.Upstream.File("six-1.17.0-py2.py3-none-any.whl").Content);
        servers.Upstream.AddFile("zipp", "zipp-3.6.0.pkg", Encoding.UTF8.GetBytes("x"));
        await servers.Proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ok" });

        var ci = await FilesAsync(servers.Proxy, "ci/simple/zipp/");
        var prod = await FilesAsync(servers.Proxy, "prod/simple/zipp/");
        var dev = await FilesAsync(servers.Proxy, "dev/simple/zipp/");
        var explain = await servers.Proxy.GetJsonAsync("api/v1/explain?env=ci&project=zipp&filename=six-1.17.0-py2.py3-none-any.whl");

        Assert.Equal(["zipp-3.6.0-py3-none-any.whl", "zipp-3.7.0-py3-none-any.whl"], ci.Order(StringComparer.Ordinal));
        Assert.Equal(["zipp-3.6.0-py3-none-any.whl"], prod);
        Assert.Equal(4, dev.Count);
        Assert.Equal("unparseable-filename", explain["rule"].Text());
    }

    [Fact]
    public async Task Tier3PageRequest_RecordsFirstSightAndDemandForTheNewestRelease()
    {
        await using var servers = await StartAsync();
        await FilesAsync(servers.Proxy, "prod/simple/zipp/");

        var seen = await servers.Proxy.QueryAsync(db => db.SeenReleases.Where(r => r.Project == "zipp").Select(r => r.Version).ToListAsync());
        var queue = await servers.Proxy.GetJsonAsync("api/v1/releases?status=pending&project=zipp");

        Assert.Equal(["3.6.0", "3.7.0"], seen.Order(StringComparer.Ordinal));
        var first = queue["items"]![0]!;
        Assert.Equal(("3.7.0", 1L), (first["version"].Text(), first["demand"].Number()));
    }

    internal static async Task<List<string>> FilesAsync(ProxyInstance proxy, string path)
    {
        var (status, page) = await ReviewIntegrationTests.PageAsync(proxy, path);
        Assert.Equal(HttpStatusCode.OK, status);
        return page["files"]!.AsArray().Select(f => f!["filename"].Text()).ToList();
    }
}

public sealed class Tier3IntegrationTestsOnSqlite : Tier3IntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class Tier3IntegrationTestsOnPostgres : Tier3IntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>1.0 and 1.0.0 are one release (PEP 440, PyPI): vetting and explain find it whatever the spelling; on SQLite and PostgreSQL.</summary>
public abstract class ReleaseVersionSpellingTests
{
    private const string Zipp36 = "zipp-3.6.0-py3-none-any.whl";

    protected abstract DatabaseProvider Provider { get; }

    private Task<TestServers> StartAsync() =>
        TestServers.StartAsync(Provider, "approve: [zipp]\ncooldown:\n  zipp: 0d\n", inProcess: true);

    [Fact]
    public async Task Vet_WithAShorterSpelling_PinsTheRelease_RecordedAsUpstreamSpellsIt()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;

        var vet = await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6/vet", new { reason = "lock file says ==3.6" });
        var byShort = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&version=3.6");
        var byLong = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&version=3.6.0.0");
        var file = await proxy.GetJsonAsync($"api/v1/explain?env=prod&project=zipp&version=3.6&filename={Zipp36}");
        var stored = await proxy.QueryAsync(db => db.ReleaseDecisions.AsNoTracking().Select(d => d.Version).ToListAsync());

        Assert.Equal(("3.6.0", Zipp36), (vet["version"].Text(), vet["files"]![0]!["filename"].Text()));
        Assert.Equal(["3.6.0"], stored);
        Assert.True(byShort["visible"]!.GetValue<bool>(), byShort["reason"].Text());
        Assert.True(byLong["visible"]!.GetValue<bool>(), byLong["reason"].Text());
        Assert.True(file["visible"]!.GetValue<bool>(), file["reason"].Text());
        Assert.Equal([Zipp36], await Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/zipp/"));
    }

    [Fact]
    public async Task ReleaseFacts_AskedWithAShorterSpelling_AreTheOnesRecordedUnderUpstreamsSpelling()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/zipp/");

        var release = await proxy.GetJsonAsync("api/v1/projects/zipp/releases/3.6");
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=zipp&version=3.6");

        Assert.Equal("3.6.0", release["version"].Text());
        Assert.NotNull(release["firstSeenAt"]);
        Assert.NotNull(explain["release"]!["firstSeenAt"]);
    }

    [Fact]
    public async Task Explain_AFileOfAnotherRelease_IsStillRefused()
    {
        await using var servers = await StartAsync();

        using var response = await servers.Proxy.SendAsync(HttpMethod.Get, $"api/v1/explain?env=prod&project=zipp&version=3.7&filename={Zipp36}", ApiTestKit.BootstrapToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("is a file of version 3.6.0, not 3.7", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

public sealed class ReleaseVersionSpellingTestsOnSqlite : ReleaseVersionSpellingTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ReleaseVersionSpellingTestsOnPostgres : ReleaseVersionSpellingTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

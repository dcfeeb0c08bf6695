using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>A vetting stores its pinned files as durable background work, with no client ever downloading them.</summary>
public sealed class PinnedFilesWorkTests
{
    [Fact]
    public async Task Vetting_StoresThePinnedFiles_SoProdInstallsThemWithUpstreamDown()
    {
        await using var servers = await TestServers.StartAsync(
            DatabaseProvider.Sqlite,
            "approve: [zipp]\ncooldown:\n  zipp: 0d\n",
            ManualJobs.Settings(new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" }),
            inProcess: true);
        var wheel = servers.Upstream.File("zipp-3.6.0-py3-none-any.whl");

        await servers.Proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "ok" });
        var deadline = DateTime.UtcNow.AddSeconds(60);
        var stored = false;
        while (!stored && DateTime.UtcNow < deadline)
        {
            stored = await servers.Proxy.QueryAsync(db => db.StoredArtifacts.AnyAsync(a => a.Filename == wheel.Filename && a.Sha256 == wheel.Sha256));
            if (!stored)
            {
                await Task.Delay(200);
            }
        }

        var downloadsBefore = servers.Upstream.HitsOn($"/packages/{wheel.Filename}");
        servers.Upstream.Down = true;
        var files = await Tier3IntegrationTests.FilesAsync(servers.Proxy, "prod/simple/zipp/");
        using var download = await servers.Proxy.Client.GetAsync($"prod/files/zipp/{wheel.Filename}");

        Assert.True(stored, "the pinned file was not stored by the background work within 60 s");
        Assert.Equal(1, downloadsBefore);
        Assert.Equal([wheel.Filename], files);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(wheel.Content, await download.Content.ReadAsByteArrayAsync());
    }
}

using System.Net;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// A vetted file that upstream then lists without a sha256 (and serves other bytes): tier 3 cannot check the bytes against the
/// pin, so it neither lists nor serves them. On SQLite and PostgreSQL.
/// </summary>
public abstract class PinWithoutUpstreamDigestTests
{
    private const string Zipp36 = "zipp-3.6.0-py3-none-any.whl";

    protected abstract DatabaseProvider Provider { get; }

    [Fact]
    public async Task PinnedFile_ListedUpstreamWithoutADigest_IsNeitherListedNorServed()
    {
        await using var servers = await TestServers.StartAsync(
            Provider, "approve: [zipp]\ncooldown:\n  zipp: 0d\n", new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" }, inProcess: true);
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "read it" });

        // Upstream drops the digest from its listing and serves other bytes under the vetted name.
        upstream.File(Zipp36).ServedContent = "malicious wheel bytes"u8.ToArray();
        upstream.Override["/simple/zipp/"] = async context =>
        {
            context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
            await context.Response.WriteAsync(new JsonObject
            {
                ["meta"] = new JsonObject { ["api-version"] = "1.1" },
                ["name"] = "zipp",
                ["files"] = new JsonArray(new JsonObject
                {
                    ["filename"] = Zipp36,
                    ["url"] = upstream.FileUrl(Zipp36),
                    ["hashes"] = new JsonObject(),
                }),
            }.ToJsonString());
        };
        var files = await Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/zipp/");
        using var download = await proxy.Client.GetAsync($"prod/files/zipp/{Zipp36}");
        var explain = await proxy.GetJsonAsync($"api/v1/explain?env=prod&project=zipp&filename={Zipp36}");

        Assert.Empty(files);
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.DoesNotContain("malicious", await download.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("pin-mismatch", explain["rule"].Text());
        Assert.Contains("without a sha256", explain["reason"].Text(), StringComparison.Ordinal);
        // Tier 2 lists what upstream lists, as before.
        Assert.Equal([Zipp36], await Tier3IntegrationTests.FilesAsync(proxy, "ci/simple/zipp/"));
    }
}

public sealed class PinWithoutUpstreamDigestTestsOnSqlite : PinWithoutUpstreamDigestTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class PinWithoutUpstreamDigestTestsOnPostgres : PinWithoutUpstreamDigestTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.Closure;

/// <summary>
/// Where a closure's dependencies come from, through the API on both databases: PEP 658 metadata, else the verified wheel,
/// else an sdist's static PKG-INFO; never from bytes whose digest differs, never from metadata naming another release.
/// </summary>
public abstract class ReleaseMetadataTests
{
    protected abstract DatabaseProvider Provider { get; }

    [Fact]
    public async Task WheelWithoutPep658Metadata_DependenciesAreReadFromTheVerifiedWheel_OnceByItsSha256()
    {
        await using var servers = await TestServers.StartAsync(Provider, inProcess: true);
        var wheel = servers.Upstream.AddFileWithoutMetadata("orders-app", "orders_app-1.0-py3-none-any.whl", Wheel("orders-app", "1.0", "six>=1.10"));

        var first = await servers.Proxy.GetJsonAsync("api/v1/projects/orders-app/closure?env=ci&version=1.0");
        var again = await servers.Proxy.GetJsonAsync("api/v1/projects/orders-app/closure?env=prod");
        var stored = await servers.Proxy.QueryAsync(db => db.CoreMetadata.SingleAsync(m => m.Sha256 == wheel.Sha256));

        Assert.Equal(["orders-app 1.0", "six 1.17.0"], Members(first));
        Assert.Equal("wheel", first["members"]![0]!["metadata"].Text());
        Assert.Equal("pep658", first["members"]![1]!["metadata"].Text());
        Assert.Equal(["orders-app 1.0", "six 1.17.0"], Members(again));
        Assert.Equal(("wheel", "six>=1.10", (string?)null), (stored.Source, stored.RequiresDist, stored.Problem));
        Assert.Equal(1, servers.Upstream.HitsOn("/packages/orders_app-1.0-py3-none-any.whl"));
    }

    [Fact]
    public async Task Sdists_StaticPkgInfoIsRead_DynamicOrOldIsAProblem_AndApproveWithDependenciesRefuses()
    {
        await using var servers = await TestServers.StartAsync(Provider, inProcess: true);
        servers.Upstream.AddFile("static-lib", "static_lib-2.0.tar.gz", Sdist("static-lib", "2.0", "2.2", "six"));
        servers.Upstream.AddFile("old-lib", "old_lib-1.0.tar.gz", Sdist("old-lib", "1.0", "2.1", "zipp"));
        servers.Upstream.AddFileWithoutMetadata("orders-app", "orders_app-1.0-py3-none-any.whl", Wheel("orders-app", "1.0", "static-lib", "old-lib"));

        var closure = await servers.Proxy.GetJsonAsync("api/v1/projects/orders-app/closure?env=ci");
        using var approve = await servers.Proxy.SendAsync(HttpMethod.Post, "api/v1/projects/orders-app/approve", ApiTestKit.BootstrapToken, new { reason = "orders", dependencies = true, env = "ci" });
        var refusal = JsonNode.Parse(await approve.Content.ReadAsStringAsync())!;

        Assert.Equal(["orders-app 1.0", "old-lib 1.0", "static-lib 2.0", "six 1.17.0"], Members(closure));
        Assert.Equal("sdist", closure["members"]!.AsArray().Single(m => m!["project"].Text() == "static-lib")!["metadata"].Text());
        Assert.False(closure["complete"]!.GetValue<bool>());
        var problem = Assert.Single(closure["problems"]!.AsArray())!;
        Assert.Equal("metadata", problem["kind"].Text());
        Assert.Contains("known only after a build", problem["message"].Text(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, approve.StatusCode);
        Assert.Contains("incomplete", refusal["message"].Text(), StringComparison.Ordinal);
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task MetadataNamingAnotherRelease_IsRefused_NotUsed()
    {
        await using var servers = await TestServers.StartAsync(Provider, inProcess: true);
        servers.Upstream.AddFileWithoutMetadata("orders-app", "orders_app-1.0-py3-none-any.whl", Wheel("orders-app", "1.0", "shady"));
        servers.Upstream.AddFileWithoutMetadata("shady", "shady-1.0-py3-none-any.whl", Wheel("requests", "2.99", "evil-payload"));

        var closure = await servers.Proxy.GetJsonAsync("api/v1/projects/orders-app/closure?env=ci");

        Assert.Equal(["orders-app 1.0", "shady 1.0"], Members(closure));
        var problem = Assert.Single(closure["problems"]!.AsArray())!;
        Assert.Contains("names requests 2.99, not shady 1.0", problem["message"].Text(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BytesWhoseDigestDiffers_AreNeverRead_AndTheClosureIsNotKept()
    {
        await using var servers = await TestServers.StartAsync(Provider, inProcess: true);
        var wheel = servers.Upstream.AddFileWithoutMetadata("orders-app", "orders_app-1.0-py3-none-any.whl", Wheel("orders-app", "1.0", "six"));
        wheel.ServedContent = Wheel("orders-app", "1.0", "evil-payload");

        var closure = await servers.Proxy.GetJsonAsync("api/v1/projects/orders-app/closure?env=ci");

        Assert.Equal(["orders-app 1.0"], Members(closure));
        Assert.Contains("could not be fetched", Assert.Single(closure["problems"]!.AsArray())!["message"].Text(), StringComparison.Ordinal);
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.CoreMetadata.CountAsync()));
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.Closures.CountAsync()));
    }

    private static List<string> Members(JsonNode closure) =>
        closure["members"]!.AsArray().Select(m => $"{m!["project"].Text()} {m["version"].Text()}").ToList();

    /// <summary>A valid wheel whose METADATA names <paramref name="name"/> <paramref name="version"/> with these Requires-Dist lines.</summary>
    internal static byte[] Wheel(string name, string version, params string[] requires)
    {
        var distInfo = $"{name.Replace('-', '_')}-{version}.dist-info";
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, $"{name.Replace('-', '_')}/__init__.py", "");
            Add(zip, $"{distInfo}/METADATA", Metadata("2.1", name, version, requires));
            Add(zip, $"{distInfo}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
            Add(zip, $"{distInfo}/RECORD", "");
        }

        return buffer.ToArray();
    }

    private static byte[] Sdist(string name, string version, string metadataVersion, params string[] requires)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            var root = $"{name.Replace('-', '_')}-{version}";
            foreach (var (path, text) in new[] { ($"{root}/setup.py", "from setuptools import setup\nsetup()\n"), ($"{root}/PKG-INFO", Metadata(metadataVersion, name, version, requires)) })
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
                tar.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    private static string Metadata(string metadataVersion, string name, string version, string[] requires) =>
        $"Metadata-Version: {metadataVersion}\nName: {name}\nVersion: {version}\n{string.Concat(requires.Select(r => $"Requires-Dist: {r}\n"))}\nA description.\n";

    private static void Add(ZipArchive zip, string path, string text)
    {
        using var stream = zip.CreateEntry(path).Open();
        stream.Write(Encoding.UTF8.GetBytes(text));
    }
}

public sealed class ReleaseMetadataTestsOnSqlite : ReleaseMetadataTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ReleaseMetadataTestsOnPostgres : ReleaseMetadataTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

using System.Net;
using System.Security.Cryptography;
using CuratedIndex.Data;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Features.Audit;
using CuratedIndex.Tests.Hosting;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CuratedIndex.Tests.ScaleOut;

/// <summary>What a node does when what it depends on fails under it: the database, and its own process (SIGKILL).</summary>
public sealed class FaultTests
{
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";

    [Fact]
    public async Task DatabaseDown_CachedReadsKeepServing_WritesAnswer503_AndTheNodeRecoversWithoutRestart()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        var cluster = await ProxyInstance.StartAsync(upstream.BaseUrl, DatabaseProvider.Postgres, ApiTestKit.Settings());
        try
        {
            // The node under test reaches the same database through a relay that can be cut.
            var database = new NpgsqlConnectionStringBuilder(cluster.ConnectionString);
            await using var relay = new TcpRelay(new IPEndPoint(IPAddress.Loopback, database.Port));
            database.Port = relay.Port;
            await using var node = await ProxyInstance.StartNodeAsync(cluster, upstream.BaseUrl, ApiTestKit.Settings(new Dictionary<string, string>
            {
                ["ConnectionStrings:CuratedIndex"] = database.ConnectionString,
            }));
            var page = await node.Client.GetStringAsync("dev/simple/six/");
            var file = await node.Client.GetByteArrayAsync($"dev/files/six/{Six}");

            relay.Cut();

            // Reads of what the node holds: the page from its cache, the file from the store.
            Assert.Equal(page, await node.Client.GetStringAsync("dev/simple/six/"));
            Assert.Equal(file, await node.Client.GetByteArrayAsync($"dev/files/six/{Six}"));
            // A decision: refused with the reason, nothing half-done.
            using (var refused = await node.SendAsync(HttpMethod.Post, "api/v1/projects/six/approve", ApiTestKit.BootstrapToken, new { reason = "while the database is down" }))
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
                Assert.Equal("10", refused.Headers.RetryAfter!.ToString());
                Assert.Equal("{\"message\":\"the database is unavailable; nothing was changed, try again shortly\"}", await refused.Content.ReadAsStringAsync());
            }

            // A sign-in (the UI): the same answer as plain text.
            using (var session = new UiSession(node))
            {
                using var signIn = await session.SignInAsync("rita");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, signIn.StatusCode);
                Assert.Equal("the database is unavailable; nothing was changed, try again shortly\n", await signIn.Content.ReadAsStringAsync());
            }

            relay.Restore();

            // Back without a restart: the first attempts may still meet a connection the cut broke.
            HttpStatusCode status = HttpStatusCode.ServiceUnavailable;
            for (var attempt = 0; attempt < 40 && status != HttpStatusCode.OK; attempt++)
            {
                using var approve = await node.SendAsync(HttpMethod.Post, "api/v1/projects/six/approve", ApiTestKit.BootstrapToken, new { reason = "the database is back" });
                status = approve.StatusCode;
                if (status != HttpStatusCode.OK)
                {
                    await Task.Delay(250);
                }
            }

            Assert.Equal(HttpStatusCode.OK, status);
            var decisions = await cluster.QueryAsync(db => db.ProjectDecisions.AsNoTracking().Where(d => d.Project == "six").ToListAsync());
            Assert.Equal("the database is back", Assert.Single(decisions).Reason);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task NodeKilledDuringDecisions_LeavesNoDecisionWithoutItsAuditRecord_AndTheChainVerifies()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        var database = await ProxyInstance.CreatePostgresDatabaseAsync();
        var connection = ProxyInstance.PostgresConnection(database);
        try
        {
            await using (var node = await NodeProcess.StartAsync(upstream.BaseUrl, connection))
            {
                // Decisions in flight on several connections when the node dies.
                using var stop = new CancellationTokenSource();
                var deciding = Enumerable.Range(0, 8).Select(async client =>
                {
                    for (var i = 0; !stop.IsCancellationRequested; i++)
                    {
                        try
                        {
                            using var response = await node.Client.SendAsync(ApiTestKit.Request(HttpMethod.Post, $"api/v1/projects/project-{client}-{i}/approve", ApiTestKit.BootstrapToken, new { reason = $"decision {i}" }));
                        }
                        catch (HttpRequestException)
                        {
                            return; // the node is gone
                        }
                    }
                }).ToList();
                await WaitForDecisionsAsync(connection, 20);
                node.Kill();
                stop.Cancel();
                await Task.WhenAll(deciding);
            }

            await using var db = NodeProcess.Database(connection);
            var decisions = await db.ProjectDecisions.AsNoTracking().ToListAsync();
            var records = (await db.AuditRecords.AsNoTracking().Select(r => r.Id).ToListAsync()).ToHashSet();
            Assert.True(decisions.Count >= 20);
            Assert.All(decisions, d => Assert.True(d.AuditRecordId is { } id && records.Contains(id), $"decision on {d.Project} has no audit record"));

            var verify = await ExternalProcess.RunAsync(
                ExecutableTests.Executable(),
                ["audit", "verify", "--full", "--Database:Provider=Postgres", $"--ConnectionStrings:CuratedIndex={connection}", "--Logging:LogLevel:Default=Warning"],
                AuditIntegrationTests.RepositoryRoot(),
                new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null },
                TimeSpan.FromSeconds(60));
            Assert.True(verify.ExitCode == 0, verify.Describe());
        }
        finally
        {
            await ProxyInstance.DropPostgresDatabaseAsync(database);
        }
    }

    [Theory]
    [InlineData("FileSystem")]
    [InlineData("S3")]
    public async Task NodeKilledDuringADownload_StoresNothingPartial_AndTheOtherNodeServesTheWholeFile(string storage)
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        var content = new byte[1024 * 1024];
        new Random(9).NextBytes(content);
        var file = upstream.AddFileWithoutMetadata("bigpkg", "bigpkg-1.0.tar.gz", content);
        var database = await ProxyInstance.CreatePostgresDatabaseAsync();
        var connection = ProxyInstance.PostgresConnection(database);
        var artifacts = Directory.CreateTempSubdirectory("curated-index-shared-artifacts-").FullName;
        var bucket = storage == "S3" ? await S3TestServer.CreateBucketAsync() : null;
        try
        {
            var shared = bucket is null ? new Dictionary<string, string> { ["Storage:Path"] = artifacts } : S3TestServer.Settings(bucket);
            await using var survivor = await NodeProcess.StartAsync(upstream.BaseUrl, connection, shared);
            await using (var victim = await NodeProcess.StartAsync(upstream.BaseUrl, connection, shared))
            {
                upstream.FileChunkDelay = TimeSpan.FromMilliseconds(50); // 64 chunks: a few seconds of download
                using var reading = await victim.Client.GetAsync($"dev/files/bigpkg/{file.Filename}", HttpCompletionOption.ResponseHeadersRead);
                while (upstream.HitsOn($"/packages/{file.Filename}") == 0)
                {
                    await Task.Delay(20);
                }

                await Task.Delay(500);
                victim.Kill();
            }

            // Nothing under its key: at most a leftover ".partial" or spool file beside it, which nothing serves.
            var stored = bucket is null ? Directory.GetFiles(artifacts, "bigpkg*", SearchOption.AllDirectories).ToList() : await S3TestServer.KeysAsync(bucket);
            Assert.DoesNotContain(stored, f => f.Contains("bigpkg", StringComparison.Ordinal) && !f.EndsWith(".partial", StringComparison.Ordinal));
            upstream.FileChunkDelay = TimeSpan.Zero;
            var served = await survivor.Client.GetByteArrayAsync($"dev/files/bigpkg/{file.Filename}");
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(served)));
        }
        finally
        {
            await ProxyInstance.DropPostgresDatabaseAsync(database);
            Directory.Delete(artifacts, recursive: true);
        }
    }

    [Theory]
    [InlineData("503")]
    [InlineData("reset")]
    [InlineData("truncated")]
    [InlineData("stalled")]
    [InlineData("wrong-bytes")]
    public async Task UpstreamFault_OnAFileMiss_StoresNothing_WhileCachedContentKeepsServing(string fault)
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        var content = new byte[256 * 1024];
        new Random(3).NextBytes(content);
        var file = upstream.AddFileWithoutMetadata("faulty", "faulty-1.0.tar.gz", content);
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: new Dictionary<string, string> { ["Upstream:FileActivityTimeout"] = "00:00:01" });
        var cached = await proxy.Client.GetByteArrayAsync($"dev/files/six/{Six}");
        var page = await proxy.Client.GetStringAsync("dev/simple/faulty/");

        upstream.Override[$"/packages/{file.Filename}"] = async context =>
        {
            if (fault == "503")
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }

            context.Response.ContentLength = content.Length;
            var body = fault == "wrong-bytes" ? content.Select(b => (byte)~b).ToArray() : content;
            await context.Response.Body.WriteAsync(body.AsMemory(0, fault == "wrong-bytes" ? body.Length : body.Length / 2));
            await context.Response.Body.FlushAsync();
            switch (fault)
            {
                case "reset":
                    context.Abort();
                    break;
                case "stalled":
                    await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted).ContinueWith(_ => { });
                    break;
            }

            // "truncated": the answer ends short of its Content-Length.
        };

        byte[]? received = null;
        try
        {
            using var response = await proxy.Client.GetAsync($"dev/files/faulty/{file.Filename}");
            received = response.IsSuccessStatusCode ? await response.Content.ReadAsByteArrayAsync() : null;
        }
        catch (HttpRequestException)
        {
            // The answer was under way when upstream failed: aborted, never completed short.
        }

        Assert.Null(received);
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(proxy.Root, "data", "artifacts"), "faulty*", SearchOption.AllDirectories), _ => true);
        Assert.Equal(0, await proxy.QueryAsync(db => db.StoredArtifacts.CountAsync(a => a.Filename == file.Filename)));
        // What was cached before keeps serving: the stored file and the project page.
        Assert.Equal(cached, await proxy.Client.GetByteArrayAsync($"dev/files/six/{Six}"));
        Assert.Equal(page, await proxy.Client.GetStringAsync("dev/simple/faulty/"));
    }

    private static async Task WaitForDecisionsAsync(string connection, int count)
    {
        await using var db = NodeProcess.Database(connection);
        for (var attempt = 0; attempt < 400; attempt++)
        {
            if (await db.ProjectDecisions.CountAsync() >= count)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"fewer than {count} decisions after 20 s");
    }
}

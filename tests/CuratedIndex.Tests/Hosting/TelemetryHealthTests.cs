using System.Net;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace CuratedIndex.Tests.Hosting;

/// <summary>
/// <c>/healthz</c> (liveness) and <c>/readyz</c> (the database and the artifact store answer; upstream is reported, never
/// required) on a real proxy over HTTP, with real failures: a database that is gone, a store path that is not a directory.
/// </summary>
public abstract class TelemetryHealthTests
{
    protected abstract DatabaseProvider Provider { get; }

    [Fact]
    public async Task Readyz_DatabaseAndStoreAnswer_200WithEachCheckOk_AndNoHostOrPathInTheBody()
    {
        await using var servers = await TestServers.StartAsync(Provider);

        var (status, body, text) = await ReadyzAsync(servers.Proxy);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", body["status"]!.GetValue<string>());
        Assert.Equal("ok", body["checks"]!["database"]!["status"]!.GetValue<string>());
        Assert.Equal("ok", body["checks"]!["store"]!["status"]!.GetValue<string>());
        Assert.Equal(("unknown", "no upstream request yet"), (body["checks"]!["upstream"]!["status"]!.GetValue<string>(), body["checks"]!["upstream"]!["reason"]!.GetValue<string>()));
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);
        Assert.DoesNotContain(servers.Proxy.Root, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_DatabaseGone_503NamingTheDatabase_HealthzStill200()
    {
        await using var servers = await TestServers.StartAsync(Provider);
        var proxy = servers.Proxy;
        Assert.Equal(HttpStatusCode.OK, (await ReadyzAsync(proxy)).Status);

        if (Provider == DatabaseProvider.Postgres)
        {
            // The database is dropped under the running node (its connections are closed by FORCE).
            var database = new NpgsqlConnectionStringBuilder(proxy.ConnectionString).Database;
            await using var admin = new NpgsqlConnection(ProxyInstance.PostgresAdminConnection());
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE {database} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
        else
        {
            // The database file is lost: the next connection finds an empty database without our tables.
            SqliteConnection.ClearAllPools();
            var file = new SqliteConnectionStringBuilder(proxy.ConnectionString).DataSource;
            foreach (var path in new[] { file, file + "-wal", file + "-shm" })
            {
                File.Delete(path);
            }
        }

        var (status, body, text) = await WaitForAsync(proxy, HttpStatusCode.ServiceUnavailable);

        Assert.Equal("not ready", body["status"]!.GetValue<string>());
        Assert.Equal("failed", body["checks"]!["database"]!["status"]!.GetValue<string>());
        Assert.StartsWith("the query failed (", body["checks"]!["database"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("ok", body["checks"]!["store"]!["status"]!.GetValue<string>());
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);
        Assert.DoesNotContain("ci_test_", text, StringComparison.Ordinal);
        using var healthz = await proxy.Client.GetAsync("healthz");
        Assert.Equal((HttpStatusCode.OK, "ok\n"), (healthz.StatusCode, await healthz.Content.ReadAsStringAsync()));
    }

    [Theory]
    [InlineData("file", "Storage:Path is a file, not a directory")]
    // Every lookup under it fails in the OS (ELOOP), as lookups on a stale network mount fail (EIO): the lookup throws.
    [InlineData("symlink-loop", "a lookup failed (IOException)")]
    public async Task Readyz_StoreUnusable_503NamingTheStore_WithAOneLineReason(string kind, string reason)
    {
        var scratch = Directory.CreateTempSubdirectory("curated-index-store-").FullName;
        try
        {
            var storePath = Path.Combine(scratch, "artifacts");
            if (kind == "file")
            {
                await File.WriteAllTextAsync(storePath, "not a directory");
            }
            else
            {
                File.CreateSymbolicLink(storePath, Path.Combine(scratch, "other"));
                File.CreateSymbolicLink(Path.Combine(scratch, "other"), storePath);
            }

            await using var servers = await TestServers.StartAsync(Provider, settings: new Dictionary<string, string> { ["Storage:Path"] = storePath });

            var (status, body, text) = await ReadyzAsync(servers.Proxy);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("not ready", body["status"]!.GetValue<string>());
            Assert.Equal(("failed", reason), (body["checks"]!["store"]!["status"]!.GetValue<string>(), body["checks"]!["store"]!["reason"]!.GetValue<string>()));
            Assert.Equal("ok", body["checks"]!["database"]!["status"]!.GetValue<string>());
            Assert.DoesNotContain(scratch, text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    [Fact]
    public async Task Readyz_UpstreamDown_StillReady_WithUpstreamReportedFailed_CachedPageServes()
    {
        await using var servers = await TestServers.StartAsync(Provider, settings: new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" });
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        Assert.Equal(HttpStatusCode.OK, (await proxy.Client.GetAsync("dev/simple/six/")).StatusCode);
        var up = await WaitForAsync(proxy, HttpStatusCode.OK, body => body["checks"]!["upstream"]!["status"]!.GetValue<string>() == "ok");

        upstream.Down = true;
        using var stale = await proxy.Client.GetAsync("dev/simple/six/");
        var (status, body, _) = await WaitForAsync(proxy, HttpStatusCode.OK, b => b["checks"]!["upstream"]!["status"]!.GetValue<string>() == "failed");

        Assert.StartsWith("the last upstream request (", up.Body["checks"]!["upstream"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal((HttpStatusCode.OK, "ready"), (status, body["status"]!.GetValue<string>()));
        Assert.EndsWith("failed (5xx); cached content still serves", body["checks"]!["upstream"]!["reason"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_ManyConcurrentProbes_ShareChecks_AtMostOnePerSecond()
    {
        await using var servers = await TestServers.StartAsync(Provider);
        var started = DateTime.UtcNow;

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => ReadyzAsync(servers.Proxy)));
        var elapsed = DateTime.UtcNow - started;

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        // Each distinct "checked" time is one round of database and store lookups; a result is kept for a second.
        var checks = answers.Select(a => a.Body["checked"]!.GetValue<DateTimeOffset>()).Distinct().Count();
        Assert.True(checks <= 1 + (int)Math.Ceiling(elapsed.TotalSeconds), $"{checks} checks for 200 probes in {elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task HealthzAndReadyz_AnswerWithoutCredentials_InATokenOnlyIndex_WhileTheApiStillRequiresThem()
    {
        await using var servers = await TestServers.StartAsync(Provider, "environments:\n  secure: { tier: 1, access: token }\n");
        var client = servers.Proxy.Client;

        using var healthz = await client.GetAsync("healthz");
        using var readyz = await client.GetAsync("readyz");
        using var api = await client.GetAsync("api/v1/reviews");
        using var index = await client.GetAsync("secure/simple/six/");

        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal(HttpStatusCode.OK, readyz.StatusCode);
        Assert.Equal("application/json", readyz.Content.Headers.ContentType!.MediaType);
        Assert.Equal("no-store", readyz.Headers.CacheControl!.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, index.StatusCode);
    }

    private static async Task<(HttpStatusCode Status, JsonNode Body, string Text)> ReadyzAsync(ProxyInstance proxy)
    {
        using var response = await proxy.Client.GetAsync("readyz");
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text)!, text);
    }

    // A result is kept for a second: a change shows on a later probe.
    private static async Task<(HttpStatusCode Status, JsonNode Body, string Text)> WaitForAsync(ProxyInstance proxy, HttpStatusCode status, Func<JsonNode, bool>? condition = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var answer = await ReadyzAsync(proxy);
            if ((answer.Status == status && (condition is null || condition(answer.Body))) || DateTime.UtcNow > deadline)
            {
                Assert.True(answer.Status == status, answer.Text);
                return answer;
            }

            await Task.Delay(200);
        }
    }
}

public sealed class TelemetryHealthTestsOnSqlite : TelemetryHealthTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class TelemetryHealthTestsOnPostgres : TelemetryHealthTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

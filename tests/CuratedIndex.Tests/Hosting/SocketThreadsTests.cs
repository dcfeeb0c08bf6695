using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using CuratedIndex.Hosting;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace CuratedIndex.Tests.Hosting;

/// <summary>
/// Its executable test gives a socket thread five seconds to answer: it runs after the parallel collections, alone, so a
/// machine busy with other tests' processes cannot be what it measures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SocketThreadsCollection
{
    public const string Name = "socket threads";
}

/// <summary>Index reads on the socket threads (Server:InlineScheduling), and nothing slow there.</summary>
[Collection(SocketThreadsCollection.Name)]
public sealed class SocketThreadsTests
{
    [Theory]
    [InlineData("GET", "/dev/simple/", true)]
    [InlineData("GET", "/dev/simple", true)]
    [InlineData("HEAD", "/dev/simple/six/", true)]
    [InlineData("GET", "/dev/SIMPLE/six/", true)]
    [InlineData("GET", "/prod/files/six/six-1.17.0-py2.py3-none-any.whl", true)]
    [InlineData("GET", "/dev/pypi/six/json", true)]
    [InlineData("POST", "/dev/simple/six/", false)]
    [InlineData("GET", "/api/v1/review/queue", false)]
    [InlineData("GET", "/ui/projects", false)]
    [InlineData("GET", "/healthz", false)]
    [InlineData("GET", "/dev/integrity/six/1.17.0/six-1.17.0-py2.py3-none-any.whl/provenance", false)]
    [InlineData("GET", "//simple/six/", false)]
    [InlineData("GET", "/simple/", false)]
    [InlineData("GET", "/dev/simplex/", false)]
    [InlineData("GET", "", false)]
    public void IsIndexRead_OnlyGetAndHeadOfTheIndexRoutes(string method, string path, bool expected) =>
        Assert.Equal(expected, SocketThreads.IsIndexRead(method, path));

    /// <summary>
    /// The serve command as shipped (inline scheduling on by default), an environment with <c>access: token</c>. A request
    /// that waits for the database (a token not yet cached: found, its last use then written, while another connection
    /// holds SQLite's write lock) must not hold up cached index reads (with the bootstrap token, checked without the
    /// database) on new connections. The server gets one socket thread (DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=1), so every
    /// connection shares the thread the waiting request arrived on: were it blocked there, every read would wait as long as
    /// the lock. Each read gets 5 seconds; the lock is held until they are done.
    /// </summary>
    [Fact]
    public async Task Executable_RequestWaitingForTheDatabase_DoesNotHoldUpCachedIndexReads()
    {
        var root = Directory.CreateTempSubdirectory("curated-index-inline-").FullName;
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        try
        {
            var policies = Directory.CreateDirectory(Path.Combine(root, "policies")).FullName;
            await File.WriteAllTextAsync(Path.Combine(policies, "environments.yaml"), "environments:\n  dev: { tier: 1, access: token }\n");
            var port = ExecutableTests.FreePort();
            var admin = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
            await using var server = ExternalProcess.Start(
                ExecutableTests.Executable(),
                [$"--contentRoot={root}", $"--Urls=http://127.0.0.1:{port}", "--Jobs:Enabled=false", $"--Upstream:Url={upstream.BaseUrl}", $"--Auth:BootstrapAdminToken={admin}"],
                root,
                new Dictionary<string, string?>
                {
                    ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null, [SocketThreads.InlineCompletionsVariable] = null,
                    ["DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT"] = "1",
                });
            var page = new Uri($"http://127.0.0.1:{port}/dev/simple/six/");
            await server.WaitUntilAnswersAsync(new Uri($"http://127.0.0.1:{port}/healthz"));
            Assert.Contains("Index reads run on the socket threads (Server:InlineScheduling, DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1)", server.OutputSoFar);
            // Every connection is opened and used once first: a request that arrives on a connection waiting for its next
            // request is read by the socket thread (a connection's very first request may start on the thread pool).
            var readers = Enumerable.Range(0, 6).Select(_ => Reader(admin, TimeSpan.FromSeconds(60))).ToList();
            using var waiting = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
            try
            {
                foreach (var reader in readers)
                {
                    Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(page)).StatusCode);
                }

                using (var first = new HttpRequestMessage(HttpMethod.Get, page))
                {
                    first.Headers.Authorization = new AuthenticationHeaderValue("Bearer", admin);
                    Assert.Equal(HttpStatusCode.OK, (await waiting.SendAsync(first)).StatusCode);
                }

                await using var holder = new SqliteConnection($"Data Source={Path.Combine(root, "data", "curated-index.db")};Pooling=false");
                await holder.OpenAsync();
                var token = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
                await using (var insert = holder.CreateCommand())
                {
                    insert.CommandText = """
                        INSERT INTO users (user_name, password_hash, role, disabled, created_at, security_stamp) VALUES ('reader', 'none', 'viewer', 0, '2026-01-01 00:00:00', 'stamp');
                        INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (last_insert_rowid(), 'ci', $hash, 'ci', '2026-01-01 00:00:00');
                        BEGIN EXCLUSIVE;
                        """;
                    insert.Parameters.AddWithValue("$hash", CuratedIndex.Features.Accounts.TokenAuthenticator.HashOf(token));
                    await insert.ExecuteNonQueryAsync();
                }

                using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, page);
                tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                var blocked = waiting.SendAsync(tokenRequest);
                await Task.Delay(TimeSpan.FromSeconds(1));
                Assert.False(blocked.IsCompleted, "the token lookup should be waiting for the database lock");

                for (var connection = 0; connection < readers.Count; connection++)
                {
                    using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        var response = await readers[connection].GetAsync(page, limit.Token);
                        Assert.True(response.StatusCode == HttpStatusCode.OK, $"read {connection}: {response.StatusCode} after {clock.Elapsed.TotalSeconds:F1}s");
                    }
                    catch (OperationCanceledException)
                    {
                        Assert.Fail($"read {connection} did not answer within 5 s while a request waited for the database\n{server.CommandLine}");
                    }
                }

                Assert.False(blocked.IsCompleted, "the lock held the token lookup all along");
                await using (var rollback = holder.CreateCommand())
                {
                    rollback.CommandText = "ROLLBACK;";
                    await rollback.ExecuteNonQueryAsync();
                }

                Assert.Equal(HttpStatusCode.OK, (await blocked).StatusCode);
            }
            finally
            {
                readers.ForEach(r => r.Dispose());
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static HttpClient Reader(string token, TimeSpan timeout)
    {
        var client = new HttpClient { Timeout = timeout };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}

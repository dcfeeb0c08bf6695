using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Review;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Review;

/// <summary>Tier 2 over HTTP: demand from index requests, and reviewer decisions through the API; on SQLite and PostgreSQL.</summary>
public abstract class ReviewIntegrationTests
{
    public const string PipAccept = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";

    protected abstract DatabaseProvider Provider { get; }

    private Task<TestServers> StartAsync(string? policy = null) => TestServers.StartAsync(Provider, policy, inProcess: true);

    private static int _clients;

    /// <summary>
    /// One request as pip sends it, each from its own client (a distinct X-Forwarded-For from loopback, which is trusted by
    /// default): demand counts a caller once per window, and these tests count requests as distinct callers.
    /// </summary>
    internal static async Task<(HttpStatusCode Status, JsonNode Page)> PageAsync(ProxyInstance proxy, string path, string? basicToken = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", PipAccept);
        var client = Interlocked.Increment(ref _clients);
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", $"10.{client >> 16 & 255}.{client >> 8 & 255}.{client & 255}");
        if (basicToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"__token__:{basicToken}")));
        }

        using var response = await proxy.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.IsSuccessStatusCode ? JsonNode.Parse(body)! : new JsonObject { ["body"] = body });
    }

    internal static string? QuarantineReason(JsonNode page) =>
        page["project-status"]?["status"]?.GetValue<string>() == "quarantined" ? page["project-status"]!["reason"]!.GetValue<string>() : null;

    private static async Task<List<ReviewRequest>> RequestsAsync(ProxyInstance proxy) =>
        await proxy.QueryAsync(db => db.ReviewRequests.AsNoTracking().Include(r => r.Requesters).OrderBy(r => r.Project).ToListAsync());

    [Fact]
    public async Task UnapprovedProject_InTier2_Answers200QuarantinedNamingOneReviewRequest()
    {
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);

        var (status, page) = await PageAsync(proxy, "ci/simple/six/");
        var (_, again) = await PageAsync(proxy, "ci/simple/six/");
        using var html = await proxy.Client.GetAsync("ci/simple/six/");

        var request = Assert.Single(await RequestsAsync(proxy));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(page["files"]!.AsArray());
        Assert.Equal($"'six' is not approved for environment 'ci' (tier 2); review request #{request.Id}", QuarantineReason(page));
        Assert.Equal(QuarantineReason(page), QuarantineReason(again));
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.Contains($"review request #{request.Id}", await html.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(("six", VerdictText.Pending, 3L), (request.Project, request.Status, request.RequestCount));
        var requester = Assert.Single(request.Requesters);
        Assert.Equal(("ci", "anonymous", 3L), (requester.Environment, requester.Requester, requester.RequestCount));
        Assert.Equal(HttpStatusCode.NotFound, (await proxy.Client.GetAsync($"ci/files/six/{Six}")).StatusCode);
    }

    [Fact]
    public async Task UnapprovedProject_ConcurrentRequests_AreEachCounted()
    {
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ => (await PageAsync(proxy, "ci/simple/zipp/")).Status));
        await proxy.Services.GetRequiredService<RequestCounter>().FlushAsync(CancellationToken.None);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        var request = Assert.Single(await RequestsAsync(proxy));
        Assert.Equal(20, request.RequestCount);
        Assert.Equal(20, Assert.Single(request.Requesters).RequestCount);
        var blocked = await proxy.QueryAsync(db => db.DailyRequestCounts.Where(c => c.Environment == "ci" && c.Outcome == RequestOutcome.Blocked).SumAsync(c => c.Count));
        Assert.Equal(20, blocked);
    }

    [Fact]
    public async Task ProjectNotUpstream_Answers404AndCreatesNoReviewRequest()
    {
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);

        using var response = await proxy.Client.GetAsync("ci/simple/does-not-exist/");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Empty(await RequestsAsync(proxy));
    }

    [Fact]
    public async Task DeniedProject_NeverCreatesAReviewRequest()
    {
        await using var servers = await StartAsync("deny:\n  six: known malware\n");
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await proxy.PostJsonAsync("api/v1/projects/zipp/deny", new { reason = "abandoned" });

        var (sixStatus, six) = await PageAsync(proxy, "ci/simple/six/");
        var (zippStatus, zipp) = await PageAsync(proxy, "ci/simple/zipp/");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (sixStatus, zippStatus));
        Assert.Equal("denied by policy: known malware", QuarantineReason(six));
        Assert.Equal("denied by a reviewer: abandoned", QuarantineReason(zipp));
        var requests = await RequestsAsync(proxy);
        // The reviewer's decision made zipp's entry (status denied); requests for it add no demand.
        var entry = Assert.Single(requests);
        Assert.Equal(("zipp", VerdictText.Denied, 0L), (entry.Project, entry.Status, entry.RequestCount));
    }

    [Fact]
    public async Task TokenProtectedEnvironment_RecordsTheTokensUserAsRequester()
    {
        await using var servers = await StartAsync("environments:\n  secure: { tier: 2, access: token }\n");
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var token = await proxy.CreateUserWithTokenAsync("alice", "viewer");

        var (status, page) = await PageAsync(proxy, "secure/simple/six/", token);
        await PageAsync(proxy, "ci/simple/six/");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("review request #", QuarantineReason(page), StringComparison.Ordinal);
        var request = Assert.Single(await RequestsAsync(proxy));
        Assert.Equal(2, request.RequestCount);
        Assert.Equal(
            [("ci", "anonymous"), ("secure", "alice")],
            request.Requesters.Select(r => (r.Environment, r.Requester)).Order().ToArray());
    }

    [Fact]
    public async Task Approve_ServesFilesInTier2AndListsTheProjectAtTheRoot()
    {
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await PageAsync(proxy, "ci/simple/six/");
        await PageAsync(proxy, "ci/simple/zipp/");
        var rootBefore = await proxy.Client.GetStringAsync("ci/simple/");

        var result = await proxy.PostJsonAsync("api/v1/projects/Six/approve", new { reason = "  widely used, vetted  " });
        var (status, page) = await PageAsync(proxy, "ci/simple/six/");
        var root = await proxy.Client.GetStringAsync("ci/simple/");
        var file = await proxy.Client.GetByteArrayAsync($"ci/files/six/{Six}");

        Assert.Equal("six", result["project"].Text());
        Assert.Equal("approved", result["verdict"].Text());
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(QuarantineReason(page));
        Assert.Equal(Six, page["files"]![0]!["filename"].Text());
        Assert.Equal(upstream.File(Six).Content, file);
        Assert.DoesNotContain(">six<", rootBefore, StringComparison.Ordinal);
        Assert.Contains(">six<", root, StringComparison.Ordinal);
        Assert.DoesNotContain(">zipp<", root, StringComparison.Ordinal);
        var request = (await RequestsAsync(proxy)).Single(r => r.Project == "six");
        Assert.Equal(VerdictText.Approved, request.Status);
        var decision = await proxy.QueryAsync(db => db.ProjectDecisions.SingleAsync());
        Assert.Equal(("six", "approved", "widely used, vetted", "bootstrap-admin"), (decision.Project, decision.Verdict, decision.Reason, decision.Actor));
    }

    [Fact]
    public async Task Deny_HidesTheProjectInTier1TooWithTheReviewersReason()
    {
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var reviewer = await proxy.CreateUserWithTokenAsync("rita", "reviewer");
        Assert.Null(QuarantineReason((await PageAsync(proxy, "dev/simple/zipp/")).Page));

        await proxy.PostJsonAsync("api/v1/projects/zipp/deny", new { reason = "maintainer account compromised" }, reviewer);
        var (status, page) = await PageAsync(proxy, "dev/simple/zipp/");
        using var file = await proxy.Client.GetAsync("dev/files/zipp/zipp-3.7.0-py3-none-any.whl");
        using var json = await proxy.Client.GetAsync("dev/pypi/zipp/json");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(page["files"]!.AsArray());
        Assert.Equal("denied by a reviewer: maintainer account compromised", QuarantineReason(page));
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, json.StatusCode);
    }

    [Fact]
    public async Task Defer_KeepsTheProjectHiddenAndMarksItDeferred()
    {
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await PageAsync(proxy, "ci/simple/six/");

        await proxy.PostJsonAsync("api/v1/projects/six/defer", new { reason = "waiting for the licence review" });
        var (_, page) = await PageAsync(proxy, "ci/simple/six/");

        Assert.StartsWith("'six' is deferred by a reviewer for environment 'ci' (tier 2); review request #", QuarantineReason(page), StringComparison.Ordinal);
        var request = Assert.Single(await RequestsAsync(proxy));
        Assert.Equal((VerdictText.Deferred, 2L), (request.Status, request.RequestCount));
        Assert.NotNull(request.DecidedAt);
    }

    public static TheoryData<string, string> BadDecisions => new()
    {
        { "", "a reason is required" },
        { "{}", "a reason is required" },
        { """{"reason":null}""", "a reason is required" },
        { """{"reason":""}""", "a reason is required" },
        { """{"reason":"   \n\t "}""", "a reason is required" },
        { $$"""{"reason":"{{new string('x', 2001)}}"}""", "longer than 2000 characters" },
        { """{"reason":"ok\u0000"}""", "control characters" },
    };

    [Fact]
    public async Task Decide_MissingBlankOrOverlongReason_Is400WithMessageAndRecordsNothing()
    {
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var auditBefore = await proxy.QueryAsync(db => db.AuditRecords.CountAsync());

        foreach (var verb in new[] { "approve", "deny", "defer" })
        {
            foreach (var row in BadDecisions)
            {
                var (body, message) = ((string)row[0], (string)row[1]);
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await proxy.SendAsync(HttpMethod.Post, $"api/v1/projects/six/{verb}", ApiTestKit.BootstrapToken, content);
                var text = await response.Content.ReadAsStringAsync();

                Assert.True(HttpStatusCode.BadRequest == response.StatusCode, $"{verb} {body}: {(int)response.StatusCode} {text}");
                Assert.Contains(message, JsonNode.Parse(text)!["message"].Text(), StringComparison.Ordinal);
            }
        }

        Assert.Equal(0, await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
        Assert.Equal(0, await proxy.QueryAsync(db => db.ReviewRequests.CountAsync()));
        Assert.Equal(auditBefore, await proxy.QueryAsync(db => db.AuditRecords.CountAsync()));
    }

    [Fact]
    public async Task Decide_InvalidProjectName_Is400AndRecordsNothing()
    {
        // Over a socket: "%00" must reach the server as sent (the in-process client refuses to send it).
        await using var servers = await TestServers.StartAsync(Provider);
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);

        foreach (var name in new[] { "-bad-", "six%20six", "six%00", new string('a', 201), "caf%C3%A9" })
        {
            using var response = await proxy.SendAsync(HttpMethod.Post, $"api/v1/projects/{name}/approve", ApiTestKit.BootstrapToken, new { reason = "fine" });
            var text = await response.Content.ReadAsStringAsync();

            Assert.True(HttpStatusCode.BadRequest == response.StatusCode, $"{name}: {(int)response.StatusCode} {text}");
        }

        Assert.Equal(0, await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task BulkDecision_DecidesEveryNormalizedProjectOnceAndRefusesBadInputWhole()
    {
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);

        var refused = new object[]
        {
            new { projects = Array.Empty<string>(), verdict = "approved", reason = "r" },
            new { projects = new[] { "six" }, verdict = "pending", reason = "r" },
            new { projects = new[] { "six" }, verdict = "approve", reason = "r" },
            new { projects = new[] { "six", "-bad-" }, verdict = "approved", reason = "r" },
            new { projects = new[] { "six" }, verdict = "approved", reason = " " },
            new { projects = new string?[] { "six", null }, verdict = "approved", reason = "r" },
            new { projects = Enumerable.Range(0, 501).Select(i => $"p{i}").ToArray(), verdict = "approved", reason = "r" },
        };
        foreach (var body in refused)
        {
            using var response = await proxy.SendAsync(HttpMethod.Post, "api/v1/decisions", ApiTestKit.BootstrapToken, body);
            Assert.True(HttpStatusCode.BadRequest == response.StatusCode, $"{System.Text.Json.JsonSerializer.Serialize(body)[..Math.Min(120, System.Text.Json.JsonSerializer.Serialize(body).Length)]}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        Assert.Equal(0, await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));

        var result = await proxy.PostJsonAsync("api/v1/decisions", new { projects = new[] { "six", "Zipp", "six", "JMESPath" }, verdict = "approved", reason = "platform baseline" });

        Assert.Equal(["jmespath", "six", "zipp"], result["decisions"]!.AsArray().Select(d => d!["project"].Text()).Order());
        Assert.All(result["decisions"]!.AsArray(), d => Assert.Equal("approved", d!["verdict"].Text()));
        foreach (var project in new[] { "six", "zipp", "jmespath" })
        {
            Assert.Null(QuarantineReason((await PageAsync(proxy, $"ci/simple/{project}/")).Page));
        }

        Assert.Equal(3, await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
        Assert.Equal(3, await proxy.QueryAsync(db => db.AuditRecords.CountAsync(r => r.Action == "project.approve")));
    }

    [Fact]
    public async Task ListReviews_FiltersByStatusEnvironmentAndSearch_AndSorts()
    {
        await using var servers = await StartAsync("environments:\n  staging: { tier: 2 }\n");
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        foreach (var path in new[] { "ci/simple/jmespath/", "ci/simple/six/", "ci/simple/six/", "ci/simple/six/", "ci/simple/jmespath/", "staging/simple/zipp/" })
        {
            await PageAsync(proxy, path);
            await Task.Delay(5);
        }

        async Task<string[]> NamesAsync(string query)
        {
            var json = await proxy.GetJsonAsync($"api/v1/reviews{query}");
            var items = json["items"]!.AsArray();
            if (!query.Contains("limit=", StringComparison.Ordinal))
            {
                Assert.Equal(items.Count, (int)json["total"].Number());
            }

            return items.Select(i => i!["project"].Text()).ToArray();
        }

        Assert.Equal(["six", "jmespath", "zipp"], await NamesAsync(""));
        Assert.Equal(["six", "jmespath", "zipp"], await NamesAsync("?sort=demand"));
        Assert.Equal(["jmespath", "six", "zipp"], await NamesAsync("?sort=name"));
        Assert.Equal(["zipp", "jmespath", "six"], await NamesAsync("?sort=recent"));
        Assert.Equal(["jmespath", "six", "zipp"], await NamesAsync("?sort=oldest"));
        Assert.Equal(["zipp"], await NamesAsync("?env=staging"));
        Assert.Equal(["six", "jmespath"], await NamesAsync("?env=ci"));
        Assert.Equal(["six"], await NamesAsync("?q=SIX"));
        Assert.Equal(["jmespath"], await NamesAsync("?q=mes"));

        var six = (await proxy.GetJsonAsync("api/v1/reviews?q=six"))["items"]![0]!;
        Assert.Equal(3, six["requestCount"].Number());
        Assert.Equal("pending", six["status"].Text());
        Assert.Equal(["ci"], six["environments"]!.AsArray().Select(e => e.Text()));

        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "ok" });
        await proxy.PostJsonAsync("api/v1/projects/zipp/deny", new { reason = "no" });

        Assert.Equal(["jmespath"], await NamesAsync(""));
        Assert.Equal(["jmespath"], await NamesAsync("?status=pending"));
        Assert.Equal(["six"], await NamesAsync("?status=approved"));
        Assert.Equal(["zipp"], await NamesAsync("?status=denied"));
        Assert.Equal(["jmespath", "six", "zipp"], await NamesAsync("?status=all&sort=name"));
        Assert.Equal(["six"], await NamesAsync("?status=all&sort=name&offset=1&limit=1"));
        foreach (var bad in new[] { "?status=bogus", "?sort=bogus" })
        {
            using var response = await proxy.SendAsync(HttpMethod.Get, $"api/v1/reviews{bad}", ApiTestKit.BootstrapToken);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("must be", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task GetReview_ShowsRequestersAndDecisionHistoryNewestFirst()
    {
        await using var servers = await StartAsync("environments:\n  secure: { tier: 2, access: token }\n");
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var alice = await proxy.CreateUserWithTokenAsync("alice", "reviewer");
        await PageAsync(proxy, "ci/simple/six/");
        await PageAsync(proxy, "ci/simple/six/");
        await PageAsync(proxy, "secure/simple/six/", alice);
        await PageAsync(proxy, "secure/simple/six/", alice);
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "first look fine" }, alice);
        await proxy.PostJsonAsync("api/v1/projects/six/deny", new { reason = "second look: no" });

        var detail = await proxy.GetJsonAsync("api/v1/reviews/Six");

        Assert.Equal("six", detail["project"].Text());
        Assert.Equal("denied", detail["request"]!["status"].Text());
        // Two anonymous clients in ci; alice asked twice within Review:DemandWindow: one caller, counted once.
        Assert.Equal(3, detail["request"]!["requestCount"].Number());
        Assert.Equal(["ci", "secure"], detail["request"]!["environments"]!.AsArray().Select(e => e.Text()));
        var requesters = detail["requesters"]!.AsArray();
        Assert.Equal(("ci", "anonymous", 2L), (requesters[0]!["environment"].Text(), requesters[0]!["requester"].Text(), requesters[0]!["requestCount"].Number()));
        Assert.Equal(("secure", "alice", 1L), (requesters[1]!["environment"].Text(), requesters[1]!["requester"].Text(), requesters[1]!["requestCount"].Number()));
        var decisions = detail["decisions"]!.AsArray();
        Assert.Equal(("denied", "second look: no", "bootstrap-admin"), (decisions[0]!["verdict"].Text(), decisions[0]!["reason"].Text(), decisions[0]!["actor"].Text()));
        Assert.Equal(("approved", "first look fine", "alice"), (decisions[1]!["verdict"].Text(), decisions[1]!["reason"].Text(), decisions[1]!["actor"].Text()));

        using var unknown = await proxy.SendAsync(HttpMethod.Get, "api/v1/reviews/zipp", ApiTestKit.BootstrapToken);
        using var invalid = await proxy.SendAsync(HttpMethod.Get, "api/v1/reviews/-bad-", ApiTestKit.BootstrapToken);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }
}

public sealed class ReviewIntegrationTestsOnSqlite : ReviewIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ReviewIntegrationTestsOnPostgres : ReviewIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

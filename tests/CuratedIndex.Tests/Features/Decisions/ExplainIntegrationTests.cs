using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Tests.Features.Review;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.Decisions;

/// <summary><c>GET /api/v1/explain</c> agrees with what the index serves; on SQLite and PostgreSQL.</summary>
public abstract class ExplainIntegrationTests
{
    protected abstract DatabaseProvider Provider { get; }

    [Fact]
    public async Task Explain_AgreesWithWhatTheIndexServes()
    {
        await using var servers = await TestServers.StartAsync(Provider, "approve: [six]\ndeny:\n  first: typosquat\n", inProcess: true);
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/zipp/approve", new { reason = "reviewed" });
        await proxy.PostJsonAsync("api/v1/projects/editables/deny", new { reason = "not ours" });
        await proxy.PostJsonAsync("api/v1/projects/wheel/defer", new { reason = "later" });

        // Served: the reason as index clients read it, without the reviewer's name (issue 9, hole 5).
        (string Env, string Project, bool Visible, string Rule, string Reason, string Served)[] cases =
        [
            ("ci", "six", true, "allowed", "approved by policy", ""),
            ("ci", "zipp", true, "allowed", "approved by reviewer bootstrap-admin: reviewed", ""),
            ("ci", "jmespath", false, "not-approved", "'jmespath' is not approved for environment 'ci' (tier 2)", "'jmespath' is not approved for environment 'ci' (tier 2)"),
            ("ci", "wheel", false, "not-approved", "'wheel' is deferred by a reviewer for environment 'ci' (tier 2)", "'wheel' is deferred by a reviewer for environment 'ci' (tier 2)"),
            ("ci", "first", false, "denied", "denied by policy: typosquat", "denied by policy: typosquat"),
            ("ci", "editables", false, "denied", "denied by reviewer bootstrap-admin: not ours", "denied by a reviewer: not ours"),
            ("dev", "jmespath", true, "allowed", "environment 'dev' is tier 1 (passthrough)", ""),
            ("dev", "editables", false, "denied", "denied by reviewer bootstrap-admin: not ours", "denied by a reviewer: not ours"),
            ("dev", "first", false, "denied", "denied by policy: typosquat", "denied by policy: typosquat"),
        ];
        foreach (var (env, project, visible, rule, reason, servedReason) in cases)
        {
            var explain = await proxy.GetJsonAsync($"api/v1/explain?env={env}&project={project}");
            var (status, page) = await ReviewIntegrationTests.PageAsync(proxy, $"{env}/simple/{project}/");
            var served = ReviewIntegrationTests.QuarantineReason(page);

            var what = $"{env}/{project}";
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(visible == explain["visible"]!.GetValue<bool>(), what);
            Assert.True(rule == explain["rule"].Text(), $"{what}: {explain["rule"].Text()}");
            Assert.True(reason == explain["reason"].Text(), $"{what}: {explain["reason"].Text()}");
            Assert.Equal("found", explain["upstream"].Text());
            Assert.True(visible == (served is null), $"{what}: served as {served}");
            Assert.True(visible == page["files"]!.AsArray().Count > 0, what);
            if (!visible)
            {
                // The page says the same (but who decided), plus the review request where one was made.
                Assert.StartsWith(servedReason, served, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task Explain_UpstreamQuarantinedProject_AgreesWithTheIndexAndMakesNoReviewRequest()
    {
        await using var servers = await TestServers.StartAsync(Provider, inProcess: true);
        servers.Upstream.Override["/simple/evil/"] = async context =>
        {
            context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
            await context.Response.WriteAsync("""{"meta":{"api-version":"1.4"},"name":"evil","project-status":{"status":"quarantined","reason":"malware"},"files":[]}""");
        };

        var (_, page) = await ReviewIntegrationTests.PageAsync(servers.Proxy, "ci/simple/evil/");
        var explain = await servers.Proxy.GetJsonAsync("api/v1/explain?env=ci&project=evil");

        Assert.Equal("upstream-quarantined", explain["rule"].Text());
        Assert.Equal(explain["reason"].Text(), ReviewIntegrationTests.QuarantineReason(page));
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ReviewRequests.CountAsync()));
    }

    [Fact]
    public async Task Explain_Tier3Release_IsNotVetted()
    {
        await using var servers = await TestServers.StartAsync(Provider, "approve: [six]\n", inProcess: true);

        var explain = await servers.Proxy.GetJsonAsync("api/v1/explain?env=prod&project=Six&version=1.17.0");

        Assert.Equal(("six", "1.17.0", 3L), (explain["project"].Text(), explain["version"].Text(), explain["tier"].Number()));
        Assert.False(explain["visible"]!.GetValue<bool>());
        Assert.Equal("not-vetted", explain["rule"].Text());
    }

    [Fact]
    public async Task Explain_BadInput_IsRefusedWithAMessage()
    {
        await using var servers = await TestServers.StartAsync(Provider, inProcess: true);
        (string Path, int Status, string Message)[] cases =
        [
            ("api/v1/explain?env=nope&project=six", 404, "unknown environment 'nope'"),
            ("api/v1/explain?env=NOPE%3Cscript%3E&project=six", 404, "unknown environment"),
            ("api/v1/explain?project=six", 400, "'env' and 'project' are required"),
            ("api/v1/explain?env=ci", 400, "'env' and 'project' are required"),
            ("api/v1/explain?env=ci&project=-bad-", 400, "invalid project name"),
            ($"api/v1/explain?env=ci&project={new string('a', 201)}", 400, "invalid project name"),
            ("api/v1/explain?env=ci&project=six&version=not.a.version!", 400, "invalid version"),
        ];

        foreach (var (path, status, message) in cases)
        {
            using var response = await servers.Proxy.SendAsync(HttpMethod.Get, path, ApiTestKit.BootstrapToken);
            var text = await response.Content.ReadAsStringAsync();

            Assert.True(status == (int)response.StatusCode, $"{path}: {(int)response.StatusCode} {text}");
            Assert.Contains(message, text, StringComparison.Ordinal);
            Assert.DoesNotContain("<script>", text, StringComparison.Ordinal);
        }
    }
}

public sealed class ExplainIntegrationTestsOnSqlite : ExplainIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ExplainIntegrationTestsOnPostgres : ExplainIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

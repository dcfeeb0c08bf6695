using System.Net;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Protocol;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.Closure;

/// <summary>
/// Dependency closures through the API on SQLite and PostgreSQL, over pytest 3.5.0's real tree (Fixtures/closure and
/// Fixtures/dists, served with PEP 658 metadata by the fake upstream).
/// </summary>
public abstract class ClosureIntegrationTests
{
    // pytest 3.5.0 on Linux: colorama is required only on win32 (and funcsigs only on Python 2), so neither is a member.
    private static readonly string[] PytestClosure =
        ["pytest 3.5.0", "attrs 17.4.0", "more-itertools 4.1.0", "pluggy 0.6.0", "py 1.5.3", "setuptools 67.6.1", "six 1.17.0"];

    protected abstract DatabaseProvider Provider { get; }

    private async Task<TestServers> StartAsync(string? policy = null, IDictionary<string, string>? settings = null)
    {
        var servers = await TestServers.StartAsync(Provider, policy, settings, inProcess: true);
        foreach (var path in Directory.GetFiles(FakePyPI.FixturePath("closure")).Order(StringComparer.Ordinal))
        {
            var filename = Path.GetFileName(path);
            Assert.True(DistributionFilename.TryParse(filename, null, out var parsed), filename);
            servers.Upstream.AddFile(parsed.Project, filename, File.ReadAllBytes(path));
        }

        return servers;
    }

    [Fact]
    public async Task Closure_OfPytest_ListsItsTree_WithoutTheWindowsOnlyDependency_PendingButSixsSignal()
    {
        await using var servers = await StartAsync();

        var closure = await servers.Proxy.GetJsonAsync("api/v1/projects/pytest/closure?env=ci&version=3.5.0");

        Assert.True(closure["complete"]!.GetValue<bool>(), closure.ToJsonString());
        Assert.Equal(PytestClosure, Members(closure));
        // Reading six's page recorded its releases: 1.17.0 is four times the size of 1.11.0 (a stubbed wheel here).
        var six = closure["members"]!.AsArray().Single(m => m!["project"].Text() == "six")!;
        Assert.Equal(("signal", true), (six["status"].Text(), six["blocks"]!.GetValue<bool>()));
        Assert.Contains("size-changed", six["reason"].Text(), StringComparison.Ordinal);
        Assert.All(closure["members"]!.AsArray().Where(m => m!["project"].Text() != "six"), m => Assert.Equal("pending", m!["status"].Text()));
        Assert.Equal(6, closure["remaining"]!.GetValue<int>());
        Assert.Equal(["six 1.17.0: release signals: size-changed"], closure["blockers"]!.AsArray().Select(b => b.Text()));
        Assert.Equal(["3.11 manylinux_2_28_x86_64", "3.12 manylinux_2_28_x86_64", "3.13 manylinux_2_28_x86_64", "3.14 manylinux_2_28_x86_64"], closure["targets"]!.AsArray().Select(t => t.Text()));
        var pluggy = closure["members"]!.AsArray().Single(m => m!["project"].Text() == "pluggy")!;
        Assert.Equal("pytest", pluggy["requiredBy"]![0]!["project"].Text());
        Assert.Equal("pluggy (<0.7,>=0.5)", pluggy["requiredBy"]![0]!["requirement"].Text());
        Assert.Equal("pep658", pluggy["metadata"].Text());
    }

    [Fact]
    public async Task ApproveWithDependencies_OnceTheSignalledMemberIsDecidedOnItsOwn_ApprovesTheRest_EachWithItsOwnAuditRecord()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        using var refused = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/pytest/approve", ApiTestKit.BootstrapToken, new { reason = "runner", dependencies = true, env = "ci", version = "3.5.0" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "the size change is the real wheel against a stub" });

        var answer = await proxy.PostJsonAsync("api/v1/projects/pytest/approve", new { reason = "the test runner of the orders service", dependencies = true, env = "ci", version = "3.5.0" });
        var records = await proxy.QueryAsync(db => db.AuditRecords.Where(r => r.Action == "project.approve").ToListAsync());
        var after = await proxy.GetJsonAsync("api/v1/projects/pytest/closure?env=ci&version=3.5.0");
        using var page = await proxy.Client.GetAsync("ci/simple/pluggy/");

        Assert.Equal(6, answer["decided"]!.AsArray().Count);
        Assert.Equal(7, records.Count);
        Assert.Equal("the test runner of the orders service", records.Single(r => r.Subject == "project:pytest").Reason);
        Assert.Equal("the size change is the real wheel against a stub", records.Single(r => r.Subject == "project:six").Reason);
        Assert.Equal("dependency of pytest 3.5.0, approved by bootstrap-admin: the test runner of the orders service", records.Single(r => r.Subject == "project:pluggy").Reason);
        Assert.All(after["members"]!.AsArray(), m => Assert.Equal("visible", m!["status"].Text()));
        Assert.Equal(0, after["remaining"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task ADenialWrittenSinceTheStatusesWereRead_OnAnotherNode_IsNeverOverwritten_NothingIsApproved()
    {
        // This node refreshes decisions only when it writes one: the denial below is one it has not seen.
        await using var servers = await StartAsync("approve: [six]\n", new Dictionary<string, string> { ["Review:RefreshInterval"] = "01:00:00" });
        var proxy = servers.Proxy;
        await proxy.QueryAsync(async db =>
        {
            db.ProjectDecisions.Add(new ProjectDecision { Project = "pluggy", Verdict = "denied", Reason = "another node's reviewer", Actor = "bob", DecidedAt = DateTime.UtcNow });
            return await db.SaveChangesAsync();
        });

        using var response = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/pytest/approve", ApiTestKit.BootstrapToken, new { reason = "runner", dependencies = true, env = "ci", version = "3.5.0" });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("was decided", body["message"].Text(), StringComparison.Ordinal);
        Assert.Equal(["pluggy"], await proxy.QueryAsync(db => db.ProjectDecisions.Select(d => d.Project).ToListAsync()));
    }

    [Fact]
    public async Task ATyposquatRoot_IsNotDecidedInPassing_TheClosureAndTheRefusalNameIt()
    {
        await using var servers = await StartAsync();
        var lookalike = WheelBuilder.Build("reqeusts", "2.18.4", "six");
        servers.Upstream.AddFile(lookalike.Project, lookalike.Filename, lookalike.Content);

        var closure = await servers.Proxy.GetJsonAsync("api/v1/projects/reqeusts/closure?env=ci");
        using var response = await servers.Proxy.SendAsync(HttpMethod.Post, "api/v1/projects/reqeusts/approve", ApiTestKit.BootstrapToken, new { reason = "asked for by a developer", dependencies = true, env = "ci" });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        var root = closure["members"]![0]!;
        Assert.Equal(("reqeusts", "typosquat", true), (root["project"].Text(), root["status"].Text(), root["blocks"]!.GetValue<bool>()));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains(body["blockers"]!.AsArray(), b => b.Text().StartsWith("reqeusts 2.18.4: typosquat: ", StringComparison.Ordinal) && b.Text().Contains("requests", StringComparison.Ordinal));
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task DeniedMember_BlocksApproveWithDependencies_IsNamed_AndNothingIsApproved()
    {
        await using var servers = await StartAsync("deny:\n  six: replaced by the standard library here\n");
        var proxy = servers.Proxy;

        using var response = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/pytest/approve", ApiTestKit.BootstrapToken, new { reason = "runner", dependencies = true, env = "ci", version = "3.5.0" });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("six", body["message"].Text());
        Assert.Contains(body["blockers"]!.AsArray(), b => b.Text().StartsWith("six 1.17.0: denied", StringComparison.Ordinal));
        Assert.Empty(body["decided"]!.AsArray());
        Assert.Equal(0, await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task VetWithDependencies_PinsEveryRelease_ButCooldownStopsItFirst()
    {
        // prod keeps its 7 days for pluggy only: the whole vetting waits for it, and nothing is written.
        var projects = new[] { "pytest", "attrs", "more-itertools", "py", "setuptools", "six" };
        await using var servers = await StartAsync($"cooldown:\n{string.Concat(projects.Select(p => $"  {p}: 0d\n"))}");
        var proxy = servers.Proxy;
        var body = new { reason = "vetted for the orders service", dependencies = true, env = "prod" };

        using var blocked = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/pytest/releases/3.5.0/vet", ApiTestKit.BootstrapToken, body);
        var blockedBody = JsonNode.Parse(await blocked.Content.ReadAsStringAsync())!;
        var decisionsWhileBlocked = await proxy.QueryAsync(db => db.ReleaseDecisions.CountAsync());

        Assert.Equal(HttpStatusCode.Conflict, blocked.StatusCode);
        Assert.Contains(blockedBody["blockers"]!.AsArray(), b => b.Text().StartsWith("pluggy 0.6.0: inside its cooldown", StringComparison.Ordinal));
        Assert.Equal(0, decisionsWhileBlocked);
        Assert.Equal(0, await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task VetWithDependencies_ApprovesAndVetsTheWholeTree_AndProdServesThePinnedReleases()
    {
        var projects = new[] { "pytest", "attrs", "more-itertools", "pluggy", "py", "setuptools", "six" };
        await using var servers = await StartAsync($"cooldown:\n{string.Concat(projects.Select(p => $"  {p}: 0d\n"))}");
        var proxy = servers.Proxy;
        var body = new { reason = "vetted for the orders service", dependencies = true, env = "prod" };

        // six 1.17.0 carries a size-changed signal (about four times 1.11.0, a stubbed wheel here), found when the call
        // checks each release: it is named and nothing is decided, until a reviewer decided six on its own.
        using var signalled = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/pytest/releases/3.5.0/vet", ApiTestKit.BootstrapToken, body);
        var signalledBody = JsonNode.Parse(await signalled.Content.ReadAsStringAsync())!;
        var decisionsWhileSignalled = await proxy.QueryAsync(db => db.ReleaseDecisions.CountAsync());
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "widely used" });
        await proxy.PostJsonAsync("api/v1/projects/six/releases/1.17.0/vet", new { reason = "size grew from 1.11.0: read the diff" });
        var answer = await proxy.PostJsonAsync("api/v1/projects/pytest/releases/3.5.0/vet", body);
        var vetRecords = await proxy.QueryAsync(db => db.AuditRecords.Where(r => r.Action == "release.vet").ToListAsync());
        var files = await CuratedIndex.Tests.Features.Releases.Tier3IntegrationTests.FilesAsync(proxy, "prod/simple/pytest/");

        Assert.Equal(HttpStatusCode.Conflict, signalled.StatusCode);
        Assert.Contains(signalledBody["blockers"]!.AsArray(), b => b.Text() == "six 1.17.0: signal: release signals: size-changed");
        Assert.Equal(0, decisionsWhileSignalled);
        Assert.Equal(6, answer["decided"]!.AsArray().Count(d => d!["action"].Text() == "approve"));
        Assert.Equal(6, answer["decided"]!.AsArray().Count(d => d!["action"].Text() == "vet"));
        Assert.Equal(7, vetRecords.Count);
        Assert.EndsWith("dependency of pytest 3.5.0, vetted by bootstrap-admin: vetted for the orders service", vetRecords.Single(r => r.Subject == "release:pluggy==0.6.0").Reason, StringComparison.Ordinal);
        Assert.Equal(["pytest-3.5.0-py2.py3-none-any.whl"], files);
        Assert.All(answer["closure"]!["members"]!.AsArray(), m => Assert.Equal("visible", m!["status"].Text()));
    }

    [Theory]
    [InlineData("api/v1/projects/pytest/closure?version=3.5.0", HttpStatusCode.BadRequest, "env is required")]
    [InlineData("api/v1/projects/pytest/closure?env=nope", HttpStatusCode.BadRequest, "no environment 'nope'")]
    [InlineData("api/v1/projects/pytest/closure?env=ci&version=not..a..version", HttpStatusCode.BadRequest, "is not a PEP 440 version")]
    [InlineData("api/v1/projects/pytest/closure?env=ci&version=9.9.9", HttpStatusCode.NotFound, "no release 9.9.9")]
    [InlineData("api/v1/projects/no-such-project/closure?env=ci", HttpStatusCode.NotFound, "no project 'no-such-project'")]
    [InlineData("api/v1/projects/pytest/closure?env=ci&extras=a%20b", HttpStatusCode.BadRequest, "not a valid extra name")]
    public async Task BadClosureRequests_AreRefusedWithAPreciseMessage(string path, HttpStatusCode status, string message)
    {
        await using var servers = await StartAsync();

        using var response = await servers.Proxy.SendAsync(HttpMethod.Get, path, ApiTestKit.BootstrapToken);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, body["message"].Text(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("api/v1/projects/pytest/approve", "{\"reason\":\"r\",\"dependencies\":true,\"env\":\"dev\"}", "is tier 1 (passthrough)")]
    [InlineData("api/v1/projects/pytest/approve", "{\"reason\":\"r\",\"dependencies\":true}", "'env' is required")]
    [InlineData("api/v1/projects/pytest/approve", "{\"reason\":\"\",\"dependencies\":true,\"env\":\"ci\"}", "a reason is required")]
    [InlineData("api/v1/projects/pytest/approve", "{\"reason\":\"r\",\"env\":\"ci\"}", "apply only with")]
    [InlineData("api/v1/projects/pytest/deny", "{\"reason\":\"r\",\"dependencies\":true,\"env\":\"ci\"}", "applies to approve only")]
    [InlineData("api/v1/projects/pytest/releases/3.5.0/vet", "{\"reason\":\"r\",\"dependencies\":true,\"env\":\"ci\"}", "needs a tier 3 environment")]
    [InlineData("api/v1/projects/pytest/releases/3.5.0/vet", "{\"reason\":\"r\",\"dependencies\":true,\"env\":\"prod\",\"files\":[\"pytest-3.5.0-py2.py3-none-any.whl\"]}", "cannot be combined")]
    public async Task BadWithDependenciesRequests_AreRefusedWithAPreciseMessage_AndDecideNothing(string path, string json, string message)
    {
        await using var servers = await StartAsync();

        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ApiTestKit.BootstrapToken);
        using var response = await servers.Proxy.Client.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(message, body["message"].Text(), StringComparison.Ordinal);
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    private static List<string> Members(JsonNode closure) =>
        closure["members"]!.AsArray().Select(m => $"{m!["project"].Text()} {m["version"].Text()}").ToList();
}

public sealed class ClosureIntegrationTestsOnSqlite : ClosureIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ClosureIntegrationTestsOnPostgres : ClosureIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

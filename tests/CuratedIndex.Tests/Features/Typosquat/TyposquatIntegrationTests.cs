using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Tests.Features.Jobs;
using CuratedIndex.Tests.Features.Review;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Typosquat;

/// <summary>
/// Typosquat findings and dependency-confusion protection over HTTP (issue 4, sections 2 and 5); on SQLite and PostgreSQL.
/// </summary>
public abstract class TyposquatIntegrationTests
{
    // One added letter from colorama, a top-100 project: the detector flags it; the fake upstream serves it.
    private const string Lookalike = "colourama";
    private const string LookalikeFile = "colourama-0.4.6.tar.gz";
    private const string InternalFile = "acme_tools-1.0.tar.gz";

    protected abstract DatabaseProvider Provider { get; }

    private async Task<TestServers> StartAsync(string? policy = null, IDictionary<string, string>? settings = null)
    {
        var servers = await TestServers.StartAsync(Provider, policy, settings);
        servers.Upstream.AddFile(Lookalike, LookalikeFile, Encoding.UTF8.GetBytes("not really an sdist"));
        servers.Upstream.AddFile("acme-tools", InternalFile, Encoding.UTF8.GetBytes("someone else's acme-tools"));
        return servers;
    }

    [Fact]
    public async Task Lookalike_RequestedInCi_IsAFindingFirstInTheRiskOrderedQueueAndOnTheProjectPage()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;

        var (sixStatus, _) = await ReviewIntegrationTests.PageAsync(proxy, "ci/simple/six/");
        await ReviewIntegrationTests.PageAsync(proxy, "ci/simple/six/");
        var (status, page) = await ReviewIntegrationTests.PageAsync(proxy, $"ci/simple/{Lookalike}/");
        await ReviewIntegrationTests.PageAsync(proxy, $"dev/simple/{Lookalike}/");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (sixStatus, status));
        Assert.Contains("is not approved for environment 'ci'", ReviewIntegrationTests.QuarantineReason(page), StringComparison.Ordinal);
        var finding = Assert.Single(await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().ToListAsync()));
        Assert.Equal((Lookalike, "colorama"), (finding.Project, finding.Imitated));
        Assert.InRange(finding.Score, 0.55, 1.0);
        Assert.Contains("colorama", finding.Reasons, StringComparison.Ordinal);

        var queue = await proxy.GetJsonAsync("api/v1/reviews?sort=risk");
        var items = queue["items"]!.AsArray();
        Assert.Equal([Lookalike, "six"], items.Select(i => i!["project"].Text()));
        Assert.Equal(finding.Score, items[0]!["riskScore"]!.GetValue<double>());
        Assert.Equal(0, items[1]!["riskScore"]!.GetValue<double>());

        var explain = await proxy.GetJsonAsync($"api/v1/explain?env=ci&project={Lookalike}");
        Assert.Equal("colorama", explain["typosquat"]!["imitated"].Text());
        Assert.Equal("warn", explain["typosquat"]!["policy"].Text());

        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        var (_, document, _) = await session.GetAsync($"ui/projects/{Lookalike}");
        var shown = Assert.Single(document.QuerySelectorAll("#typosquats .typosquat-finding"));
        Assert.Contains("colorama", shown.TextContent, StringComparison.Ordinal);
        var (_, queuePage, _) = await session.GetAsync("ui/queue?status=pending&sort=risk");
        var rows = queuePage.QuerySelectorAll("#queue-table tbody tr");
        Assert.Equal(Lookalike, rows[0].GetAttribute("data-project"));
        Assert.NotNull(rows[0].QuerySelector(".risk"));
        Assert.Null(rows[1].QuerySelector(".risk"));
    }

    [Fact]
    public async Task Lookalike_CopyingTheImitatedSummaryAndRepository_ProjectPageSaysSo_AndALookalikeWithItsOwnDoesNot()
    {
        await using var servers = await StartAsync();
        var upstream = servers.Upstream;
        upstream.AddFile("colorama", "colorama-0.4.6.tar.gz", Encoding.UTF8.GetBytes("the real colorama"));
        upstream.AddFile("colorana", "colorana-1.0.tar.gz", Encoding.UTF8.GetBytes("an unlucky name"));
        upstream.ProjectInfo["colorama"] = new JsonObject
        {
            ["summary"] = "Cross-platform colored terminal text.",
            ["project_urls"] = new JsonObject { ["Homepage"] = "https://github.com/tartley/colorama", ["Issues"] = "https://github.com/" },
        };
        upstream.ProjectInfo[Lookalike] = new JsonObject
        {
            ["summary"] = " Cross-platform  colored terminal TEXT. ",
            ["project_urls"] = new JsonObject { ["Source"] = "http://www.github.com/tartley/colorama.git", ["Bugs"] = "https://github.com" },
        };
        upstream.ProjectInfo["colorana"] = new JsonObject
        {
            ["summary"] = "Colour names for plotting.",
            ["project_urls"] = new JsonObject { ["Source"] = "https://github.com/someone/colorana" },
        };

        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        var (_, copying, _) = await session.GetAsync($"ui/projects/{Lookalike}");
        var (_, own, _) = await session.GetAsync("ui/projects/colorana");

        var shared = copying.QuerySelectorAll("#typosquats .copied-from-imitated li").Select(li => li.TextContent.Trim()).ToList();
        Assert.Equal(
            [
                "Shares with the imitated project: the same summary as 'colorama': \"Cross-platform  colored terminal TEXT.\"",
                "Shares with the imitated project: its link 'Source' (http://www.github.com/tartley/colorama.git) is also a link of 'colorama'",
            ],
            shared);
        Assert.Contains("colorama", Assert.Single(own.QuerySelectorAll("#typosquats .typosquat-finding")).TextContent, StringComparison.Ordinal);
        Assert.Empty(own.QuerySelectorAll("#typosquats .copied-from-imitated li"));
    }

    [Fact]
    public async Task Lookalike_RequestedOnlyThroughTheJsonApi_IsAFinding()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;

        using var json = await proxy.Client.GetAsync($"dev/pypi/{Lookalike}/json");
        using var again = await proxy.Client.GetAsync($"dev/pypi/{Lookalike}/json");
        using var clean = await proxy.Client.GetAsync("dev/pypi/six/json");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK), (json.StatusCode, again.StatusCode, clean.StatusCode));
        var finding = Assert.Single(await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().ToListAsync()));
        Assert.Equal((Lookalike, "colorama"), (finding.Project, finding.Imitated));
        // Tier 1 asks for no review: the finding is on the Alerts page instead.
        Assert.Empty(await proxy.QueryAsync(db => db.ReviewRequests.AsNoTracking().ToListAsync()));
        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        var (_, alerts, _) = await session.GetAsync("ui/alerts");
        var row = Assert.Single(alerts.QuerySelectorAll("#lookalikes-table .lookalike-row"));
        Assert.Equal((Lookalike, "colorama", "normal"), (row.GetAttribute("data-project"), row.GetAttribute("data-imitated"), row.GetAttribute("data-severity")));
    }

    [Fact]
    public async Task MadeUpLookalikes_NotUpstream_AreNeverRecorded_WhileABlockedOneUpstreamHasIs()
    {
        await using var servers = await StartAsync("environments:\n  strict: { tier: 1, typosquat: block }\n");
        var proxy = servers.Proxy;

        // Hidden names answered without upstream's page: tier 2 (not approved) and a typosquat-blocking environment.
        servers.Upstream.Hits.Clear();
        for (var i = 0; i < 5; i++)
        {
            using var json = await proxy.Client.GetAsync($"ci/pypi/matplotlb-x{i}/json");
            using var file = await proxy.Client.GetAsync($"ci/files/sympy{i}-dev/sympy{i}_dev-1.0.tar.gz");
            using var blocked = await proxy.Client.GetAsync($"strict/simple/requests{i}-dev/");
            Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.OK), (json.StatusCode, file.StatusCode, blocked.StatusCode));
        }

        Assert.Empty(await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().ToListAsync()));

        // A blocked name never causes an upstream request (issue 9, section 3), so its request records no finding either:
        // the UpstreamNames job records lookalikes upstream lists. Where the lookalike is served (warn), upstream's page
        // proves the name exists and the finding is written.
        var (status, page) = await ReviewIntegrationTests.PageAsync(proxy, $"strict/simple/{Lookalike}/");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("blocked as a typosquat", ReviewIntegrationTests.QuarantineReason(page), StringComparison.Ordinal);
        Assert.True(servers.Upstream.Hits.IsEmpty, string.Join(", ", servers.Upstream.Hits.Keys));
        Assert.Empty(await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().ToListAsync()));
        await ReviewIntegrationTests.PageAsync(proxy, $"dev/simple/{Lookalike}/");
        var finding = Assert.Single(await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().ToListAsync()));
        Assert.Equal((Lookalike, "colorama"), (finding.Project, finding.Imitated));
    }

    [Fact]
    public async Task UpstreamNames_MostOfTheListNewAtOnce_IsANewBaselineNotThousandsOfFindings()
    {
        await using var servers = await StartAsync(
            null,
            ManualJobs.Settings());
        var proxy = servers.Proxy;
        var baseline = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);

        // As if Upstream:Url now pointed at a full mirror: 20,001 names the small list did not have, lookalikes among them.
        var content = Encoding.UTF8.GetBytes("x");
        servers.Upstream.AddFile("reqeusts", "reqeusts-1.0.tar.gz", content);
        for (var i = 0; i < 20_000; i++)
        {
            servers.Upstream.AddFile($"mirror-project-{i}", $"mirror_project_{i}-1.0.tar.gz", content);
        }

        var rebaseline = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);
        servers.Upstream.AddFile("colorana", "colorana-1.0.tar.gz", content);
        var next = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);

        Assert.StartsWith("baseline: ", baseline.Message, StringComparison.Ordinal);
        Assert.Equal(JobRunState.Succeeded, rebaseline.Status);
        Assert.StartsWith("baseline: ", rebaseline.Message, StringComparison.Ordinal);
        Assert.EndsWith(" names, 1 new, 1 flagged", next.Message, StringComparison.Ordinal);
        var finding = Assert.Single(await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().ToListAsync()));
        Assert.Equal(("colorana", "colorama"), (finding.Project, finding.Imitated));
    }

    [Fact]
    public async Task UpstreamNames_CorpusNotLoaded_FailsTheRunAndScreensTheNamesOnceItIs()
    {
        var corpus = Path.Combine(Path.GetTempPath(), $"corpus-{Guid.NewGuid():N}.tsv");
        await using var servers = await StartAsync(
            null,
            ManualJobs.Settings(new Dictionary<string, string> { ["Typosquat:CorpusPath"] = corpus }));
        var proxy = servers.Proxy;
        try
        {
            var baseline = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);
            servers.Upstream.AddFile("reqeusts", "reqeusts-1.0.tar.gz", Encoding.UTF8.GetBytes("a lookalike of a popular project"));
            var failed = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);

            Assert.Equal(JobRunState.Succeeded, baseline.Status);
            Assert.Equal(JobRunState.Failed, failed.Status);
            Assert.Contains("the typosquat corpus is not loaded", failed.Message, StringComparison.Ordinal);
            Assert.Empty(await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().ToListAsync()));

            // The failed run kept the snapshot: once the corpus is there, the same new name is screened.
            await File.WriteAllTextAsync(corpus, "rank\tname\n6\trequests\n");
            var screened = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);
            Assert.Equal(JobRunState.Succeeded, screened.Status);
            Assert.EndsWith(" names, 1 new, 1 flagged", screened.Message, StringComparison.Ordinal);
            var finding = Assert.Single(await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().ToListAsync()));
            Assert.Equal(("reqeusts", "requests"), (finding.Project, finding.Imitated));
        }
        finally
        {
            File.Delete(corpus);
        }
    }

    [Fact]
    public async Task Lookalike_DecidedThroughTheApiBeforeAnyRequest_IsAFindingAndSetsTheRequestsRisk()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;

        await proxy.PostJsonAsync($"api/v1/projects/{Lookalike}/approve", new { reason = "our own fork" });
        await proxy.PostJsonAsync("api/v1/decisions", new { projects = new[] { "reqeusts", "six" }, verdict = "denied", reason = "not now" });

        var findings = await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().OrderBy(f => f.Project).ToListAsync());
        Assert.Equal([(Lookalike, "colorama"), ("reqeusts", "requests")], findings.Select(f => (f.Project, f.Imitated)));
        var queue = await proxy.GetJsonAsync("api/v1/reviews?status=all&sort=risk");
        var items = queue["items"]!.AsArray();
        var risks = items.ToDictionary(i => i!["project"].Text(), i => i!["riskScore"]!.GetValue<double>());
        Assert.Equal(findings[0].Score, risks[Lookalike]);
        Assert.Equal(findings[1].Score, risks["reqeusts"]);
        Assert.Equal(0, risks["six"]);
        Assert.Equal("six", items[^1]!["project"].Text());
    }

    [Fact]
    public async Task UpstreamNames_NewLookalikeBetweenTwoRuns_IsAFindingOnTheAlertsPageWhileTheBaselineRecordsNothing()
    {
        await using var servers = await StartAsync(
            "approve: [frobnicator]\n",
            ManualJobs.Settings());
        var proxy = servers.Proxy;

        // The first list is the baseline: the lookalike already listed upstream (colourama) is not screened.
        var baseline = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);
        Assert.Equal(JobRunState.Succeeded, baseline.Status);
        Assert.StartsWith("baseline: ", baseline.Message, StringComparison.Ordinal);
        Assert.Empty(await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().ToListAsync()));

        servers.Upstream.AddFile("reqeusts", "reqeusts-1.0.tar.gz", Encoding.UTF8.GetBytes("a lookalike of a popular project"));
        servers.Upstream.AddFile("frobnicatro", "frobnicatro-1.0.tar.gz", Encoding.UTF8.GetBytes("a lookalike of our own project"));
        servers.Upstream.AddFile("quite-unrelated-name", "quite_unrelated_name-1.0.tar.gz", Encoding.UTF8.GetBytes("nothing to see"));
        var second = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);
        var third = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);

        Assert.Equal(JobRunState.Succeeded, second.Status);
        Assert.EndsWith(" names, 3 new, 2 flagged", second.Message, StringComparison.Ordinal);
        Assert.EndsWith(" names, 0 new, 0 flagged", third.Message, StringComparison.Ordinal);
        var findings = await proxy.QueryAsync(db => db.TyposquatFindings.AsNoTracking().OrderBy(f => f.Project).ToListAsync());
        Assert.Equal([("frobnicatro", "frobnicator"), ("reqeusts", "requests")], findings.Select(f => (f.Project, f.Imitated)));
        Assert.All(findings, f => Assert.Contains(f.Imitated, f.Reasons, StringComparison.Ordinal));
        Assert.Empty(await proxy.QueryAsync(db => db.ReviewRequests.AsNoTracking().ToListAsync()));

        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        var (_, alerts, _) = await session.GetAsync("ui/alerts");
        var rows = alerts.QuerySelectorAll("#lookalikes-table .lookalike-row");
        // The lookalike of the organization's own name comes first and stands out.
        Assert.Equal([("frobnicatro", "high"), ("reqeusts", "normal")], rows.Select(r => (r.GetAttribute("data-project"), r.GetAttribute("data-severity"))));
        Assert.NotNull(rows[0].QuerySelector(".organization-name"));
        Assert.Null(rows[1].QuerySelector(".organization-name"));
        Assert.Equal("/ui/projects/reqeusts", rows[1].QuerySelector("a")!.GetAttribute("href"));
        Assert.Contains("requests", rows[1].TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamNames_SnapshotAnEarlierVersionKeptUnderTheCache_IsUsedOnceThenMovedToTheStore()
    {
        await using var servers = await StartAsync(null, ManualJobs.Settings());
        var proxy = servers.Proxy;
        Assert.StartsWith("baseline: ", (await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key)).Message, StringComparison.Ordinal);
        // Where versions before the shared snapshot kept it: the node's cache directory.
        var stored = Path.Combine(proxy.Root, "data", "artifacts", UpstreamNameScreening.SnapshotKey);
        var legacy = Path.Combine(proxy.Root, "data", "cache", UpstreamNameScreening.LegacySnapshotFile);
        File.Move(stored, legacy);

        servers.Upstream.AddFile("reqeusts", "reqeusts-1.0.tar.gz", Encoding.UTF8.GetBytes("a lookalike of a popular project"));
        var upgraded = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);

        Assert.EndsWith(" names, 1 new, 1 flagged", upgraded.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(stored));
        Assert.False(File.Exists(legacy));
    }

    [Fact]
    public async Task UpstreamNames_InternalNameListedUpstream_RaisesTheAlertOnTheBaselineRunAndOnlyOnce()
    {
        await using var servers = await StartAsync(
            "internal: [acme-, acme_tools]\n",
            ManualJobs.Settings());
        var proxy = servers.Proxy;

        var baseline = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);
        var again = await JobsIntegrationTests.RunAsync(proxy, UpstreamNamesJob.Key);

        Assert.Equal((JobRunState.Succeeded, JobRunState.Succeeded), (baseline.Status, again.Status));
        Assert.StartsWith("baseline: ", baseline.Message, StringComparison.Ordinal);
        Assert.EndsWith("; 1 internal name(s) listed upstream (dependency-confusion alert)", baseline.Message, StringComparison.Ordinal);
        var incident = Assert.Single(await proxy.QueryAsync(db => db.Incidents.AsNoTracking().ToListAsync()));
        Assert.Equal((IncidentKind.DependencyConfusion, "acme-tools", IncidentSeverity.High), (incident.Kind, incident.Project, incident.Severity));
        Assert.EndsWith("(noticed in the upstream project list)", incident.Detail, StringComparison.Ordinal);
        var audit = Assert.Single(await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.AlertDependencyConfusion).ToListAsync()));
        Assert.Equal("project:acme-tools", audit.Subject);
        // Nobody asked for the name: the list alone raised the alert, and nothing of the project was fetched.
        Assert.Equal(0, servers.Upstream.HitsOn($"/packages/{InternalFile}"));
        Assert.Empty(await proxy.QueryAsync(db => db.ReviewRequests.AsNoTracking().ToListAsync()));
    }

    [Fact]
    public async Task Lookalike_InAnEnvironmentThatBlocksTyposquats_IsQuarantinedNamingTheImitatedProject()
    {
        await using var servers = await StartAsync("environments:\n  strict: { tier: 1, typosquat: block }\n");
        var proxy = servers.Proxy;

        var (status, page) = await ReviewIntegrationTests.PageAsync(proxy, $"strict/simple/{Lookalike}/");
        using var file = await proxy.Client.GetAsync($"strict/files/{Lookalike}/{LookalikeFile}");
        using var json = await proxy.Client.GetAsync($"strict/pypi/{Lookalike}/json");
        var (devStatus, devPage) = await ReviewIntegrationTests.PageAsync(proxy, $"dev/simple/{Lookalike}/");
        var (sixStatus, sixPage) = await ReviewIntegrationTests.PageAsync(proxy, "strict/simple/six/");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(page["files"]!.AsArray());
        var reason = ReviewIntegrationTests.QuarantineReason(page);
        Assert.Contains("blocked as a typosquat in environment 'strict'", reason, StringComparison.Ordinal);
        Assert.Contains("looks like 'colorama'", reason, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, file.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, json.StatusCode);
        Assert.Equal(0, servers.Upstream.HitsOn($"/packages/{LookalikeFile}"));
        // Warn (the default) serves the lookalike; the established name is served where lookalikes are blocked.
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (devStatus, sixStatus));
        Assert.Single(devPage["files"]!.AsArray());
        Assert.NotEmpty(sixPage["files"]!.AsArray());

        var explain = await proxy.GetJsonAsync($"api/v1/explain?env=strict&project={Lookalike}");
        Assert.Equal(("typosquat", "block"), (explain["rule"].Text(), explain["typosquat"]!["policy"].Text()));
    }

    [Fact]
    public async Task Lookalike_ApprovedByAReviewer_IsNotBlocked()
    {
        await using var servers = await StartAsync("environments:\n  strict: { tier: 1, typosquat: block }\n");
        var proxy = servers.Proxy;

        await proxy.PostJsonAsync($"api/v1/projects/{Lookalike}/approve", new { reason = "our own fork" });
        var (status, page) = await ReviewIntegrationTests.PageAsync(proxy, $"strict/simple/{Lookalike}/");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(ReviewIntegrationTests.QuarantineReason(page));
        Assert.Single(page["files"]!.AsArray());
    }

    [Fact]
    public async Task InternalName_PublishedUpstream_IsNeverServedAndRaisesOneHighSeverityAlert()
    {
        // Pages are stale at once, so every lookup would ask upstream again: only the raised alert stops that.
        await using var servers = await StartAsync("internal: [acme-, acme_tools]\n", new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" });
        var proxy = servers.Proxy;

        foreach (var env in new[] { "dev", "ci", "prod", "dev", "ci", "prod" })
        {
            // 404, exactly as an unknown name (issue 9, hole 5): pip and uv move on to the organization's own index.
            using var page = await proxy.Client.GetAsync($"{env}/simple/acme-tools/");
            Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
            using var file = await proxy.Client.GetAsync($"{env}/files/acme-tools/{InternalFile}");
            using var json = await proxy.Client.GetAsync($"{env}/pypi/acme-tools/json");
            Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (file.StatusCode, json.StatusCode));
        }

        Assert.Equal(0, servers.Upstream.HitsOn($"/packages/{InternalFile}"));
        Assert.Equal(0, servers.Upstream.HitsOn("/pypi/acme-tools/json"));
        // Once the alert is raised the node stops asking upstream about the name.
        Assert.Equal(1, servers.Upstream.HitsOn("/simple/acme-tools/"));
        var incident = Assert.Single(await proxy.QueryAsync(db => db.Incidents.AsNoTracking().ToListAsync()));
        Assert.Equal((IncidentKind.DependencyConfusion, "acme-tools", IncidentSeverity.High), (incident.Kind, incident.Project, incident.Severity));
        var audit = Assert.Single(await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.AlertDependencyConfusion).ToListAsync()));
        Assert.Equal(("system", "project:acme-tools"), (audit.Actor, audit.Subject));
        Assert.Empty(await proxy.QueryAsync(db => db.ReviewRequests.AsNoTracking().ToListAsync()));

        var explain = await proxy.GetJsonAsync("api/v1/explain?env=dev&project=acme-tools");
        Assert.Equal(("internal", false), (explain["rule"].Text(), explain["visible"]!.GetValue<bool>()));

        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        var (_, alerts, _) = await session.GetAsync("ui/alerts");
        var row = Assert.Single(alerts.QuerySelectorAll("#alerts-table .alert-row"));
        Assert.Equal(("acme-tools", "high"), (row.GetAttribute("data-project"), row.GetAttribute("data-severity")));
        var (_, dashboard, _) = await session.GetAsync("ui/");
        Assert.Equal("1", dashboard.QuerySelector("#high-alert-count")!.TextContent);
        Assert.NotNull(dashboard.QuerySelector("#nav-alerts"));
    }

    [Fact]
    public async Task InternalName_NotUpstream_IsHiddenAndRaisesNothing()
    {
        await using var servers = await StartAsync("internal: [acme-, acme_tools]\n");
        var proxy = servers.Proxy;

        using var page = await proxy.Client.GetAsync("dev/simple/acme-secret/");
        using var again = await proxy.Client.GetAsync("ci/simple/acme-secret/");

        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (page.StatusCode, again.StatusCode));
        Assert.Equal("404 Not Found\n", await page.Content.ReadAsStringAsync());
        Assert.Empty(await proxy.QueryAsync(db => db.Incidents.AsNoTracking().ToListAsync()));
        Assert.Empty(await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.AlertDependencyConfusion).ToListAsync()));

        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        var (_, dashboard, _) = await session.GetAsync("ui/");
        Assert.Null(dashboard.QuerySelector("#high-alerts-banner"));
        var (_, alerts, _) = await session.GetAsync("ui/alerts");
        Assert.NotNull(alerts.QuerySelector("#no-alerts"));
    }
}

public sealed class TyposquatIntegrationTestsOnSqlite : TyposquatIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class TyposquatIntegrationTestsOnPostgres : TyposquatIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

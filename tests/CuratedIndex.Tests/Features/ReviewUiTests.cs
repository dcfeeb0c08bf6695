using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Review;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features;

/// <summary>The approval UI over real HTTP, parsed with AngleSharp; runs once on SQLite and once on PostgreSQL.</summary>
public abstract class ReviewUiTests
{
    private const string Hostile = "<script>alert(1)</script>";

    protected abstract DatabaseProvider Provider { get; }

    private static async Task<FakePyPI> StartUpstreamAsync() => (await FakePyPI.StartAsync()).WithFixtureDists();

    private Task<ProxyInstance> StartProxyAsync(FakePyPI upstream, IDictionary<string, string>? settings = null) =>
        ProxyInstance.StartInProcessAsync(upstream.BaseUrl, Provider, settings);

    private static async Task<T> QueryAsync<T>(ProxyInstance proxy, Func<CuratedIndexDbContext, Task<T>> query)
    {
        await using var scope = proxy.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>());
    }

    [Fact]
    public async Task SignIn_WithFormAndToken_RedirectsToLocalReturnUrlWithHttpOnlyStrictCookies()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync("rita", UiSession.Password, Roles.Reviewer, "test", CancellationToken.None);
        using var session = new UiSession(proxy);

        using var anonymous = await session.Client.GetAsync("ui/queue");
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.StartsWith("/ui/login?ReturnUrl=", anonymous.Headers.Location!.PathAndQuery, StringComparison.Ordinal);

        var (page, _, _) = await session.GetAsync("ui/login");
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(page.Headers.Contains("Referrer-Policy"));
        AssertCookiesHardened(page);

        using var response = await session.SignInAsync("rita", path: "ui/login?ReturnUrl=%2Fui%2Fqueue%3Fstatus%3Dall");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/queue?status=all", response.Headers.Location!.OriginalString);
        AssertCookiesHardened(response);
        Assert.Contains(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("curated-index-session=", StringComparison.Ordinal));

        var (queue, document, _) = await session.GetAsync("ui/queue");
        Assert.Equal(HttpStatusCode.OK, queue.StatusCode);
        Assert.Equal("rita (reviewer)", document.QuerySelector("#signed-in-user")!.TextContent);

        // The index never pays for the UI's headers: it carries its own sandbox policy (issue 9, hole 7).
        using var index = await proxy.Client.GetAsync("dev/simple/six/");
        Assert.Equal(["sandbox"], index.Headers.GetValues("Content-Security-Policy"));
    }

    private static void AssertCookiesHardened(HttpResponseMessage response)
    {
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
        Assert.NotEmpty(cookies);
        Assert.All(cookies, c =>
        {
            Assert.Contains("httponly", c, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", c, StringComparison.OrdinalIgnoreCase);
        });
    }

    [Theory]
    [InlineData("//evil.example/")]
    [InlineData("https://evil.example/")]
    [InlineData("/\\evil.example/")]
    public async Task SignIn_WithForeignReturnUrl_GoesToTheDashboard(string returnUrl)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync("rita", UiSession.Password, Roles.Reviewer, "test", CancellationToken.None);
        using var session = new UiSession(proxy);

        using var response = await session.SignInAsync("rita", path: "ui/login?ReturnUrl=" + Uri.EscapeDataString(returnUrl));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/", response.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task SignIn_WrongPassword_ShowsTheSameRefusalAndNoSession()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync("rita", UiSession.Password, Roles.Reviewer, "test", CancellationToken.None);
        using var session = new UiSession(proxy);

        using var response = await session.SignInAsync("rita", "not the password at all");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await UiSession.ParseAsync(await response.Content.ReadAsStringAsync());
        Assert.NotNull(document.QuerySelector("#sign-in-failed"));
        Assert.DoesNotContain(session.Cookies.GetCookies(proxy.BaseUrl), c => c.Name == "curated-index-session");
    }

    [Fact]
    public async Task Posts_WithoutAntiforgeryToken_AreRefusedWith400AndChangeNothing()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync("rita", UiSession.Password, Roles.Reviewer, "test", CancellationToken.None);
        using var anonymous = new UiSession(proxy);
        await anonymous.GetAsync("ui/login"); // the antiforgery cookie alone is not enough

        using var login = await anonymous.PostAsync("ui/login", [new("UserName", "rita"), new("Password", UiSession.Password)]);
        Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
        Assert.DoesNotContain(anonymous.Cookies.GetCookies(proxy.BaseUrl), c => c.Name == "curated-index-session");

        using var session = new UiSession(proxy);
        using (var signIn = await session.SignInAsync("rita"))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        }

        using var decision = await session.PostAsync("ui/projects/six", [new("Verdict", "approve"), new("Reason", "looks fine")]);
        Assert.Equal(HttpStatusCode.BadRequest, decision.StatusCode);
        using var logout = await session.PostAsync("ui/logout", []);
        Assert.Equal(HttpStatusCode.BadRequest, logout.StatusCode);
        Assert.Equal(0, await QueryAsync(proxy, db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task ProjectPage_HostileUpstream_IsEscapedAndUnsafeLinksAreText()
    {
        await using var upstream = await StartUpstreamAsync();
        upstream.AddFile("evil", "evil-1.0-py3-none-any.whl", Encoding.UTF8.GetBytes("not really a wheel"), "2020-05-06T07:08:09.000000Z");
        upstream.Override["/pypi/evil/json"] = async context =>
        {
            var body = new JsonObject
            {
                ["info"] = new JsonObject
                {
                    ["name"] = Hostile,
                    ["version"] = "1.0\"><script>alert(3)</script>",
                    ["summary"] = Hostile,
                    ["home_page"] = "javascript:alert(1)",
                    ["author"] = "<img src=x onerror=alert(1)>",
                    ["author_email"] = "\"><script>alert(2)</script>@example.org",
                    ["project_urls"] = new JsonObject
                    {
                        ["Source"] = "https://example.org/evil?a=1&b=\"><script>alert(4)</script>",
                        ["<b>Docs</b>"] = "data:text/html,<script>alert(5)</script>",
                        ["Relative"] = "/ui/users",
                    },
                },
                ["releases"] = new JsonObject { ["1.0"] = new JsonArray(new JsonObject { ["upload_time_iso_8601"] = "2020-05-06T07:08:09.000000Z" }) },
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(body.ToJsonString());
        };
        await using var proxy = await StartProxyAsync(upstream);
        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        // A hostile reason from a reviewer is untrusted text too.
        await proxy.Services.GetRequiredService<ReviewQueue>().DecideAsync(["evil"], Verdict.Deferred, "<script>alert(6)</script>", "rita", CancellationToken.None);

        var (response, document, html) = await session.GetAsync("ui/projects/evil");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(document.QuerySelectorAll("script"));
        Assert.Empty(document.QuerySelectorAll("img"));
        Assert.Empty(document.QuerySelectorAll("b"));
        Assert.DoesNotContain("<script>", html, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(Hostile, document.QuerySelector("#summary")!.TextContent);
        Assert.Equal(Hostile, document.QuerySelector("#upstream-name")!.TextContent);
        Assert.Contains("<img src=x onerror=alert(1)>", document.QuerySelector("#people")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("<script>alert(6)</script>", document.QuerySelector("#history .reason")!.TextContent);

        var links = document.QuerySelectorAll("#links a");
        var link = Assert.Single(links);
        Assert.StartsWith("https://example.org/evil?", link.GetAttribute("href"), StringComparison.Ordinal);
        Assert.Equal("nofollow noopener noreferrer", link.GetAttribute("rel"));
        var unsafeLinks = document.QuerySelectorAll("#links .unsafe-link").Select(e => e.TextContent).ToList();
        Assert.Contains("javascript:alert(1)", unsafeLinks);
        Assert.Contains("data:text/html,<script>alert(5)</script>", unsafeLinks);
        Assert.Contains("/ui/users", unsafeLinks);
        Assert.Equal("2020-05-06", document.QuerySelector("#first-release")!.TextContent);
        Assert.Equal("1", document.QuerySelector("#release-count")!.TextContent);
        Assert.NotNull(document.QuerySelector("#no-typosquat-findings"));
    }

    [Fact]
    public async Task ProjectPage_UpstreamDownOrProjectMissing_ShowsANoteNotAnError()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        using var session = await UiSession.SignedInAsync(proxy, "vera", Roles.Viewer);

        var (missing, missingDocument, _) = await session.GetAsync("ui/projects/no-such-project");
        Assert.Equal(HttpStatusCode.OK, missing.StatusCode);
        Assert.Contains("does not exist upstream", missingDocument.QuerySelector(".evidence-note")!.TextContent, StringComparison.Ordinal);

        upstream.Down = true;
        var (down, downDocument, _) = await session.GetAsync("ui/projects/zipp");
        Assert.Equal(HttpStatusCode.OK, down.StatusCode);
        Assert.Contains("could not be read", downDocument.QuerySelector(".evidence-note")!.TextContent, StringComparison.Ordinal);
        Assert.NotEmpty(downDocument.QuerySelectorAll("#environments tr[data-environment]"));
    }

    [Fact]
    public async Task ProjectPage_ShowsPopularityRequestersAndEnvironmentAnswers()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        (await proxy.Client.GetAsync("ci/simple/six/")).Dispose();
        (await proxy.Client.GetAsync("ci/simple/six/")).Dispose();

        using (var redirect = await session.Client.GetAsync("ui/projects/Six"))
        {
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            Assert.Equal("/ui/projects/six", redirect.Headers.Location!.OriginalString);
        }

        var (_, document, _) = await session.GetAsync("ui/projects/six");

        Assert.Equal("six", document.QuerySelector("#project-name")!.FirstChild!.TextContent.Trim());
        Assert.StartsWith("rank 14 of", document.QuerySelector("#popularity")!.TextContent.Trim(), StringComparison.Ordinal);
        var requester = document.QuerySelector("#requesters tr.requester")!.TextContent;
        Assert.Contains("ci", requester, StringComparison.Ordinal);
        Assert.Contains("anonymous", requester, StringComparison.Ordinal);
        Assert.Contains("2", requester, StringComparison.Ordinal);
        Assert.Equal("visible", document.QuerySelector("tr[data-environment=dev] td:nth-child(3)")!.TextContent);
        Assert.Equal("hidden", document.QuerySelector("tr[data-environment=ci] td:nth-child(3)")!.TextContent);
        Assert.Equal("1.17.0", document.QuerySelector("#latest-version")!.TextContent);
    }

    [Fact]
    public async Task Viewer_CannotDecide_AndNothingIsRecorded()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        (await proxy.Client.GetAsync("ci/simple/six/")).Dispose();
        using var session = await UiSession.SignedInAsync(proxy, "vera", Roles.Viewer);

        var (_, project, _) = await session.GetAsync("ui/projects/six");
        Assert.Null(project.QuerySelector("#decision-form"));
        var (_, queue, _) = await session.GetAsync("ui/queue");
        Assert.Null(queue.QuerySelector("#bulk-form"));
        Assert.NotNull(queue.QuerySelector("tr[data-project=six] a[href='/ui/projects/six']"));

        // A valid antiforgery token (from the sign-out form) does not make a viewer a reviewer.
        var token = await session.TokenFromAsync("ui/queue");
        using var single = await session.PostAsync("ui/projects/six", [new("__RequestVerificationToken", token), new("Verdict", "approve"), new("Reason", "sneaky")]);
        using var bulk = await session.PostAsync("ui/queue", [new("__RequestVerificationToken", token), new("Projects", "six"), new("Verdict", "approve"), new("Reason", "sneaky")]);
        using var users = await session.Client.GetAsync("ui/users");

        foreach (var response in new[] { single, bulk, users })
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/ui/denied", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }

        Assert.Equal(0, await QueryAsync(proxy, db => db.ProjectDecisions.CountAsync()));
        Assert.Equal(VerdictText.Pending, await QueryAsync(proxy, db => db.ReviewRequests.Where(r => r.Project == "six").Select(r => r.Status).SingleAsync()));
        var (denied, _, _) = await session.GetAsync("ui/denied");
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
    }

    [Fact]
    public async Task Reviewer_ApprovesFromProjectPage_NextCiRequestServesFiles()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        using (var blocked = await proxy.Client.GetAsync("ci/simple/six/"))
        {
            Assert.DoesNotContain("six-1.17.0", await blocked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);

        // An empty reason is refused and changes nothing.
        using (var noReason = await session.SubmitAsync("ui/projects/six", "#decision-form", ("Verdict", "approve"), ("Reason", "  ")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
            Assert.Equal(0, await QueryAsync(proxy, db => db.ProjectDecisions.CountAsync()));
        }

        using var approve = await session.SubmitAsync("ui/projects/six", "#decision-form", ("Verdict", "approve"), ("Reason", "widely used, maintained"));
        Assert.Equal(HttpStatusCode.Redirect, approve.StatusCode);
        Assert.Equal("/ui/projects/six?decided=approved", approve.Headers.Location!.OriginalString);

        using var served = await proxy.Client.GetAsync("ci/simple/six/");
        Assert.Contains("/ci/files/six/six-1.17.0-py2.py3-none-any.whl", await served.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var (_, document, _) = await session.GetAsync("ui/projects/six?decided=approved");
        Assert.Equal("approved", document.QuerySelector("#current-status")!.TextContent);
        var decision = document.QuerySelector("#history tr.decision")!.TextContent;
        Assert.Contains("rita", decision, StringComparison.Ordinal);
        Assert.Contains("widely used, maintained", decision, StringComparison.Ordinal);
        Assert.Equal("visible", document.QuerySelector("tr[data-environment=ci] td:nth-child(3)")!.TextContent);

        var (_, audit, _) = await session.GetAsync("ui/audit");
        Assert.NotNull(audit.QuerySelector("#audit-intact"));
        Assert.Contains(audit.QuerySelectorAll("#audit-table tr[data-record]"), r => r.TextContent.Contains("project.approve", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reviewer_BulkDeniesFromQueue()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        // Four clients (demand counts a caller once per window): zipp is asked for by two of them.
        foreach (var (project, client) in new[] { ("six", "10.0.0.1"), ("zipp", "10.0.0.2"), ("zipp", "10.0.0.3"), ("wheel", "10.0.0.4") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"ci/simple/{project}/");
            request.Headers.Add("X-Forwarded-For", client);
            (await proxy.Client.SendAsync(request)).Dispose();
        }

        using var session = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);
        var (_, queue, _) = await session.GetAsync("ui/queue?sort=demand");
        Assert.Equal(["zipp", "six", "wheel"], queue.QuerySelectorAll("#queue-table tbody tr").Select(r => r.GetAttribute("data-project")!).ToArray());

        using var response = await session.SubmitAsync("ui/queue?sort=demand", "#bulk-form", ("Projects", "six"), ("Projects", "zipp"), ("Verdict", "deny"), ("Reason", "not needed"));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var statuses = await QueryAsync(proxy, db => db.ReviewRequests.OrderBy(r => r.Project).Select(r => r.Project + "=" + r.Status).ToListAsync());
        Assert.Equal(["six=denied", "wheel=pending", "zipp=denied"], statuses);
        var (_, after, _) = await session.GetAsync(response.Headers.Location!.OriginalString.TrimStart('/'));
        Assert.Contains("2 project(s) denied", after.QuerySelector("#decision-done")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(["wheel"], after.QuerySelectorAll("#queue-table tbody tr").Select(r => r.GetAttribute("data-project")!).ToArray());
        var (_, denied, _) = await session.GetAsync("ui/queue?status=denied&q=zi");
        Assert.Equal(["zipp"], denied.QuerySelectorAll("#queue-table tbody tr").Select(r => r.GetAttribute("data-project")!).ToArray());
    }

    [Fact]
    public async Task SignIn_AfterConfiguredAttempts_Answers429()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream, new Dictionary<string, string> { ["Auth:SignInAttemptsPerMinute"] = "3" });
        await proxy.Services.GetRequiredService<AccountService>().CreateUserAsync("rita", UiSession.Password, Roles.Reviewer, "test", CancellationToken.None);
        using var session = new UiSession(proxy);

        for (var i = 0; i < 3; i++)
        {
            using var wrong = await session.SignInAsync("rita", "wrong password " + i);
            Assert.Equal(HttpStatusCode.OK, wrong.StatusCode);
        }

        // Even the right password waits: the throttle answers before the password is checked.
        using var throttled = await session.SignInAsync("rita");
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Contains("Too many sign-in attempts", await throttled.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(session.Cookies.GetCookies(proxy.BaseUrl), c => c.Name == "curated-index-session");
    }

    [Fact]
    public async Task Dashboard_ShowsCountsAndServerRenderedCharts()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        (await proxy.Client.GetAsync("ci/simple/six/")).Dispose();
        (await proxy.Client.GetAsync("ci/simple/zipp/")).Dispose();
        (await proxy.Client.GetAsync("dev/simple/six/")).Dispose();
        await proxy.Services.GetRequiredService<RequestCounter>().FlushAsync(CancellationToken.None);
        await proxy.Services.GetRequiredService<ReviewQueue>().DecideAsync(["zipp"], Verdict.Approved, "fine", "rita", CancellationToken.None);
        using var session = await UiSession.SignedInAsync(proxy, "vera", Roles.Viewer);

        var (response, document, _) = await session.GetAsync("ui/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1", document.QuerySelector("#count-pending strong")!.TextContent);
        Assert.Equal("1", document.QuerySelector("#count-approved strong")!.TextContent);
        Assert.NotNull(document.QuerySelector("#requests-ci svg rect title"));
        Assert.Contains("2 blocked", document.QuerySelector("#requests-ci svg rect title")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("1 served", document.QuerySelector("#requests-dev svg rect title")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("1 pending", document.QuerySelectorAll("#queue-size svg rect title")[^1].TextContent, StringComparison.Ordinal);
        Assert.NotEmpty(document.QuerySelectorAll("#blocked svg rect"));
    }

    [Fact]
    public async Task Tokens_CreatedSecretIsShownOnceWorksOnTheApiAndCanBeRevoked()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        using var session = await UiSession.SignedInAsync(proxy, "vera", Roles.Viewer);

        using var created = await session.SubmitAsync("ui/tokens", "#create-token-form", ("TokenName", "laptop"));
        var document = await UiSession.ParseAsync(await created.Content.ReadAsStringAsync());
        var secret = document.QuerySelector("#token-secret")!.TextContent;
        Assert.StartsWith(AccountService.TokenPrefix, secret, StringComparison.Ordinal);

        using var me = new HttpRequestMessage(HttpMethod.Get, "api/v1/me");
        me.Headers.Authorization = new("Bearer", secret);
        using (var api = await proxy.Client.SendAsync(me))
        {
            Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        }

        var (_, list, listHtml) = await session.GetAsync("ui/tokens");
        Assert.DoesNotContain(secret, listHtml, StringComparison.Ordinal);
        var row = list.QuerySelector("#tokens-table tr[data-token]")!;
        Assert.Contains("laptop", row.TextContent, StringComparison.Ordinal);

        using var revoked = await session.SubmitAsync("ui/tokens", "#tokens-table tr[data-token] form", ("TokenId", row.GetAttribute("data-token")!));
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(1, await QueryAsync(proxy, db => db.ApiTokens.CountAsync(t => t.RevokedAt != null)));
    }

    [Fact]
    public async Task Users_AdminCreatesAnAccountThatCanSignIn_OthersAreDenied()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var proxy = await StartProxyAsync(upstream);
        using var admin = await UiSession.SignedInAsync(proxy, "ada", Roles.Admin);
        using var reviewer = await UiSession.SignedInAsync(proxy, "rita", Roles.Reviewer);

        using (var denied = await reviewer.Client.GetAsync("ui/users"))
        {
            Assert.Equal(HttpStatusCode.Redirect, denied.StatusCode);
            Assert.StartsWith("/ui/denied", denied.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }

        var (_, page, _) = await admin.GetAsync("ui/users");
        Assert.NotNull(page.QuerySelector("#nav-users"));
        using var created = await admin.SubmitAsync("ui/users", "#create-user-form", ("UserName", "newbie"), ("Password", UiSession.Password), ("Role", Roles.Viewer));
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        using var disable = await admin.SubmitAsync("ui/users", "tr[data-user=rita] form[action*=Disable]");
        Assert.Equal(HttpStatusCode.OK, disable.StatusCode);

        // Disabling ends rita's session at her next request.
        using (var ended = await reviewer.Client.GetAsync("ui/queue"))
        {
            Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
            Assert.StartsWith("/ui/login", ended.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }

        using var newbie = new UiSession(proxy);
        using var signIn = await newbie.SignInAsync("newbie");
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var (_, viewerPage, _) = await newbie.GetAsync("ui/");
        Assert.Null(viewerPage.QuerySelector("#nav-users"));
    }
}

public sealed class ReviewUiTestsOnSqlite : ReviewUiTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ReviewUiTestsOnPostgres : ReviewUiTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

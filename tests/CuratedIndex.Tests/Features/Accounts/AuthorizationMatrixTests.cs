using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Tests.Features.Accounts;

/// <summary>One proxy per database for the whole matrix: viewer, reviewer and admin accounts with tokens, and a valid admin UI session cookie.</summary>
public abstract class AuthorizationMatrixFixture : IAsyncLifetime
{
    private TestServers? _servers;

    protected abstract DatabaseProvider Provider { get; }

    public ProxyInstance Proxy => _servers!.Proxy;

    public Dictionary<string, string> Tokens { get; } = new(StringComparer.Ordinal);

    /// <summary>The Cookie header of a signed-in admin's UI session.</summary>
    public string AdminSessionCookie { get; private set; } = "";

    /// <summary>One review UI session per role, each signed in through the real login form.</summary>
    public Dictionary<string, UiSession> UiSessions { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        // The UI matrix signs in through the real form more often than the default per-address limit allows.
        // The scheduler runs so that "Run now" can be exercised; no job fires on its own during the matrix.
        // In process (WebApplicationFactory, no socket): the matrix needs no external client.
        _servers = await TestServers.StartAsync(Provider, settings: ManualJobs.Settings(new Dictionary<string, string> { ["Auth:SignInAttemptsPerMinute"] = "1000" }), inProcess: true);
        foreach (var role in Roles.All)
        {
            Tokens[role] = await Proxy.CreateUserWithTokenAsync($"matrix-{role}", role);
        }

        await Proxy.PostJsonAsync("api/v1/users", new { userName = "matrix-target", password = "a long enough password", role = "viewer" });
        await Proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "so that its review exists" });
        AdminSessionCookie = await SessionCookieAsync("matrix-admin");

        await Proxy.PostJsonAsync("api/v1/users", new { userName = "matrix-ui-target", password = "a long enough password", role = "viewer" });
        foreach (var role in Roles.All)
        {
            UiSessions[role] = await SignedInSessionAsync(role);
        }
    }

    /// <summary>A new session signed in as <c>matrix-{role}</c> through the login form (the caller disposes it).</summary>
    public async Task<UiSession> SignedInSessionAsync(string role)
    {
        var session = new UiSession(Proxy);
        using var response = await session.SignInAsync($"matrix-{role}");
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"signing in as matrix-{role} answered {(int)response.StatusCode}");
        return session;
    }

    // A real session ticket, protected by the app's own cookie handler settings, and checked to authenticate.
    private async Task<string> SessionCookieAsync(string userName)
    {
        var user = await Proxy.QueryAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.UserName == userName));
        var options = Proxy.Services.GetRequiredService<IOptionsMonitor<CookieAuthenticationOptions>>().Get(AccountsRegistration.CookieScheme);
        var ticket = new AuthenticationTicket(AccountsRegistration.CookiePrincipal(user), AccountsRegistration.CookieScheme);
        var cookie = $"{options.Cookie.Name}={options.TicketDataFormat.Protect(ticket)}";

        await using var scope = Proxy.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Headers.Cookie = cookie;
        var result = await context.AuthenticateAsync(AccountsRegistration.CookieScheme);
        Assert.True(result.Succeeded, "the session cookie made for the matrix does not authenticate");
        return cookie;
    }

    public async Task DisposeAsync()
    {
        foreach (var session in UiSessions.Values)
        {
            session.Dispose();
        }

        if (_servers is not null)
        {
            await _servers.DisposeAsync();
        }
    }
}

public sealed class SqliteAuthorizationMatrixFixture : AuthorizationMatrixFixture
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class PostgresAuthorizationMatrixFixture : AuthorizationMatrixFixture
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

/// <summary>
/// Every API endpoint × every kind of caller, asserting the exact status. The endpoint list is explicit: a new
/// endpoint fails <see cref="EveryApiEndpoint_IsInTheMatrixAndHasAnAuthorizationPolicy"/> until it is added here.
/// </summary>
public abstract class AuthorizationMatrixTests(AuthorizationMatrixFixture fixture)
{
    public const string None = "none";
    public const string InvalidToken = "invalid-token";
    public const string AdminTokenAsBasic = "admin-token-as-basic";
    public const string AdminSessionCookieOnly = "admin-session-cookie-only";
    public const string Bootstrap = "bootstrap";

    private static int _unique;

    /// <summary>Method, route template, a concrete path, JSON body (null: none), the weakest role allowed, and the status it gets.</summary>
    public static readonly IReadOnlyList<(string Method, string Template, string Path, string? Body, string Role, int Status)> ApiEndpoints =
    [
        ("GET", "/api/v1/reviews", "/api/v1/reviews?status=all", null, Roles.Viewer, 200),
        ("GET", "/api/v1/reviews/{project}", "/api/v1/reviews/six", null, Roles.Viewer, 200),
        ("GET", "/api/v1/explain", "/api/v1/explain?env=ci&project=six", null, Roles.Viewer, 200),
        ("GET", "/api/v1/audit", "/api/v1/audit?limit=5", null, Roles.Viewer, 200),
        ("GET", "/api/v1/audit/verify", "/api/v1/audit/verify", null, Roles.Viewer, 200),
        ("GET", "/api/v1/me", "/api/v1/me", null, Roles.Viewer, 200),
        ("GET", "/api/v1/users", "/api/v1/users", null, Roles.Admin, 200),
        ("POST", "/api/v1/projects/{name}/approve", "/api/v1/projects/six/approve", """{"reason":"matrix"}""", Roles.Reviewer, 200),
        ("POST", "/api/v1/projects/{name}/deny", "/api/v1/projects/zipp/deny", """{"reason":"matrix"}""", Roles.Reviewer, 200),
        ("POST", "/api/v1/projects/{name}/defer", "/api/v1/projects/jmespath/defer", """{"reason":"matrix"}""", Roles.Reviewer, 200),
        ("POST", "/api/v1/projects/{name}/approve", "/api/v1/projects/six/approve", """{"reason":""}""", Roles.Reviewer, 400),
        ("POST", "/api/v1/decisions", "/api/v1/decisions", """{"projects":["first"],"verdict":"approved","reason":"matrix"}""", Roles.Reviewer, 200),
        ("POST", "/api/v1/users", "/api/v1/users", """{"userName":"{unique}","password":"a long enough password","role":"viewer"}""", Roles.Admin, 201),
        ("POST", "/api/v1/users", "/api/v1/users", """{"userName":"{unique}","password":"short","role":"viewer"}""", Roles.Admin, 400),
        ("POST", "/api/v1/users/{userName}/role", "/api/v1/users/matrix-target/role", """{"role":"viewer"}""", Roles.Admin, 200),
        ("GET", "/api/v1/releases", "/api/v1/releases?status=all", null, Roles.Viewer, 200),
        ("GET", "/api/v1/projects/{name}/releases/{version}", "/api/v1/projects/six/releases/1.17.0", null, Roles.Viewer, 200),
        // Inside prod's 7-day cooldown: a reviewer is refused with 409 (break-glass is an admin's, with a reason).
        ("POST", "/api/v1/projects/{name}/releases/{version}/vet", "/api/v1/projects/six/releases/1.17.0/vet", """{"reason":"matrix"}""", Roles.Reviewer, 409),
        ("POST", "/api/v1/projects/{name}/releases/{version}/vet", "/api/v1/projects/six/releases/1.17.0/vet", """{"reason":"matrix","criteria":"safe-to-fly"}""", Roles.Reviewer, 400),
        ("POST", "/api/v1/projects/{name}/releases/{version}/reject", "/api/v1/projects/zipp/releases/3.6.0/reject", """{"reason":"matrix"}""", Roles.Reviewer, 200),
        ("GET", "/api/v1/projects/{name}/versions", "/api/v1/projects/six/versions?env=prod", null, Roles.Viewer, 200),
        ("GET", "/api/v1/projects/{name}/versions", "/api/v1/projects/six/versions?env=staging", null, Roles.Viewer, 404),
        ("GET", "/api/v1/vettings/export", "/api/v1/vettings/export", null, Roles.Viewer, 200),
        ("GET", "/api/v1/vettings/export", "/api/v1/vettings/export?since=yesterday", null, Roles.Viewer, 400),
        // An empty audits file in a dry run: 200 with no entries; a version this reader does not know: 400.
        ("POST", "/api/v1/vettings/import", "/api/v1/vettings/import?dryRun=true", """{"format":"curated-index-audits","version":1,"organization":"matrix","exportedAt":"2026-12-01T00:00:00Z","vettings":[]}""", Roles.Admin, 200),
        ("POST", "/api/v1/vettings/import", "/api/v1/vettings/import", """{"format":"curated-index-audits","version":2}""", Roles.Admin, 400),
        ("GET", "/api/v1/projects/{name}/closure", "/api/v1/projects/six/closure?env=ci", null, Roles.Viewer, 200),
        ("GET", "/api/v1/projects/{name}/closure", "/api/v1/projects/six/closure", null, Roles.Viewer, 400),
        ("POST", "/api/v1/projects/{name}/approve", "/api/v1/projects/six/approve", """{"reason":"matrix","dependencies":true,"env":"ci"}""", Roles.Reviewer, 200),
        ("POST", "/api/v1/projects/{name}/approve", "/api/v1/projects/six/approve", """{"reason":"matrix","dependencies":true}""", Roles.Reviewer, 400),
        // With its dependencies too, a release inside prod's cooldown is refused with 409 and nothing is decided.
        ("POST", "/api/v1/projects/{name}/releases/{version}/vet", "/api/v1/projects/six/releases/1.17.0/vet", """{"reason":"matrix","dependencies":true,"env":"prod"}""", Roles.Reviewer, 409),
        ("GET", "/api/v1/projects/{name}/publishers", "/api/v1/projects/six/publishers", null, Roles.Viewer, 200),
        // Vetting the same entry again answers 200 (already vetted); an entry without a workflow is refused.
        ("POST", "/api/v1/projects/{name}/publishers", "/api/v1/projects/six/publishers", """{"publisher":"github:benjaminp/six/.github/workflows/release.yml","reason":"matrix"}""", Roles.Reviewer, 200),
        ("POST", "/api/v1/projects/{name}/publishers", "/api/v1/projects/six/publishers", """{"publisher":"github:benjaminp/six","reason":"matrix"}""", Roles.Reviewer, 400),
        ("DELETE", "/api/v1/projects/{name}/publishers", "/api/v1/projects/six/publishers", """{"publisher":"github:matrix/never-vetted/.github/workflows/release.yml","reason":"matrix"}""", Roles.Reviewer, 404),
        ("DELETE", "/api/v1/projects/{name}/publishers", "/api/v1/projects/six/publishers", """{"publisher":"github:benjaminp/six/.github/workflows/release.yml","reason":""}""", Roles.Reviewer, 400),
        ("POST", "/api/v1/jobs/{key}/run", "/api/v1/jobs/Scrub/run", null, Roles.Admin, 202),
        ("POST", "/api/v1/jobs/{key}/run", "/api/v1/jobs/no-such-job/run", null, Roles.Admin, 404),
    ];

    /// <summary>The weakest "role" of a UI route anyone may use, signed in or not.</summary>
    public const string Anyone = "anyone";

    /// <summary>
    /// Every review UI page and handler: method, route template, a concrete path (with <c>?handler=</c> for named
    /// handlers), the form fields posted (null for a GET; <c>{unique}</c> (also inside a value), <c>{token}</c>, <c>{foreign-token}</c>
    /// and <c>{vetted-publisher}</c> are filled in per call),
    /// the weakest role allowed, and the status and Location that role gets. Callers below that role get the cookie
    /// scheme's answer: anonymous → 302 to the login page, signed in → 302 to the denied page, and nothing changes.
    /// A new page or handler fails <see cref="EveryUiPageAndHandler_IsInTheMatrixAndRequiresSignIn"/> until it is listed here.
    /// </summary>
    public static readonly IReadOnlyList<(string Method, string Template, string Path, string? Body, string Role, int Status, string? Location)> UiEndpoints =
    [
        ("GET", "/ui/login", "/ui/login", null, Anyone, 200, null),
        ("POST", "/ui/login", "/ui/login", "UserName=matrix-viewer&Password=correct horse battery staple", Anyone, 302, "/ui/"),
        ("GET", "/ui/logout", "/ui/logout", null, Roles.Viewer, 200, null),
        ("POST", "/ui/logout", "/ui/logout", "", Roles.Viewer, 302, "/ui/login"),
        ("GET", "/ui/denied", "/ui/denied", null, Roles.Viewer, 403, null),
        ("GET", "/ui", "/ui/", null, Roles.Viewer, 200, null),
        ("GET", "/ui/queue", "/ui/queue", null, Roles.Viewer, 200, null),
        ("POST", "/ui/queue", "/ui/queue", "Projects=matrix-bulk-one&Projects=matrix-bulk-two&Verdict=approve&Reason=matrix", Roles.Reviewer, 302, "/ui/queue?status=pending&sort=demand&p=1&decided=2&outcome=approved"),
        ("POST", "/ui/queue", "/ui/queue", "Projects=matrix-bulk-one&Verdict=approve&Reason=", Roles.Reviewer, 400, null),
        ("GET", "/ui/projects/{name}", "/ui/projects/six", null, Roles.Viewer, 200, null),
        ("POST", "/ui/projects/{name}", "/ui/projects/six", "Verdict=approve&Reason=matrix", Roles.Reviewer, 302, "/ui/projects/six?decided=approved"),
        ("POST", "/ui/projects/{name}", "/ui/projects/zipp", "Verdict=deny&Reason=matrix", Roles.Reviewer, 302, "/ui/projects/zipp?decided=denied"),
        ("POST", "/ui/projects/{name}", "/ui/projects/jmespath", "Verdict=defer&Reason=matrix", Roles.Reviewer, 302, "/ui/projects/jmespath?decided=deferred"),
        ("POST", "/ui/projects/{name}", "/ui/projects/six", "Verdict=approve&Reason=", Roles.Reviewer, 400, null),
        ("POST", "/ui/projects/{name}", "/ui/projects/six?handler=VetPublisher", "Publisher=github:matrix/{unique}/.github/workflows/release.yml&PublisherFrom=2026-01-01&PublisherReason=matrix", Roles.Reviewer, 302, "/ui/projects/six?publishers=vetted#publishers"),
        ("POST", "/ui/projects/{name}", "/ui/projects/six?handler=VetPublisher", "Publisher=github:benjaminp/six&PublisherReason=matrix", Roles.Reviewer, 400, null),
        ("POST", "/ui/projects/{name}", "/ui/projects/six?handler=RemovePublisher", "Publisher={vetted-publisher}&PublisherReason=matrix", Roles.Reviewer, 302, "/ui/projects/six?publishers=removed#publishers"),
        ("POST", "/ui/projects/{name}", "/ui/projects/six?handler=RemovePublisher", "Publisher={vetted-publisher}&PublisherReason=", Roles.Reviewer, 400, null),
        ("GET", "/ui/releases", "/ui/releases?status=all", null, Roles.Viewer, 200, null),
        ("GET", "/ui/projects/{name}/releases/{version}", "/ui/projects/six/releases/1.17.0", null, Roles.Viewer, 200, null),
        ("POST", "/ui/projects/{name}/releases/{version}", "/ui/projects/zipp/releases/3.6.0", "Action=reject&Reason=matrix", Roles.Reviewer, 302, "/ui/projects/zipp/releases/3.6.0?decided=rejected"),
        ("GET", "/ui/audit", "/ui/audit", null, Roles.Viewer, 200, null),
        ("GET", "/ui/alerts", "/ui/alerts", null, Roles.Viewer, 200, null),
        ("GET", "/ui/tokens", "/ui/tokens", null, Roles.Viewer, 200, null),
        ("POST", "/ui/tokens", "/ui/tokens?handler=Create", "TokenName={unique}", Roles.Viewer, 200, null),
        ("POST", "/ui/tokens", "/ui/tokens?handler=Revoke", "TokenId={token}", Roles.Viewer, 200, null),
        ("POST", "/ui/tokens", "/ui/tokens?handler=Revoke", "TokenId={foreign-token}", Roles.Viewer, 400, null),
        ("GET", "/ui/users", "/ui/users", null, Roles.Admin, 200, null),
        ("POST", "/ui/users", "/ui/users?handler=Create", "UserName={unique}&Password=a long enough password&Role=viewer", Roles.Admin, 200, null),
        ("POST", "/ui/users", "/ui/users?handler=Role", "UserName=matrix-ui-target&Role=reviewer", Roles.Admin, 200, null),
        ("POST", "/ui/users", "/ui/users?handler=Disable", "UserName=matrix-ui-target&Disabled=true", Roles.Admin, 200, null),
        ("POST", "/ui/users", "/ui/users?handler=Password", "UserName=matrix-ui-target&Password=another long enough password", Roles.Admin, 200, null),
        ("GET", "/ui/jobs", "/ui/jobs", null, Roles.Viewer, 200, null),
        ("POST", "/ui/jobs", "/ui/jobs?handler=Run", "job=Scrub", Roles.Admin, 200, null),
    ];

    /// <summary>
    /// The UI routes that are not Razor pages (the Hangfire Dashboard), each with a few concrete paths, the weakest role
    /// allowed and the status it gets. Callers below it get the cookie scheme's answer, as for pages.
    /// </summary>
    public static readonly IReadOnlyList<(string Template, string[] Paths, string Role, int Status)> UiOtherEndpoints =
    [
        ("/ui/jobs/dashboard/{**path}", ["/ui/jobs/dashboard", "/ui/jobs/dashboard/recurring", "/ui/jobs/dashboard/jobs/failed", "/ui/jobs/dashboard/servers"], Roles.Admin, 200),
    ];

    public static readonly IReadOnlyList<string> UiCallers = [None, Roles.Viewer, Roles.Reviewer, Roles.Admin];

    public static readonly IReadOnlyList<string> Callers = [None, InvalidToken, AdminTokenAsBasic, AdminSessionCookieOnly, Roles.Viewer, Roles.Reviewer, Roles.Admin, Bootstrap];

    public static TheoryData<string, string, string, string> ApiMatrix()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var endpoint in ApiEndpoints)
        {
            foreach (var caller in Callers)
            {
                data.Add(endpoint.Method, endpoint.Path, endpoint.Body ?? "", caller);
            }
        }

        return data;
    }

    private static int Rank(string role) => role switch
    {
        Roles.Viewer => 1,
        Roles.Reviewer => 2,
        Roles.Admin or Bootstrap => 3,
        Anyone => -1,
        _ => 0,
    };

    [Theory]
    [MemberData(nameof(ApiMatrix))]
    public async Task ApiEndpoint_ForEachCaller_AnswersExactly(string method, string path, string body, string caller)
    {
        var endpoint = ApiEndpoints.Single(e => e.Method == method && e.Path == path && (e.Body ?? "") == body);
        using var request = new HttpRequestMessage(new HttpMethod(method), path.TrimStart('/'));
        if (body.Length > 0)
        {
            request.Content = new StringContent(body.Replace("{unique}", $"matrix-new-{Interlocked.Increment(ref _unique)}-{Guid.NewGuid():N}"[..40], StringComparison.Ordinal), Encoding.UTF8, "application/json");
        }

        switch (caller)
        {
            case None:
                break;
            case InvalidToken:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "cidx_this-token-was-never-issued-0000");
                break;
            case AdminTokenAsBasic:
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"__token__:{fixture.Tokens[Roles.Admin]}")));
                break;
            case AdminSessionCookieOnly:
                request.Headers.Add("Cookie", fixture.AdminSessionCookie);
                break;
            case Bootstrap:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiTestKit.BootstrapToken);
                break;
            default:
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fixture.Tokens[caller]);
                break;
        }

        using var response = await fixture.Proxy.Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        var expected = Rank(caller) == 0 ? 401 : Rank(caller) < Rank(endpoint.Role) ? 403 : endpoint.Status;
        Assert.True(expected == (int)response.StatusCode, $"{method} {path} as {caller}: expected {expected}, got {(int)response.StatusCode} {text}");
        if (expected == 401)
        {
            Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void EveryApiEndpoint_IsInTheMatrixAndHasAnAuthorizationPolicy()
    {
        var endpoints = fixture.Proxy.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => ("/" + e.RoutePattern.RawText!.TrimStart('/')).StartsWith("/api/", StringComparison.Ordinal))
            .ToList();
        var mapped = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints)
        {
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"];
            var route = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            Assert.True(policies.Count > 0 && policies.All(p => p is not null), $"{route} has no authorization policy");
            Assert.Null(endpoint.Metadata.GetMetadata<IAllowAnonymous>());
            foreach (var method in methods)
            {
                mapped.Add($"{method} {route}");
            }
        }

        var listed = new SortedSet<string>(ApiEndpoints.Select(e => $"{e.Method} {e.Template}"), StringComparer.Ordinal);
        Assert.Equal(listed, mapped);
    }

    public static TheoryData<string, string, string, string> UiMatrix()
    {
        var data = new TheoryData<string, string, string, string>();
        foreach (var endpoint in UiEndpoints)
        {
            foreach (var caller in UiCallers)
            {
                data.Add(endpoint.Method, endpoint.Path, endpoint.Body ?? "", caller);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(UiMatrix))]
    public async Task UiEndpoint_ForEachCaller_AnswersExactlyAndRefusalsChangeNothing(string method, string path, string body, string caller)
    {
        var endpoint = UiEndpoints.Single(e => e.Method == method && e.Path == path && (e.Body ?? "") == body);
        var allowed = Rank(caller) >= Rank(endpoint.Role);

        // Signing in and out replaces the session's cookie: those POSTs get a session of their own.
        var ownSession = method == "POST" && endpoint.Template is ("/ui/login" or "/ui/logout");
        using var fresh = !ownSession ? null : caller == None ? new UiSession(fixture.Proxy) : await fixture.SignedInSessionAsync(caller);
        var session = fresh ?? (caller == None ? null : fixture.UiSessions[caller]);
        using var anonymous = session is null ? new UiSession(fixture.Proxy) : null;
        session ??= anonymous!;

        HttpResponseMessage response;
        string before;
        if (method == "GET")
        {
            before = await SnapshotAsync();
            response = await session.Client.GetAsync(path.TrimStart('/'));
        }
        else
        {
            // A valid antiforgery token of this very session, so that the answer measures the role check: from the
            // page itself when the caller may see it, else from a page they can (the login page for anonymous callers).
            var page = UiEndpoints.First(e => e.Method == "GET" && e.Template == endpoint.Template);
            var tokenPage = Rank(caller) >= Rank(page.Role) ? page.Path : caller == None ? "/ui/login" : "/ui/";
            var antiforgery = await session.TokenFromAsync(tokenPage.TrimStart('/'));
            var fields = await FormFieldsAsync(body, caller);
            fields.Add(new("__RequestVerificationToken", antiforgery));
            before = await SnapshotAsync();
            response = await session.PostAsync(path.TrimStart('/'), fields);
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            var location = Location(response);
            var what = $"{method} {path} [{body}] as {caller}: got {(int)response.StatusCode} {location} {text[..Math.Min(text.Length, 300)]}";
            if (allowed)
            {
                Assert.True(endpoint.Status == (int)response.StatusCode, $"expected {endpoint.Status}; {what}");
                Assert.True(endpoint.Location == location, $"expected Location {endpoint.Location}; {what}");

                // The success of an action is a change (so the unchanged check below can see one); a refused form is none.
                if (method == "POST" && endpoint.Template is not ("/ui/login" or "/ui/logout"))
                {
                    var after = await SnapshotAsync();
                    Assert.True(endpoint.Status == 400 ? before == after : before != after, $"expected {(endpoint.Status == 400 ? "no change" : "a change")}; {what}");
                }

                // Signing in opens the dashboard to the session; signing out closes it again.
                if (ownSession)
                {
                    using var home = await session.Client.GetAsync("ui/");
                    var expectedHome = endpoint.Template == "/ui/login" ? HttpStatusCode.OK : HttpStatusCode.Redirect;
                    Assert.True(expectedHome == home.StatusCode, $"GET /ui/ after {what}: {(int)home.StatusCode}");
                }

                return;
            }

            var refusal = caller == None ? "/ui/login" : "/ui/denied";
            Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"expected 302 to {refusal}; {what}");
            Assert.Equal($"{refusal}?ReturnUrl={Uri.EscapeDataString(path)}", location);
            Assert.Equal(before, await SnapshotAsync());
        }
    }

    // Path and query of the Location header: the cookie scheme answers absolute URLs on this host, pages relative ones.
    private string? Location(HttpResponseMessage response)
    {
        var location = response.Headers.Location?.OriginalString;
        var origin = fixture.Proxy.BaseUrl.GetLeftPart(UriPartial.Authority);
        return location is not null && location.StartsWith(origin + "/", StringComparison.Ordinal) ? location[origin.Length..] : location;
    }

    // The posted fields; {unique} becomes a fresh name, {token} the id of a live token of the caller (anonymous: the
    // viewer's), {foreign-token} one of another account, which no caller may revoke from their own tokens page,
    // {vetted-publisher} a publisher just vetted for six by a reviewer (so each caller has one to remove).
    private async Task<List<KeyValuePair<string, string>>> FormFieldsAsync(string body, string caller)
    {
        var fields = new List<KeyValuePair<string, string>>();
        foreach (var pair in body.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, value) = (pair[..pair.IndexOf('=', StringComparison.Ordinal)], pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            if (value.Contains("{unique}", StringComparison.Ordinal))
            {
                value = value.Replace("{unique}", $"m-{Interlocked.Increment(ref _unique)}-{Guid.NewGuid():N}"[..30], StringComparison.Ordinal);
            }
            else if (value == "{vetted-publisher}")
            {
                value = $"github:matrix/v-{Interlocked.Increment(ref _unique)}-{Guid.NewGuid():N}"[..40] + "/.github/workflows/release.yml";
                var vetted = await fixture.Proxy.Services.GetRequiredService<CuratedIndex.Features.Provenance.PublisherVetting>()
                    .VetAsync("six", value, null, null, "to be removed by the matrix", "matrix-reviewer", CancellationToken.None);
                Assert.True(vetted.Done, vetted.Message);
            }
            else if (value is "{token}" or "{foreign-token}")
            {
                var owner = value == "{foreign-token}" ? "matrix-target" : $"matrix-{(caller == None ? Roles.Viewer : caller)}";
                var user = await fixture.Proxy.QueryAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.UserName == owner));
                var created = await fixture.Proxy.Services.GetRequiredService<AccountService>().CreateTokenAsync(user.Id, $"revoke-me-{Interlocked.Increment(ref _unique)}", owner, CancellationToken.None);
                value = created.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            fields.Add(new(name, value));
        }

        return fields;
    }

    // Everything a UI action can change: accounts, tokens, decisions and the audit log.
    private async Task<string> SnapshotAsync() => await fixture.Proxy.QueryAsync(async db =>
    {
        var users = await db.Users.AsNoTracking().OrderBy(u => u.Id).Select(u => u.UserName + ":" + u.Role + ":" + u.Disabled + ":" + u.SecurityStamp + ":" + u.PasswordHash).ToListAsync();
        var tokens = await db.ApiTokens.AsNoTracking().OrderBy(t => t.Id).Select(t => t.Id + ":" + (t.RevokedAt != null)).ToListAsync();
        var decisions = await db.ProjectDecisions.AsNoTracking().CountAsync();
        var audit = await db.AuditRecords.AsNoTracking().CountAsync();
        return $"users {string.Join(",", users)}\ntokens {string.Join(",", tokens)}\ndecisions {decisions}\naudit {audit}";
    });

    public static TheoryData<string, string> UiOtherMatrix()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in UiOtherEndpoints)
        {
            foreach (var path in endpoint.Paths)
            {
                foreach (var caller in UiCallers)
                {
                    data.Add(path, caller);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(UiOtherMatrix))]
    public async Task UiOtherEndpoint_ForEachCaller_AnswersExactly(string path, string caller)
    {
        var endpoint = UiOtherEndpoints.Single(e => e.Paths.Contains(path));
        using var anonymous = caller == None ? new UiSession(fixture.Proxy) : null;
        var session = anonymous ?? fixture.UiSessions[caller];

        using var response = await session.Client.GetAsync(path.TrimStart('/'));

        var what = $"GET {path} as {caller}: got {(int)response.StatusCode} {Location(response)}";
        if (Rank(caller) >= Rank(endpoint.Role))
        {
            Assert.True(endpoint.Status == (int)response.StatusCode, $"expected {endpoint.Status}; {what}");
            return;
        }

        var refusal = caller == None ? "/ui/login" : "/ui/denied";
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"expected 302 to {refusal}; {what}");
        Assert.Equal($"{refusal}?ReturnUrl={Uri.EscapeDataString(path)}", Location(response));
    }

    [Fact]
    public void EveryUiRouteThatIsNotAPage_IsInTheMatrixAndRequiresItsRole()
    {
        var endpoints = fixture.Proxy.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<PageActionDescriptor>() is null)
            .Where(e => ("/" + e.RoutePattern.RawText!.TrimStart('/')).StartsWith("/ui/", StringComparison.Ordinal))
            .ToList();
        var mapped = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in endpoints)
        {
            var route = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            var listed = UiOtherEndpoints.SingleOrDefault(e => e.Template == route);
            Assert.True(listed.Template is not null, $"{route} is not in the matrix");
            Assert.Contains(listed.Role == Roles.Admin ? AccessPolicies.UiAdminister : AccessPolicies.UiView, policies);
            Assert.Null(endpoint.Metadata.GetMetadata<IAllowAnonymous>());
            mapped.Add(route);
        }

        Assert.Equal(new SortedSet<string>(UiOtherEndpoints.Select(e => e.Template), StringComparer.Ordinal), mapped);
    }

    [Fact]
    public async Task EveryUiPageAndHandler_IsInTheMatrixAndRequiresSignIn()
    {
        var loader = fixture.Proxy.Services.GetRequiredService<PageLoader>();
        var pages = fixture.Proxy.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(e => e.Metadata.GetMetadata<PageActionDescriptor>() is not null)
            .ToList();
        Assert.NotEmpty(pages);
        var mapped = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var endpoint in pages)
        {
            var route = "/" + ((RouteEndpoint)endpoint).RoutePattern.RawText!.TrimStart('/');
            var policies = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).ToList();
            Assert.True(policies.Count > 0 && policies.All(p => p is not null), $"{route} has no authorization policy");
            Assert.Contains(AccessPolicies.UiView, policies);
            if (route == "/ui/login")
            {
                Assert.NotNull(endpoint.Metadata.GetMetadata<IAllowAnonymous>());
            }
            else
            {
                Assert.True(endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null, $"{route} allows anonymous callers");
            }

            var compiled = await loader.LoadAsync(endpoint.Metadata.GetMetadata<PageActionDescriptor>()!, endpoint.Metadata);
            foreach (var handler in compiled.HandlerMethods)
            {
                mapped.Add($"{handler.HttpMethod.ToUpperInvariant()} {route}" + (handler.Name is null ? "" : $"?handler={handler.Name}"));
            }
        }

        var listed = new SortedSet<string>(
            UiEndpoints.Select(e => $"{e.Method} {e.Template}" + (e.Path.IndexOf("?handler=", StringComparison.Ordinal) is var at and >= 0 ? e.Path[at..] : "")),
            StringComparer.Ordinal);
        Assert.Equal(listed, mapped);
    }
}

public sealed class AuthorizationMatrixTestsOnSqlite(SqliteAuthorizationMatrixFixture fixture)
    : AuthorizationMatrixTests(fixture), IClassFixture<SqliteAuthorizationMatrixFixture>;

public sealed class AuthorizationMatrixTestsOnPostgres(PostgresAuthorizationMatrixFixture fixture)
    : AuthorizationMatrixTests(fixture), IClassFixture<PostgresAuthorizationMatrixFixture>;

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

    public async Task InitializeAsync()
    {
        _servers = await TestServers.StartAsync(Provider);
        foreach (var role in Roles.All)
        {
            Tokens[role] = await Proxy.CreateUserWithTokenAsync($"matrix-{role}", role);
        }

        await Proxy.PostJsonAsync("api/v1/users", new { userName = "matrix-target", password = "a long enough password", role = "viewer" });
        await Proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "so that its review exists" });
        AdminSessionCookie = await SessionCookieAsync("matrix-admin");
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
    ];

    /// <summary>
    /// The review UI's routes (/ui/…) join the matrix here when its pages land: the same walk with cookie sessions
    /// and antiforgery tokens in place of bearer tokens. Empty until then.
    /// </summary>
    public static readonly IReadOnlyList<(string Method, string Template, string Path, string? Body, string Role, int Status)> UiEndpoints = [];

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
}

public sealed class AuthorizationMatrixTestsOnSqlite(SqliteAuthorizationMatrixFixture fixture)
    : AuthorizationMatrixTests(fixture), IClassFixture<SqliteAuthorizationMatrixFixture>;

public sealed class AuthorizationMatrixTestsOnPostgres(PostgresAuthorizationMatrixFixture fixture)
    : AuthorizationMatrixTests(fixture), IClassFixture<PostgresAuthorizationMatrixFixture>;

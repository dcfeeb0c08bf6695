using System.Net;
using System.Net.Http.Headers;
using System.Text;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Accounts;

/// <summary>An environment with <c>access: token</c>: pip's credentials (HTTP Basic), revocation and disabled accounts; on SQLite and PostgreSQL.</summary>
public abstract class IndexAccessIntegrationTests
{
    private const string Six = "six-1.17.0-py2.py3-none-any.whl";
    private const string Policy = "environments:\n  secure: { tier: 1, access: token }\n";

    protected abstract DatabaseProvider Provider { get; }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static async Task<HttpResponseMessage> GetAsync(ProxyInstance proxy, string path, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = authorization;
        return await proxy.Client.SendAsync(request);
    }

    [Fact]
    public async Task NoOrBadCredentials_Are401WithABasicChallenge_OnEveryIndexSurface()
    {
        await using var servers = await TestServers.StartAsync(Provider, Policy);
        var proxy = servers.Proxy;
        var token = await proxy.CreateUserWithTokenAsync("ci-bot", "viewer");

        foreach (var path in new[] { "secure/simple/", "secure/simple/six/", $"secure/files/six/{Six}", "secure/pypi/six/json" })
        {
            foreach (var authorization in new AuthenticationHeaderValue?[] { null, Basic("__token__", "cidx_never-issued-000000000000"), Basic("__token__", ""), new("Basic", "%%%not-base64"), new("Bearer", "short") })
            {
                using var response = await GetAsync(proxy, path, authorization);

                Assert.True(HttpStatusCode.Unauthorized == response.StatusCode, $"{path} with {authorization}: {(int)response.StatusCode}");
                Assert.Equal("Basic realm=\"curated-index secure\"", response.Headers.WwwAuthenticate.ToString());
            }

            using var allowed = await GetAsync(proxy, path, Basic("__token__", token));
            Assert.True(HttpStatusCode.OK == allowed.StatusCode, $"{path}: {(int)allowed.StatusCode}");
        }

        // An open environment asks for nothing; nothing was counted as demand for the refused requests.
        Assert.Equal(HttpStatusCode.OK, (await proxy.Client.GetAsync("dev/simple/six/")).StatusCode);
        using var missing = await GetAsync(proxy, "secure/simple/six/", null);
        Assert.Contains("__token__", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Token_AsBasicPasswordUserNameOrBearer_IsAccepted()
    {
        await using var servers = await TestServers.StartAsync(Provider, Policy);
        var proxy = servers.Proxy;
        var token = await proxy.CreateUserWithTokenAsync("ci-bot", "viewer");

        foreach (var authorization in new[] { Basic("__token__", token), Basic("anyone", token), Basic(token, ""), new AuthenticationHeaderValue("Bearer", token), Basic("__token__", ApiTestKit.BootstrapToken) })
        {
            using var response = await GetAsync(proxy, "secure/simple/six/", authorization);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains(Six, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        var lastUsed = await proxy.QueryAsync(db => db.ApiTokens.Where(t => t.User!.UserName == "ci-bot").Select(t => t.LastUsedAt).SingleAsync());
        Assert.NotNull(lastUsed);
    }

    [Fact]
    public async Task RevokedToken_IsRefusedAtOnceDespiteTheCache()
    {
        await using var servers = await TestServers.StartAsync(Provider, Policy);
        var proxy = servers.Proxy;
        var token = await proxy.CreateUserWithTokenAsync("ci-bot", "viewer");
        using (var before = await GetAsync(proxy, "secure/simple/six/", Basic("__token__", token)))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var tokenId = await proxy.QueryAsync(db => db.ApiTokens.Where(t => t.User!.UserName == "ci-bot").Select(t => t.Id).SingleAsync());
        await proxy.Services.GetRequiredService<AccountService>().RevokeTokenAsync(tokenId, null, "test", CancellationToken.None);
        using var after = await GetAsync(proxy, "secure/simple/six/", Basic("__token__", token));
        using var api = await proxy.SendAsync(HttpMethod.Get, "api/v1/me", token);

        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains("the token is not valid", await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }

    [Fact]
    public async Task DisabledAccountsToken_IsRefusedUntilReenabled()
    {
        await using var servers = await TestServers.StartAsync(Provider, Policy);
        var proxy = servers.Proxy;
        var token = await proxy.CreateUserWithTokenAsync("ci-bot", "viewer");
        var accounts = proxy.Services.GetRequiredService<AccountService>();
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(proxy, "secure/simple/six/", Basic("__token__", token))).StatusCode);

        await accounts.SetDisabledAsync("ci-bot", true, "test", CancellationToken.None);
        using var disabled = await GetAsync(proxy, "secure/simple/six/", Basic("__token__", token));
        await accounts.SetDisabledAsync("ci-bot", false, "test", CancellationToken.None);
        using var enabled = await GetAsync(proxy, "secure/simple/six/", Basic("__token__", token));

        Assert.Equal(HttpStatusCode.Unauthorized, disabled.StatusCode);
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
    }

    [Fact]
    public async Task RoleChange_TakesEffectOnTheNextApiCall()
    {
        await using var servers = await TestServers.StartAsync(Provider, Policy);
        var proxy = servers.Proxy;
        var token = await proxy.CreateUserWithTokenAsync("carol", "viewer");
        using var before = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/six/approve", token, new { reason = "r" });

        await proxy.PostJsonAsync("api/v1/users/carol/role", new { role = "reviewer" });
        using var after = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/six/approve", token, new { reason = "r" });
        var me = await proxy.GetJsonAsync("api/v1/me", token);

        Assert.Equal(HttpStatusCode.Forbidden, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal(("carol", "reviewer"), (me["userName"].Text(), me["role"].Text()));
    }
}

public sealed class IndexAccessIntegrationTestsOnSqlite : IndexAccessIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class IndexAccessIntegrationTestsOnPostgres : IndexAccessIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

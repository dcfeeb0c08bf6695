using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Files;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.UpstreamWatch;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Infrastructure;

/// <summary>Calls to <c>/api/v1/</c> with a bearer token, accounts with tokens, and the database of a running proxy.</summary>
public static class ApiTestKit
{
    public const string BootstrapToken = "test-bootstrap-admin-token-0123456789abcdef";

    /// <summary>Settings every API test passes: the bootstrap admin token.</summary>
    public static Dictionary<string, string> Settings(IDictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string> { ["Auth:BootstrapAdminToken"] = BootstrapToken };
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return settings;
    }

    public static HttpRequestMessage Request(HttpMethod method, string path, string? token, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = body as HttpContent ?? JsonContent.Create(body);
        }

        return request;
    }

    public static async Task<HttpResponseMessage> SendAsync(this ProxyInstance proxy, HttpMethod method, string path, string? token, object? body = null)
    {
        using var request = Request(method, path, token, body);
        return await proxy.Client.SendAsync(request);
    }

    public static async Task<JsonNode> GetJsonAsync(this ProxyInstance proxy, string path, string token = BootstrapToken)
    {
        using var response = await proxy.SendAsync(HttpMethod.Get, path, token);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    public static async Task<JsonNode> PostJsonAsync(this ProxyInstance proxy, string path, object body, string token = BootstrapToken)
    {
        using var response = await proxy.SendAsync(HttpMethod.Post, path, token, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>Creates an account with the role and one API token for it; returns the token's secret.</summary>
    public static async Task<string> CreateUserWithTokenAsync(this ProxyInstance proxy, string userName, string role)
    {
        var accounts = proxy.Services.GetRequiredService<AccountService>();
        var user = await accounts.CreateUserAsync(userName, "correct horse battery staple", role, "test", CancellationToken.None);
        return (await accounts.CreateTokenAsync(user.Id, $"{userName}-token", userName, CancellationToken.None)).Secret;
    }

    /// <summary>Runs <paramref name="query"/> on a fresh DbContext of the proxy.</summary>
    public static async Task<T> QueryAsync<T>(this ProxyInstance proxy, Func<CuratedIndexDbContext, Task<T>> query)
    {
        await using var scope = proxy.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>());
    }

    public static string Text(this JsonNode? node) => node!.GetValue<string>();

    public static long Number(this JsonNode? node) => node!.GetValue<long>();
}

/// <summary>A fake PyPI with the fixture wheels and a proxy in front of it with the bootstrap admin token; disposed together.</summary>
public sealed class TestServers(FakePyPI upstream, ProxyInstance proxy) : IAsyncDisposable
{
    public FakePyPI Upstream { get; } = upstream;

    public ProxyInstance Proxy { get; } = proxy;

    /// <summary>
    /// The fake upstream and a proxy in front of it; with <paramref name="inProcess"/> the proxy runs through
    /// WebApplicationFactory (no socket; <paramref name="configure"/> is not available then).
    /// </summary>
    public static async Task<TestServers> StartAsync(DatabaseProvider provider, string? policyYaml = null, IDictionary<string, string>? settings = null, Action<Microsoft.AspNetCore.Builder.WebApplicationBuilder>? configure = null, bool inProcess = false)
    {
        var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        try
        {
            var proxy = inProcess
                ? await ProxyInstance.StartInProcessAsync(upstream.BaseUrl, provider, ApiTestKit.Settings(settings), policyYaml)
                : await ProxyInstance.StartAsync(upstream.BaseUrl, provider, ApiTestKit.Settings(settings), policyYaml, configure);
            return new TestServers(upstream, proxy);
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Proxy.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

/// <summary>
/// Configuration that runs the job server with every job on a manual schedule: a test triggers what it needs and nothing
/// fires on its own. Workers look for work every second, so a triggered run starts soon.
/// </summary>
public static class ManualJobs
{
    public static Dictionary<string, string> Settings(IDictionary<string, string>? more = null)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal) { ["Jobs:Enabled"] = "true", ["Jobs:PollInterval"] = "00:00:01" };
        foreach (var key in new[] { ArtifactScrubJob.Key, UpstreamWatchJob.Key, UpstreamNamesJob.Key, CuratedIndex.Features.Releases.PolicyVettingJob.Key })
        {
            settings[$"Jobs:{key}:Schedule"] = "manual";
        }

        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        return settings;
    }
}

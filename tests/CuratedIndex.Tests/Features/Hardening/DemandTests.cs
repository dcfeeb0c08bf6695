using System.Net;
using CuratedIndex.Data;
using CuratedIndex.Tests.Features.Jobs;
using CuratedIndex.Tests.Features.Review;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 10: demand counts one caller once per <c>Review:DemandWindow</c>, so one anonymous client repeating
/// requests cannot make a project (a lookalike) look popular; the client is the real one behind known proxies only.
/// </summary>
public sealed class DemandTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 4, 10, 0, 0, TimeSpan.Zero);

    private static async Task<HttpStatusCode> AskAsync(ProxyInstance proxy, string path, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept", ReviewIntegrationTests.PipAccept);
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        using var response = await proxy.Client.SendAsync(request);
        return response.StatusCode;
    }

    private static Task<ReviewRequest> RequestAsync(ProxyInstance proxy, string project) =>
        proxy.QueryAsync(db => db.ReviewRequests.AsNoTracking().Include(r => r.Requesters).SingleAsync(r => r.Project == project));

    [Fact]
    public async Task OneAnonymousClientRepeating_CountsOnce_AnotherClientCountsAgain()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite);
        var proxy = servers.Proxy;

        for (var i = 0; i < 25; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await AskAsync(proxy, "ci/simple/six/"));
        }

        Assert.Equal(1, (await RequestAsync(proxy, "six")).RequestCount);
        // A second client behind a trusted proxy (loopback, the default) is a second caller.
        await AskAsync(proxy, "ci/simple/six/", "203.0.113.20");
        await AskAsync(proxy, "ci/simple/six/", "203.0.113.20");
        var request = await RequestAsync(proxy, "six");
        Assert.Equal(2, request.RequestCount);
        Assert.Equal(2, Assert.Single(request.Requesters).RequestCount);
    }

    [Fact]
    public async Task SpoofedForwardedForFromUntrustedPeer_IsOneCaller()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, settings: new Dictionary<string, string> { ["Server:KnownProxies:0"] = "10.20.30.40" });
        var proxy = servers.Proxy;

        for (var i = 0; i < 10; i++)
        {
            await AskAsync(proxy, "ci/simple/six/", $"203.0.113.{i}");
        }

        Assert.Equal(1, (await RequestAsync(proxy, "six")).RequestCount);
    }

    [Fact]
    public async Task SameClient_InTheNextWindow_CountsAgain_AndOldMarksAreDeleted()
    {
        var clock = new TestClock(Start);
        await using var servers = await TestServers.StartAsync(
            DatabaseProvider.Sqlite,
            settings: new Dictionary<string, string> { ["Review:DemandWindow"] = "00:30:00" },
            configure: b => b.Services.AddSingleton<TimeProvider>(clock));
        var proxy = servers.Proxy;

        await AskAsync(proxy, "ci/simple/six/");
        clock.Advance(TimeSpan.FromMinutes(29));
        await AskAsync(proxy, "ci/simple/six/");
        Assert.Equal(1, (await RequestAsync(proxy, "six")).RequestCount);

        clock.Advance(TimeSpan.FromMinutes(2));
        await AskAsync(proxy, "ci/simple/six/");

        Assert.Equal(2, (await RequestAsync(proxy, "six")).RequestCount);
        var marks = await proxy.QueryAsync(db => db.DemandMarks.AsNoTracking().ToListAsync());
        var mark = Assert.Single(marks);
        Assert.Equal(Start.UtcDateTime.AddMinutes(30), mark.WindowStart);
        // The table keeps a digest, never the client's address.
        Assert.Equal(64, mark.Caller.Length);
        Assert.DoesNotContain("127.0.0.1", mark.Caller, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenCaller_CountsOncePerWindowWhateverItsAddress()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, "environments:\n  secure: { tier: 2, access: token }\n");
        var proxy = servers.Proxy;
        var token = await proxy.CreateUserWithTokenAsync("alice", "viewer");

        foreach (var address in new[] { "203.0.113.1", "203.0.113.2", "203.0.113.3" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "secure/simple/six/");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", address);
            using var response = await proxy.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, (await RequestAsync(proxy, "six")).RequestCount);
    }
}

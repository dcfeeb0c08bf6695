using System.Net;
using System.Security.Cryptography;
using CuratedIndex.Data;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.ScaleOut;

/// <summary>
/// Two nodes of one deployment on PostgreSQL, each on its own socket with its own content root (caches, document files),
/// sharing the database and the artifact store: what one node does, the other honours.
/// </summary>
public sealed class SeveralNodesTests
{
    /// <summary>The bound the README names for a decision made on one node to take effect on another: <c>Review:RefreshInterval</c>.</summary>
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private static Dictionary<string, string> Settings() =>
        ApiTestKit.Settings(new Dictionary<string, string> { ["Review:RefreshInterval"] = RefreshInterval.ToString("c") });

    private static async Task<(FakePyPI Upstream, ProxyInstance First, ProxyInstance Second)> StartTwoNodesAsync(IDictionary<string, string>? more = null)
    {
        var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        var settings = Settings();
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            settings[key] = value;
        }

        var first = await ProxyInstance.StartAsync(upstream.BaseUrl, DatabaseProvider.Postgres, settings);
        var second = await ProxyInstance.StartNodeAsync(first, upstream.BaseUrl, settings);
        return (upstream, first, second);
    }

    private static async Task StopAsync(FakePyPI upstream, ProxyInstance first, ProxyInstance second)
    {
        await second.DisposeAsync();
        await first.DisposeAsync();
        await upstream.DisposeAsync();
    }

    [Fact]
    public async Task SignInAndForm_MadeOnOneNode_AreAcceptedByTheOther()
    {
        var (upstream, first, second) = await StartTwoNodesAsync();
        try
        {
            using var onFirst = await UiSession.SignedInAsync(first, "rita", "reviewer");
            using var onSecond = new UiSession(second);
            onSecond.Cookies.Add(onFirst.Cookies.GetAllCookies()); // one browser, two nodes behind a load balancer

            // The session cookie written by the first node signs the browser in on the second.
            var (page, _, _) = await onSecond.GetAsync("ui/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);

            // A form rendered by the first node (its antiforgery token) is accepted by the second: a decision is made.
            var token = await onFirst.TokenFromAsync("ui/projects/six");
            using var approve = await onSecond.PostAsync("ui/projects/six", [new("__RequestVerificationToken", token), new("Verdict", "approve"), new("Reason", "needed on both nodes")]);
            Assert.True(approve.StatusCode == HttpStatusCode.Redirect, $"the second node refused the first node's form: {(int)approve.StatusCode} {await approve.Content.ReadAsStringAsync()}");
            var decided = await first.QueryAsync(db => Task.FromResult(db.ProjectDecisions.Count(d => d.Project == "six")));
            Assert.Equal(1, decided);
        }
        finally
        {
            await StopAsync(upstream, first, second);
        }
    }

    [Fact]
    public async Task Decisions_MadeOnOneNode_TakeEffectOnTheOtherWithinTheRefreshInterval()
    {
        var (upstream, first, second) = await StartTwoNodesAsync();
        try
        {
            // Tier 2 hides an unapproved project's files (its page answers "quarantined" with none).
            var file = $"ci/files/six/{upstream.File("six-1.17.0-py2.py3-none-any.whl").Filename}";
            using (var hidden = await second.Client.GetAsync(file))
            {
                Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
            }

            await first.PostJsonAsync("api/v1/projects/six/approve", new { reason = "reviewed" });
            await AssertWithinBoundAsync(second, file, HttpStatusCode.OK);

            await first.PostJsonAsync("api/v1/projects/six/deny", new { reason = "withdrawn" });
            await AssertWithinBoundAsync(second, file, HttpStatusCode.NotFound);
        }
        finally
        {
            await StopAsync(upstream, first, second);
        }
    }

    /// <summary>
    /// Polls until <paramref name="path"/> answers <paramref name="expected"/>; fails when that takes longer than the named
    /// bound (two refresh intervals: a poll may have just begun when the decision committed) plus slack for a loaded machine.
    /// </summary>
    private static async Task AssertWithinBoundAsync(ProxyInstance node, string path, HttpStatusCode expected)
    {
        var bound = RefreshInterval * 2 + TimeSpan.FromSeconds(3);
        var started = DateTime.UtcNow;
        HttpStatusCode last;
        do
        {
            using var response = await node.Client.GetAsync(path);
            last = response.StatusCode;
            if (last == expected)
            {
                return;
            }

            await Task.Delay(100);
        }
        while (DateTime.UtcNow - started < bound);
        Assert.Fail($"{path} on the other node still answered {(int)last} after {bound.TotalSeconds} s (expected {(int)expected})");
    }

    [Fact]
    public async Task File_StoredByOneNode_IsServedByTheOtherWithUpstreamDown()
    {
        var (upstream, first, second) = await StartTwoNodesAsync();
        try
        {
            var file = upstream.File("six-1.17.0-py2.py3-none-any.whl");
            var url = $"dev/files/six/{file.Filename}";
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(await first.Client.GetByteArrayAsync(url))));
            // The second node learns the page (with the file's digest) from the shared page cache, then upstream goes away.
            using (var page = await second.Client.GetAsync("dev/simple/six/"))
            {
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            }

            upstream.Down = true;
            using var served = await second.Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(await served.Content.ReadAsByteArrayAsync())));
            Assert.Equal(1, upstream.HitsOn($"/packages/{file.Filename}"));
        }
        finally
        {
            await StopAsync(upstream, first, second);
        }
    }

    [Theory]
    [InlineData("FileSystem")]
    [InlineData("S3")]
    public async Task ConcurrentMisses_OnTwoNodes_DownloadAndStoreTheFileOnce(string storage)
    {
        var bucket = storage == "S3" ? await S3TestServer.CreateBucketAsync() : null;
        var (upstream, first, second) = await StartTwoNodesAsync(bucket is null ? null : S3TestServer.Settings(bucket));
        try
        {
            var content = new byte[400 * 1024];
            new Random(14).NextBytes(content);
            var file = upstream.AddFileWithoutMetadata("slowpkg", "slowpkg-1.0.tar.gz", content);
            var url = $"dev/files/slowpkg/{file.Filename}";
            var upstreamPath = $"/packages/{file.Filename}";
            // Both nodes know the page first, so the only upstream requests left to count are the file's.
            foreach (var node in new[] { first, second })
            {
                using var page = await node.Client.GetAsync("dev/simple/slowpkg/");
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            }

            // Upstream sends half the file, then holds the rest until the second node has asked for it too: the two
            // misses overlap for certain, whatever the machine's speed.
            var secondAsked = new TaskCompletionSource();
            upstream.Override[upstreamPath] = async context =>
            {
                context.Response.ContentLength = content.Length;
                await context.Response.Body.WriteAsync(content.AsMemory(0, content.Length / 2));
                await context.Response.Body.FlushAsync();
                await secondAsked.Task;
                await context.Response.Body.WriteAsync(content.AsMemory(content.Length / 2));
            };
            var onFirst = first.Client.GetByteArrayAsync(url);
            while (upstream.HitsOn(upstreamPath) == 0)
            {
                await Task.Delay(20);
            }

            var onSecond = second.Client.GetByteArrayAsync(url);
            await Task.Delay(TimeSpan.FromSeconds(1)); // the second node's request is in, waiting for the first node's download
            secondAsked.SetResult();
            var bodies = await Task.WhenAll(onFirst, onSecond);

            Assert.All(bodies, body => Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(body))));
            // One download for both nodes, so one store write: the second node read the stored copy.
            Assert.Equal(1, upstream.HitsOn(upstreamPath));
            Assert.Equal(1, await first.QueryAsync(db => Task.FromResult(db.StoredArtifacts.Count(a => a.Filename == file.Filename))));
            var stored = bucket is null
                ? Directory.GetFiles(Path.Combine(first.Root, "data", "artifacts"), "*", SearchOption.AllDirectories).ToList()
                : await S3TestServer.KeysAsync(bucket);
            Assert.Equal([file.Filename], stored.Select(Path.GetFileName).Where(n => n!.StartsWith("slowpkg", StringComparison.Ordinal)));
        }
        finally
        {
            await StopAsync(upstream, first, second);
        }
    }

    [Fact]
    public async Task RootList_OfANodeRestartedOnItsOldCache_IsNotPairedWithANewerListsValidatorsFromAnotherNode()
    {
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        // An upstream root list with validators: version 1 lists "oldname", version 2 "oldname" and "newname".
        var version = 1;
        upstream.Override["/simple/"] = async context =>
        {
            var etag = $"\"root-v{version}\"";
            context.Response.Headers.ETag = etag;
            if (context.Request.Headers.IfNoneMatch.ToString() == etag)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                return;
            }

            context.Response.ContentType = "text/html";
            var names = version == 1 ? new[] { "oldname" } : ["oldname", "newname"];
            await context.Response.WriteAsync($"<!DOCTYPE html><html><body>{string.Concat(names.Select(n => $"<a href=\"/simple/{n}/\">{n}</a>\n"))}</body></html>");
        };
        // Lists are revalidated after a second: what is checked is what the revalidation pairs with the saved bytes.
        var settings = Settings();
        settings["Upstream:PageMaxAge"] = "00:00:01";
        var first = await ProxyInstance.StartAsync(upstream.BaseUrl, DatabaseProvider.Postgres, settings);
        try
        {
            var second = await ProxyInstance.StartNodeAsync(first, upstream.BaseUrl, settings);
            Assert.DoesNotContain("newname", await second.Client.GetStringAsync("dev/simple/"), StringComparison.Ordinal);
            second.KeepRoot = true;
            await second.DisposeAsync();

            // While the second node is down, upstream's list changes and the first node fetches the new one.
            version = 2;
            Assert.Contains("newname", await first.Client.GetStringAsync("dev/simple/"), StringComparison.Ordinal);

            // Back on its old cache, the second node must not take the first node's validators for its old bytes.
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            await using var restarted = await ProxyInstance.StartNodeAsync(first, upstream.BaseUrl, settings, root: second.Root);
            Assert.Contains("newname", await restarted.Client.GetStringAsync("dev/simple/"), StringComparison.Ordinal);
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task UpstreamNames_BaselineOnOneNode_NextRunOnTheOtherScreensOnlyTheNewNames()
    {
        var (upstream, first, second) = await StartTwoNodesAsync();
        try
        {
            var baseline = await first.Services.GetRequiredService<UpstreamNameScreening>().RunOnceAsync(null, CancellationToken.None);
            Assert.True(baseline.Baseline);

            upstream.AddFile("reqeusts", "reqeusts-1.0.tar.gz", "a lookalike of a popular project"u8.ToArray());
            var next = await second.Services.GetRequiredService<UpstreamNameScreening>().RunOnceAsync(null, CancellationToken.None);

            Assert.Equal((false, 1L, 1L), (next.Baseline, next.Added, next.Flagged));
            Assert.Equal("reqeusts", Assert.Single(await first.QueryAsync(db => Task.FromResult(db.TyposquatFindings.Select(f => f.Project).ToList()))));
        }
        finally
        {
            await StopAsync(upstream, first, second);
        }
    }

    [Fact]
    public async Task SignInAttempts_OnEitherNode_CountAgainstOneBudget()
    {
        await using var upstream = await FakePyPI.StartAsync();
        var settings = Settings();
        settings["Auth:SignInAttemptsPerMinute"] = "2";
        var first = await ProxyInstance.StartAsync(upstream.BaseUrl, DatabaseProvider.Postgres, settings);
        try
        {
            await using var second = await ProxyInstance.StartNodeAsync(first, upstream.BaseUrl, settings);
            using var onFirst = new UiSession(first);
            using var onSecond = new UiSession(second);

            var statuses = new List<HttpStatusCode>();
            foreach (var session in new[] { onFirst, onSecond, onFirst, onSecond })
            {
                using var response = await session.SignInAsync("mallory", "not the password at all");
                statuses.Add(response.StatusCode);
            }

            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        }
        finally
        {
            await first.DisposeAsync();
        }
    }
}

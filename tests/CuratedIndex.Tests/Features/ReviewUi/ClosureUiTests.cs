using System.IO.Compression;
using System.Net;
using System.Text;
using AngleSharp.Dom;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Protocol;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.Features.ReviewUi;

/// <summary>
/// The Dependencies section of the project and release pages, "with dependencies" from the UI, and the queue's work left,
/// over real HTTP (parsed with AngleSharp) in front of a fake PyPI serving pytest 3.5.0's real dependency tree
/// (Fixtures/closure and Fixtures/dists): pytest, py, six, setuptools, attrs, more-itertools and pluggy on Linux targets.
/// </summary>
public abstract class ClosureUiTests
{
    private const string Hostile = "<script>alert(1)</script>";

    /// <summary>pytest 3.5.1's closure on Linux (colorama is win32 only; funcsigs Python 2 only).</summary>
    private static readonly string[] PytestClosure = ["attrs", "more-itertools", "pluggy", "py", "pytest", "setuptools", "six"];

    protected abstract DatabaseProvider Provider { get; }

    /// <summary>The fake upstream with Fixtures/dists and Fixtures/closure, and a proxy in process with <paramref name="policy"/>.</summary>
    private async Task<TestServers> StartAsync(string? policy = null, IDictionary<string, string>? settings = null)
    {
        var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        try
        {
            foreach (var path in Directory.GetFiles(FakePyPI.FixturePath("closure")).Order(StringComparer.Ordinal))
            {
                var filename = Path.GetFileName(path);
                Assert.True(DistributionFilename.TryParse(filename, null, out var parsed), filename);
                upstream.AddFile(parsed.Project, filename, File.ReadAllBytes(path));
            }

            var proxy = await ProxyInstance.StartInProcessAsync(upstream.BaseUrl, Provider, ApiTestKit.Settings(settings), policy);
            return new TestServers(upstream, proxy);
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
    }

    private static IElement? Row(IDocument page, string project) => page.QuerySelector($"tr.closure-member[data-project='{project}']");

    private static List<string> Members(IDocument page) =>
        page.QuerySelectorAll("tr.closure-member").Select(r => r.GetAttribute("data-project")!).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task ProjectPage_ShowsTheClosureWithStatusesTreeAndTargets()
    {
        await using var servers = await StartAsync("approve: [six]\n");
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);

        var (response, page, _) = await session.GetAsync("ui/projects/pytest");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PytestClosure, Members(page));
        var root = Row(page, "pytest")!;
        Assert.Equal("3.5.1", root.GetAttribute("data-version"));
        Assert.Equal("0", root.GetAttribute("data-indent"));
        Assert.Equal("pending", root.GetAttribute("data-status"));
        Assert.All(PytestClosure.Where(p => p != "pytest"), p => Assert.Equal("1", Row(page, p)!.GetAttribute("data-indent")));
        // Approved by policy: visible in ci, with the decision function's reason.
        Assert.Equal("visible", Row(page, "six")!.GetAttribute("data-status"));
        Assert.False(string.IsNullOrWhiteSpace(Row(page, "six")!.QuerySelector(".closure-reason")!.TextContent));
        Assert.Equal("pending", Row(page, "pluggy")!.GetAttribute("data-status"));
        Assert.Contains("pluggy (<0.7,>=0.5)", Row(page, "pluggy")!.QuerySelector(".closure-required-by")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(Row(page, "six")!.QuerySelector("a[href='/ui/projects/six/releases/1.17.0']"));
        Assert.NotNull(Row(page, "six")!.QuerySelector("a[href='/ui/projects/six']"));
        Assert.Null(Row(page, "colorama")); // sys_platform == "win32" only
        Assert.NotEmpty(page.QuerySelectorAll("#closure-targets .closure-target"));
        Assert.Empty(page.QuerySelectorAll("tr.closure-member.blocks"));
        Assert.Equal(["ci", "prod"], page.QuerySelectorAll("#closure-env option").Select(o => o.GetAttribute("value")!));
        Assert.Equal("6", page.QuerySelector("#closure-remaining")!.TextContent);
        Assert.Equal("Approve 6 project(s) with dependencies", page.QuerySelector("#closure-decide")!.TextContent.Trim());

        // Tier 3 asks for vetting: the approved six is not vetted there, and its release carries a size-changed signal
        // (against the stubbed six 1.11.0), so it blocks; the other six releases are what the button vets.
        var (_, prod, _) = await session.GetAsync("ui/projects/pytest?env=prod");
        Assert.Equal(("signal", "yes"), (Row(prod, "six")!.GetAttribute("data-status"), Row(prod, "six")!.GetAttribute("data-blocks")));
        Assert.Equal("pending", Row(prod, "pluggy")!.GetAttribute("data-status"));
        Assert.StartsWith("Vet 6 release(s)", prod.QuerySelector("#closure-decide")!.TextContent.Trim(), StringComparison.Ordinal);

        // Tier 1 reviews nothing: the page says so and shows the first reviewed environment.
        var (devResponse, dev, _) = await session.GetAsync("ui/projects/pytest?env=dev");
        Assert.Equal(HttpStatusCode.BadRequest, devResponse.StatusCode);
        Assert.Contains("showing ci", dev.QuerySelector("#closure-env-problem")!.TextContent, StringComparison.Ordinal);
        Assert.Equal(PytestClosure, Members(dev));
    }

    [Fact]
    public async Task ApproveWithDependencies_ApprovesEveryPendingMember_EachWithItsOwnAuditRecord_AndCiServesThem()
    {
        await using var servers = await StartAsync("approve: [six]\n");
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        var before = await servers.Proxy.GetJsonAsync("api/v1/explain?env=ci&project=pluggy");

        using var response = await session.SubmitAsync("ui/projects/pytest", "#closure-form", ("DependenciesReason", "the test runner for the service"));
        var page = await UiSession.ParseAsync(await response.Content.ReadAsStringAsync());
        var decisions = await servers.Proxy.QueryAsync(db => db.ProjectDecisions.AsNoTracking().ToListAsync());
        var audit = await servers.Proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().ToListAsync());
        var after = await servers.Proxy.GetJsonAsync("api/v1/explain?env=ci&project=pluggy");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var decided = page.QuerySelectorAll("li.closure-decided-member").ToList();
        Assert.Equal(PytestClosure.Where(p => p != "six"), decided.Select(d => d.GetAttribute("data-project")!).Order(StringComparer.Ordinal));
        Assert.All(decided, d => Assert.Equal("approve", d.GetAttribute("data-action")));
        Assert.Equal(PytestClosure.Where(p => p != "six"), decisions.Select(d => d.Project).Order(StringComparer.Ordinal));
        Assert.All(decisions, d => Assert.Equal(("approved", "rita"), (d.Verdict, d.Actor)));
        foreach (var dependency in new[] { "attrs", "more-itertools", "pluggy", "py", "setuptools" })
        {
            Assert.Contains(audit, r => r.Subject.Contains(dependency, StringComparison.Ordinal)
                && r.Reason.Contains("dependency of pytest 3.5.1, approved by rita: the test runner for the service", StringComparison.Ordinal));
        }

        // The section now shows the closure approved, with nothing left to decide.
        Assert.All(page.QuerySelectorAll("tr.closure-member"), r => Assert.Equal("visible", r.GetAttribute("data-status")));
        Assert.NotNull(page.QuerySelector("#closure-nothing-left"));
        Assert.Null(page.QuerySelector("#closure-form"));
        Assert.False(before["visible"]!.GetValue<bool>(), before.ToJsonString());
        Assert.True(after["visible"]!.GetValue<bool>(), after.ToJsonString());
    }

    [Fact]
    public async Task ApproveWithDependencies_ADeniedMember_BlocksIsRefusedWith409AndNamed_NothingDecided()
    {
        await using var servers = await StartAsync("approve: [six]\ndeny:\n  pluggy: maintainer account taken over\n");
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);

        var (_, page, _) = await session.GetAsync("ui/projects/pytest");
        using var response = await session.SubmitAsync("ui/projects/pytest", "#closure-form", ("DependenciesReason", "the test runner"));
        var refused = await UiSession.ParseAsync(await response.Content.ReadAsStringAsync());

        var pluggy = Row(page, "pluggy")!;
        Assert.Equal(("denied", "yes"), (pluggy.GetAttribute("data-status"), pluggy.GetAttribute("data-blocks")));
        Assert.Contains("blocks", pluggy.ClassList);
        Assert.Contains("maintainer account taken over", pluggy.QuerySelector(".closure-reason")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(page.QuerySelector("#closure-blocked-note"));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var blocker = Assert.Single(refused.QuerySelectorAll("#closure-refused li.closure-blocker"));
        Assert.Contains("pluggy", blocker.TextContent, StringComparison.Ordinal);
        Assert.Equal("the test runner", refused.QuerySelector("#DependenciesReason")!.TextContent);
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task ReleasePage_WithExtras_ListsTheProblems_AndApprovingAnIncompleteClosureIsRefused()
    {
        await using var servers = await StartAsync();
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);

        // wheel 0.37.1[test] needs pytest (whose tree upstream has) and pytest-cov (which upstream does not have).
        var (response, page, _) = await session.GetAsync("ui/projects/wheel/releases/0.37.1?env=ci&extras=test");
        using var refused = await session.SubmitAsync("ui/projects/wheel/releases/0.37.1?env=ci&extras=test", "#closure-form", ("DependenciesReason", "packaging tools"));
        var after = await UiSession.ParseAsync(await refused.Content.ReadAsStringAsync());
        var (_, plain, _) = await session.GetAsync("ui/projects/wheel/releases/0.37.1?env=ci");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("pip install wheel[test]==0.37.1", page.QuerySelector("#closure-command")!.TextContent);
        Assert.Equal("test", page.QuerySelector("#closure-extras")!.GetAttribute("value"));
        Assert.Equal(["attrs", "more-itertools", "pluggy", "py", "pytest", "setuptools", "six", "wheel"], Members(page));
        var problem = Assert.Single(page.QuerySelectorAll("#closure-problems li.closure-problem"));
        Assert.Equal(("not-found", "pytest-cov"), (problem.GetAttribute("data-kind"), problem.GetAttribute("data-project")));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("incomplete", after.QuerySelector("#closure-refused")!.TextContent, StringComparison.Ordinal);
        Assert.Contains("pytest-cov", Assert.Single(after.QuerySelectorAll("#closure-refused li.closure-blocker")).TextContent, StringComparison.Ordinal);
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
        Assert.Equal(["wheel"], Members(plain));
        Assert.Null(plain.QuerySelector("#closure-problems"));
    }

    [Fact]
    public async Task ProjectPage_UpstreamDown_StillRendersAndSaysWhyThereIsNoClosure_AndTheFormAnswers502()
    {
        await using var servers = await StartAsync();
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        var token = await session.TokenFromAsync("ui/");
        servers.Upstream.Down = true;

        var (response, page, _) = await session.GetAsync("ui/projects/pytest");
        using var post = await session.PostAsync("ui/projects/pytest?handler=Dependencies", [new("env", "ci"), new("DependenciesReason", "while upstream is down"), new("__RequestVerificationToken", token)]);
        var refused = await UiSession.ParseAsync(await post.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("upstream", page.QuerySelector("#closure-problem")!.TextContent, StringComparison.Ordinal);
        Assert.Empty(page.QuerySelectorAll("tr.closure-member"));
        Assert.Null(page.QuerySelector("#closure-form"));
        Assert.Equal(HttpStatusCode.BadGateway, post.StatusCode);
        Assert.Equal("upstreamfailed", refused.QuerySelector("#closure-refused")!.GetAttribute("data-status"));
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task DependenciesForm_WithoutAntiforgeryToken_Is400AndDecidesNothing()
    {
        await using var servers = await StartAsync();
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);

        using var response = await session.PostAsync("ui/projects/pytest?handler=Dependencies", [new("env", "ci"), new("DependenciesReason", "no token")]);
        using var release = await session.PostAsync("ui/projects/pytest/releases/3.5.0?handler=Dependencies", [new("env", "ci"), new("DependenciesReason", "no token")]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, release.StatusCode);
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.AuditRecords.CountAsync(r => r.Actor == "rita")));
    }

    [Fact]
    public async Task Viewer_SeesTheClosureWithoutButtons_AndIsRefusedTheForm()
    {
        await using var servers = await StartAsync();
        using var session = await UiSession.SignedInAsync(servers.Proxy, "vera", Roles.Viewer);

        var (_, project, _) = await session.GetAsync("ui/projects/pytest");
        var (_, release, _) = await session.GetAsync("ui/projects/pytest/releases/3.5.0?env=prod");
        var token = await session.TokenFromAsync("ui/projects/pytest");
        using var post = await session.PostAsync("ui/projects/pytest?handler=Dependencies", [new("env", "ci"), new("DependenciesReason", "sneaky"), new("__RequestVerificationToken", token)]);

        Assert.Equal(PytestClosure, Members(project));
        Assert.Equal(PytestClosure, Members(release));
        Assert.Null(project.QuerySelector("#closure-form"));
        Assert.Null(release.QuerySelector("#closure-form"));
        Assert.Null(project.QuerySelector("#closure-decide"));
        Assert.Equal(HttpStatusCode.Redirect, post.StatusCode);
        Assert.StartsWith("/ui/denied", post.Headers.Location!.AbsolutePath, StringComparison.Ordinal);
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task ReleasePage_VetWithDependencies_InProd_VetsThatReleasesClosure()
    {
        var cooldowns = string.Concat(PytestClosure.Select(p => $"  {p}: 0d\n"));
        await using var servers = await StartAsync($"cooldown:\n{cooldowns}");
        WithoutOlderSix(servers.Upstream);
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);

        var (_, page, _) = await session.GetAsync("ui/projects/pytest/releases/3.5.0?env=prod");
        using var response = await session.SubmitAsync("ui/projects/pytest/releases/3.5.0?env=prod", "#closure-form", ("DependenciesReason", "read the tree"), ("DependenciesCriteria", "safe-to-deploy"));
        var after = await UiSession.ParseAsync(await response.Content.ReadAsStringAsync());
        var explain = await servers.Proxy.GetJsonAsync("api/v1/explain?env=prod&project=pytest&version=3.5.0");
        var newer = await servers.Proxy.GetJsonAsync("api/v1/explain?env=prod&project=pytest&version=3.5.1");

        Assert.Equal("3.5.0", Row(page, "pytest")!.GetAttribute("data-version"));
        Assert.Equal(PytestClosure, Members(page));
        Assert.All(page.QuerySelectorAll("tr.closure-member"), r => Assert.Equal("pending", r.GetAttribute("data-status")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var decided = after.QuerySelectorAll("li.closure-decided-member").Select(d => $"{d.GetAttribute("data-action")} {d.GetAttribute("data-project")}").ToList();
        Assert.All(PytestClosure, p => Assert.Contains($"vet {p}", decided));
        Assert.All(after.QuerySelectorAll("tr.closure-member"), r => Assert.Equal("visible", r.GetAttribute("data-status")));
        Assert.True(explain["visible"]!.GetValue<bool>(), explain.ToJsonString());
        Assert.False(newer["visible"]!.GetValue<bool>(), newer.ToJsonString());
    }

    [Fact]
    public async Task ReleasePage_VetWithDependencies_InsideTheCooldown_ReviewerIsRefused_AdminBreaksGlassOnlyWhenAsked()
    {
        await using var servers = await StartAsync(); // prod: 7-day cooldown, every release first seen just now
        WithoutOlderSix(servers.Upstream);
        using var reviewer = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        using var admin = await UiSession.SignedInAsync(servers.Proxy, "ada", Roles.Admin);
        const string Path = "ui/projects/pytest/releases/3.5.0?env=prod";

        var (_, reviewerPage, _) = await reviewer.GetAsync(Path);
        using var refused = await reviewer.SubmitAsync(Path, "#closure-form", ("DependenciesReason", "urgent"), ("DependenciesBreakGlass", "true"));
        var refusedPage = await UiSession.ParseAsync(await refused.Content.ReadAsStringAsync());
        using var adminWithoutGlass = await admin.SubmitAsync(Path, "#closure-form", ("DependenciesReason", "urgent"));
        var decisionsBefore = await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync());
        using var glass = await admin.SubmitAsync(Path, "#closure-form", ("DependenciesReason", "security fix needed today"), ("DependenciesBreakGlass", "true"));
        var glassPage = await UiSession.ParseAsync(await glass.Content.ReadAsStringAsync());

        Assert.Null(reviewerPage.QuerySelector("#DependenciesBreakGlass"));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(PytestClosure, refusedPage.QuerySelectorAll("#closure-refused li.closure-blocker").Select(b => b.TextContent.Split(' ')[0]).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.Conflict, adminWithoutGlass.StatusCode);
        Assert.Equal(0, decisionsBefore);
        Assert.Equal(HttpStatusCode.OK, glass.StatusCode);
        Assert.Equal(PytestClosure.Length, glassPage.QuerySelectorAll("li.closure-decided-member[data-action='vet']").Length);
        Assert.Equal(PytestClosure.Length, await servers.Proxy.QueryAsync(db => db.AuditRecords.CountAsync(r => r.Action == "release.vet-break-glass" && r.Actor == "ada")));
    }

    [Fact]
    public async Task VetWithDependencies_AMemberWithASignal_IsMarkedAndNamed_NothingIsVetted_UntilDecidedOnItsOwn()
    {
        var cooldowns = string.Concat(PytestClosure.Select(p => $"  {p}: 0d\n"));
        await using var servers = await StartAsync($"cooldown:\n{cooldowns}");
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        const string Path = "ui/projects/pytest/releases/3.5.0?env=prod";

        // six 1.17.0 is several times the size of six 1.11.0 (a stubbed wheel here): a size-changed signal, seen as soon
        // as the closure is computed.
        var (_, page, _) = await session.GetAsync(Path);
        using var refused = await session.SubmitAsync(Path, "#closure-form", ("DependenciesReason", "read the tree"));
        var refusedPage = await UiSession.ParseAsync(await refused.Content.ReadAsStringAsync());
        var vettedAfterRefusal = await servers.Proxy.QueryAsync(db => db.ReleaseDecisions.CountAsync());
        var approvedAfterRefusal = await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync());

        // The reviewer reads it, approves six and vets six 1.17.0 on their own; then the closure goes through.
        using var approveSix = await session.SubmitAsync("ui/projects/six", "#decision-form", ("Verdict", "approve"), ("Reason", "needed by pytest"));
        using var six = await session.SubmitAsync("ui/projects/six/releases/1.17.0", "#release-form", ("Action", "vet"), ("Criteria", "safe-to-deploy"), ("Reason", "the size change is the dropped Python 2 code"));
        using var vetted = await session.SubmitAsync(Path, "#closure-form", ("DependenciesReason", "read the tree"));
        var vettedPage = await UiSession.ParseAsync(await vetted.Content.ReadAsStringAsync());

        var sixRow = Row(page, "six")!;
        Assert.Equal(("signal", "yes"), (sixRow.GetAttribute("data-status"), sixRow.GetAttribute("data-blocks")));
        Assert.Contains("size-changed", sixRow.QuerySelector(".closure-reason")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("6 release(s)", page.QuerySelector("#closure-decide")!.TextContent.Trim()["Vet ".Length..][..12]);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var blocker = Assert.Single(refusedPage.QuerySelectorAll("#closure-refused li.closure-blocker")).TextContent;
        Assert.StartsWith("six 1.17.0: signal", blocker, StringComparison.Ordinal);
        Assert.Contains("size-changed", blocker, StringComparison.Ordinal);
        Assert.Equal((0, 0), (vettedAfterRefusal, approvedAfterRefusal));
        Assert.Equal(HttpStatusCode.Redirect, approveSix.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, six.StatusCode);
        Assert.Equal(HttpStatusCode.OK, vetted.StatusCode);
        Assert.Equal(PytestClosure.Where(p => p != "six"), vettedPage.QuerySelectorAll("li.closure-decided-member[data-action='vet']").Select(d => d.GetAttribute("data-project")!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task VetWithDependencies_AFileAddedUpstreamAfterTheClosureWasComputed_ItsSignalBlocks_NothingVetted()
    {
        var cooldowns = string.Concat(PytestClosure.Select(p => $"  {p}: 0d\n"));
        await using var servers = await StartAsync($"cooldown:\n{cooldowns}", new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" });
        WithoutOlderSix(servers.Upstream);
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        const string Path = "ui/projects/pytest/releases/3.5.0?env=prod";
        var (_, page, _) = await session.GetAsync(Path); // computes and keeps the closure: nothing blocks

        // A month after pluggy 0.6.0 was released, upstream lists one more file for it; the kept closure does not know.
        servers.Upstream.AddFile("pluggy", "pluggy-0.6.0.tar.gz", Encoding.UTF8.GetBytes("an sdist added later"), uploadTime: "2024-02-02T00:00:00.000000Z");
        using var refused = await session.SubmitAsync(Path, "#closure-form", ("DependenciesReason", "read the tree"));
        var refusedPage = await UiSession.ParseAsync(await refused.Content.ReadAsStringAsync());

        Assert.Equal("pending", Row(page, "pluggy")!.GetAttribute("data-status"));
        Assert.Empty(page.QuerySelectorAll("tr.closure-member.blocks"));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var blocker = Assert.Single(refusedPage.QuerySelectorAll("#closure-refused li.closure-blocker")).TextContent;
        Assert.StartsWith("pluggy 0.6.0: signal", blocker, StringComparison.Ordinal);
        Assert.Contains("files-added-later", blocker, StringComparison.Ordinal);
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ReleaseDecisions.CountAsync()));
        Assert.Equal(0, await servers.Proxy.QueryAsync(db => db.ProjectDecisions.CountAsync()));
    }

    [Fact]
    public async Task Queue_ShowsTheWorkLeftFromStoredClosures_AndSortsByIt()
    {
        await using var servers = await StartAsync("approve: [six]\n");
        using var session = await UiSession.SignedInAsync(servers.Proxy, "rita", Roles.Reviewer);
        // Demand: both become pending review requests in ci (the index answers each with a quarantined page).
        foreach (var project in new[] { "pytest", "zipp" })
        {
            using var refused = await servers.Proxy.Client.GetAsync($"ci/simple/{project}/");
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        }

        var (_, notYet, _) = await session.GetAsync("ui/queue");
        var listedBefore = await servers.Proxy.GetJsonAsync("api/v1/reviews");

        // Showing the project pages computes (and stores) both closures; the queue only reads what is stored.
        await session.GetAsync("ui/projects/pytest");
        await session.GetAsync("ui/projects/zipp");
        var (_, byName, _) = await session.GetAsync("ui/queue?sort=name");
        var (_, byWork, _) = await session.GetAsync("ui/queue?sort=work");
        var listed = await servers.Proxy.GetJsonAsync("api/v1/reviews?sort=work");
        using var bad = await servers.Proxy.SendAsync(HttpMethod.Get, "api/v1/reviews?sort=effort", ApiTestKit.BootstrapToken);

        Assert.Equal(2, notYet.QuerySelectorAll(".closure-not-computed").Length);
        Assert.All(listedBefore["items"]!.AsArray(), i => Assert.Null(i!["closureRemaining"]));
        Assert.Equal(["pytest", "zipp"], byName.QuerySelectorAll("tr[data-project]").Select(r => r.GetAttribute("data-project")!));
        Assert.Equal(["zipp", "pytest"], byWork.QuerySelectorAll("tr[data-project]").Select(r => r.GetAttribute("data-project")!));
        Assert.Equal("5", byWork.QuerySelector("tr[data-project='pytest'] td.work")!.GetAttribute("data-remaining"));
        Assert.Contains("needs 5 more", byWork.QuerySelector("tr[data-project='pytest'] td.work")!.TextContent, StringComparison.Ordinal);
        Assert.Equal("0", byWork.QuerySelector("tr[data-project='zipp'] td.work")!.GetAttribute("data-remaining"));
        Assert.Equal("work", byWork.QuerySelector("#filter-sort option[selected]")!.GetAttribute("value"));
        var items = listed["items"]!.AsArray();
        Assert.Equal([("zipp", 0L), ("pytest", 5L)], items.Select(i => (i!["project"].Text(), i["closureRemaining"].Number())));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("work", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ProjectPage_HostileRequirementFromUpstream_IsEscaped()
    {
        await using var servers = await StartAsync();
        servers.Upstream.AddFile("evil", "evil-1.0-py3-none-any.whl", Wheel("evil", "1.0", $"six; extra == \"{Hostile}\"", $"jmespath ; python_version >= \"3\" # {Hostile}"));
        using var session = await UiSession.SignedInAsync(servers.Proxy, "vera", Roles.Viewer);

        var (response, page, html) = await session.GetAsync("ui/projects/evil");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(Hostile, html, StringComparison.Ordinal);
        Assert.Contains(Hostile, page.QuerySelector("#closure-problems")!.TextContent, StringComparison.Ordinal);
        Assert.NotNull(Row(page, "evil"));
        // Whatever the closure made of the lines (a member or a problem), upstream's text reached the page as text only.
        Assert.Empty(page.QuerySelectorAll("#dependencies script"));
    }

    /// <summary>Takes six 1.11.0 off the page: with six 1.17.0 alone there is no earlier release to compare, so no size-changed signal.</summary>
    private static void WithoutOlderSix(FakePyPI upstream) => upstream.RemoveFromPage("six-1.11.0-py2.py3-none-any.whl");

    /// <summary>A minimal valid wheel whose METADATA lists <paramref name="requires"/> as Requires-Dist lines.</summary>
    private static byte[] Wheel(string name, string version, params string[] requires)
    {
        var metadata = new StringBuilder($"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
        foreach (var requirement in requires)
        {
            metadata.Append("Requires-Dist: ").Append(requirement).Append('\n');
        }

        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (path, text) in new[]
            {
                ($"{name}/__init__.py", ""),
                ($"{name}-{version}.dist-info/METADATA", metadata.ToString()),
                ($"{name}-{version}.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
                ($"{name}-{version}.dist-info/RECORD", ""),
            })
            {
                using var writer = new StreamWriter(zip.CreateEntry(path).Open());
                writer.Write(text);
            }
        }

        return buffer.ToArray();
    }
}

public sealed class ClosureUiTestsOnSqlite : ClosureUiTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class ClosureUiTestsOnPostgres : ClosureUiTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

using System.Net;
using System.Text.Json.Nodes;
using CuratedIndex.Features.Audit;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// Issue 12's proof with a real pip: a team's new service, acme-orders 1.0.0 (a wheel the test builds; its dependencies
/// are the real wheels of Fixtures/closure and Fixtures/dists), does not install from a tier 2 environment; one call,
/// "approve with dependencies", approves it with the 12 projects of its closure on the environment's one target
/// (CPython 3.11 on Linux, the interpreter pip runs on here); the same pip command then installs exactly that closure.
/// pytest's <c>colorama; sys_platform == "win32"</c> is served upstream and left out on Linux (and only there). A
/// lookalike of <c>requests</c> in another service's closure stops the call, named, with nothing approved.
/// </summary>
/// <remarks>
/// Python 3.11's venvs come with setuptools 65.5.0; the test removes it first, so that setuptools (which pytest 3.5.0
/// requires) must come from the index like every other member of the closure.
/// </remarks>
[Trait("Category", "EndToEnd")]
public sealed class ClosureInstallTests
{
    private const string Python = "/root/.pyenv/versions/3.11.7/bin/python3.11";
    private const string PipVersion = "23.2.1";
    private const string Target = "3.11 manylinux_2_28_x86_64";

    // team: tier 2 on the machine's interpreter; team-windows: the same tier on Windows, where pytest also needs colorama.
    private const string Policy = $$"""
        environments:
          team: { tier: 2, targets: ["{{Target}}"] }
          team-windows: { tier: 2, targets: ["3.11 win_amd64"] }

        """;

    private const string Reason = "new orders service, reviewed with its dependencies";

    // The service pins pytest 3.5.0 (upstream also has 3.5.1) and takes the newest of the rest: six 1.17.0 over 1.11.0,
    // zipp 3.7.0 over 3.6.0, tomlkit 0.5.3 over 0.5.2, as pip would.
    private static readonly string[] Service = ["pytest==3.5.0", "tomlkit", "zipp>=3.6", "jmespath", "first", "typing-extensions"];

    private static readonly string[] ExpectedClosure =
    [
        "acme-orders==1.0.0", "attrs==17.4.0", "first==2.0.2", "jmespath==0.10.0", "more-itertools==4.1.0", "pluggy==0.6.0",
        "py==1.5.3", "pytest==3.5.0", "setuptools==67.6.1", "six==1.17.0", "tomlkit==0.5.3", "typing-extensions==4.4.0", "zipp==3.7.0",
    ];

    [Fact]
    public async Task PipFailsOnTheNewService_OneApproveWithDependencies_TheSamePipInstallsTheWholeTree_Win32OnlyDependencyLeftOut()
    {
        using var workspace = new EndToEndWorkspace();
        var upstream = (await FakePyPI.StartAsync()).WithFixtureDists().WithFixtureClosure();
        await using var _ = upstream;
        // six's stubbed 1.11.0 (contents zeroed) next to the real 1.17.0 raises a size-changed signal, which would rightly
        // stop the one-step approval (ClosureCommandLineTests shows that); this service's tree is the newest six alone.
        upstream.RemoveFromPage("six-1.11.0-py2.py3-none-any.whl");
        var service = WheelBuilder.Build("acme-orders", "1.0.0", Service);
        upstream.AddFile(service.Project, service.Filename, service.Content);
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: ApiTestKit.Settings(), policyYaml: Policy);
        var python = await CreateVenvAsync(workspace, "venv");
        string[] install = ["acme-orders==1.0.0"];

        // Before: pip stops at the service itself, as it would at each dependency in turn.
        var before = await PipInstallAsync(workspace, python, Index(proxy), install);

        Assert.True(before.ExitCode != 0, before.Describe());
        Assert.True(before.Output.Contains("No matching distribution found for acme-orders", StringComparison.Ordinal), before.Describe());
        Assert.Equal([], await Tier3InstallTests.InstalledAsync(workspace, "venv"));

        // The reviewer's view: every member pending, the closure complete, colorama only on the Windows target.
        var closure = await proxy.GetJsonAsync("api/v1/projects/acme-orders/closure?env=team&version=1.0.0");
        var windows = await proxy.GetJsonAsync("api/v1/projects/acme-orders/closure?env=team-windows&version=1.0.0");

        Assert.Equal(("acme-orders", "1.0.0", "team", 2), (closure["project"].Text(), closure["version"].Text(), closure["environment"].Text(), (int)closure["tier"].Number()));
        Assert.Equal([Target], closure["targets"]!.AsArray().Select(t => t.Text()));
        Assert.True(closure["complete"]!.GetValue<bool>(), closure.ToJsonString());
        Assert.Equal(ExpectedClosure, Releases(closure));
        Assert.True(ExpectedClosure.Length >= 10);
        Assert.All(Members(closure), m => Assert.Equal("pending", m["status"].Text()));
        Assert.All(Members(closure), m => Assert.False(m["blocks"]!.GetValue<bool>(), m.ToJsonString()));
        Assert.Equal(ExpectedClosure.Length, (int)closure["remaining"].Number());
        Assert.Empty(closure["blockers"]!.AsArray());
        Assert.Empty(closure["problems"]!.AsArray());
        var pytest = Member(closure, "pytest");
        Assert.Equal(1, (int)pytest["depth"].Number());
        Assert.Equal("acme-orders 1.0.0 pytest==3.5.0", string.Join(" | ", pytest["requiredBy"]!.AsArray().Select(r => $"{r!["project"].Text()} {r["version"].Text()} {r["requirement"].Text()}")));
        Assert.Equal("pytest 3.5.0", string.Join(", ", Member(closure, "pluggy")["requiredBy"]!.AsArray().Select(r => $"{r!["project"].Text()} {r["version"].Text()}")));
        Assert.Contains("colorama==0.3.9", Releases(windows));
        var colorama = Member(windows, "colorama");
        Assert.Contains(colorama["requiredBy"]!.AsArray(), r => r!["project"].Text() == "pytest" && r["requirement"].Text().Contains("sys_platform == \"win32\"", StringComparison.Ordinal));

        // One call approves the service with its whole closure, each project with its own audit record.
        var approved = await proxy.PostJsonAsync("api/v1/projects/acme-orders/approve", new { reason = Reason, dependencies = true, env = "team", version = "1.0.0" });
        var decisions = await proxy.QueryAsync(db => db.ProjectDecisions.AsNoTracking().OrderBy(d => d.Project).ToListAsync());
        var audit = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().Where(r => r.Action == AuditAction.ProjectApprove).ToListAsync());

        Assert.Equal("approved", approved["verdict"].Text());
        var decided = approved["decided"]!.AsArray();
        Assert.All(decided, d => Assert.Equal("approve", d!["action"].Text()));
        Assert.Equal(ExpectedClosure, decided.Select(d => $"{d!["project"].Text()}=={d["version"].Text()}").Order(StringComparer.Ordinal));
        Assert.Equal(ExpectedClosure.Select(r => r.Split("==")[0]).Order(StringComparer.Ordinal), decisions.Select(d => d.Project).Order(StringComparer.Ordinal));
        Assert.All(decisions, d => Assert.Equal(("approved", "bootstrap-admin"), (d.Verdict, d.Actor)));
        Assert.Equal(decisions.Select(d => $"project:{d.Project}").Order(StringComparer.Ordinal), audit.Select(r => r.Subject).Order(StringComparer.Ordinal));
        foreach (var record in audit.Where(r => r.Subject != "project:acme-orders"))
        {
            Assert.Equal($"dependency of acme-orders 1.0.0, approved by bootstrap-admin: {Reason}", record.Reason);
        }

        Assert.All(Members(approved["closure"]!), m => Assert.Equal("visible", m["status"].Text()));

        // The same pip command, into the same venv, now installs the whole tree, all of it through the index.
        var after = await PipInstallAsync(workspace, python, Index(proxy), install);

        Assert.True(after.ExitCode == 0, after.Describe());
        ClientInstallTests.AssertOnlyTheIndexWasUsed(after, proxy, upstream);
        Assert.Equal(ExpectedClosure, await Tier3InstallTests.InstalledAsync(workspace, "venv"));

        // colorama was a decision, not a missing file: upstream has it, the Linux closure left it out, nobody approved it.
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=team&project=colorama");
        Assert.Equal("not-approved", explain["rule"].Text());
        Assert.DoesNotContain(decisions, d => d.Project == "colorama");
        Assert.Equal(0, upstream.HitsOn("/packages/colorama-0.3.9-py2.py3-none-any.whl"));
        Assert.NotNull(upstream.File("colorama-0.3.9-py2.py3-none-any.whl"));
    }

    [Fact]
    public async Task TyposquatInsideTheClosure_StopsApproveWithDependencies_NamedInTheRefusal_NothingApproved()
    {
        var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var _ = upstream;
        // The team mistyped requests in its service's requirements, and upstream has a project by that name (a lookalike
        // of requests, rank 6 of the popular-projects corpus): approving the closure as it is would approve the squat.
        var service = WheelBuilder.Build("acme-billing", "2.1.0", "jmespath", "six", "reqeusts>=2.18");
        var squat = WheelBuilder.Build("reqeusts", "2.18.4");
        upstream.AddFile(service.Project, service.Filename, service.Content);
        upstream.AddFile(squat.Project, squat.Filename, squat.Content);
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: ApiTestKit.Settings(), policyYaml: Policy);

        var closure = await proxy.GetJsonAsync("api/v1/projects/acme-billing/closure?env=team");
        using var refused = await proxy.SendAsync(HttpMethod.Post, "api/v1/projects/acme-billing/approve", ApiTestKit.BootstrapToken,
            new { reason = "billing service with its dependencies", dependencies = true, env = "team" });
        var body = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        var decisions = await proxy.QueryAsync(db => db.ProjectDecisions.CountAsync());
        var approvals = await proxy.QueryAsync(db => db.AuditRecords.CountAsync(r => r.Action == AuditAction.ProjectApprove));

        Assert.Equal(["acme-billing==2.1.0", "jmespath==0.10.0", "reqeusts==2.18.4", "six==1.17.0"], Releases(closure));
        var member = Member(closure, "reqeusts");
        Assert.Equal("typosquat", member["status"].Text());
        Assert.True(member["blocks"]!.GetValue<bool>());
        Assert.Contains("requests", member["reason"].Text(), StringComparison.Ordinal);
        Assert.All(Members(closure).Where(m => m["project"].Text() != "reqeusts"), m => Assert.Equal("pending", m["status"].Text()));

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(body["message"].Text()), body.ToJsonString());
        var blocker = Assert.Single(body["blockers"]!.AsArray());
        Assert.StartsWith("reqeusts 2.18.4: ", blocker.Text(), StringComparison.Ordinal);
        Assert.Contains("requests", blocker.Text(), StringComparison.Ordinal);
        Assert.Equal((0, 0), (decisions, approvals));
        foreach (var project in new[] { "acme-billing", "jmespath", "six", "reqeusts" })
        {
            Assert.Equal("not-approved", (await proxy.GetJsonAsync($"api/v1/explain?env=team&project={project}"))["rule"].Text());
        }
    }

    private static string Index(ProxyInstance proxy) => new Uri(proxy.BaseUrl, "team/simple/").ToString();

    private static IEnumerable<JsonNode> Members(JsonNode closure) => closure["members"]!.AsArray().Select(m => m!);

    private static JsonNode Member(JsonNode closure, string project) => Assert.Single(Members(closure), m => m["project"].Text() == project);

    private static List<string> Releases(JsonNode closure) =>
        Members(closure).Select(m => $"{m["project"].Text()}=={m["version"].Text()}").Order(StringComparer.Ordinal).ToList();

    /// <summary>A fresh venv of <see cref="Python"/> with pip <see cref="PipVersion"/> alone (its bundled setuptools removed).</summary>
    private static async Task<string> CreateVenvAsync(EndToEndWorkspace workspace, string venv)
    {
        (await workspace.RunAsync(Python, "-m", "venv", workspace.PathOf(venv))).EnsureSuccess();
        var python = Path.Combine(workspace.PathOf(venv), "bin", "python");
        var version = (await workspace.RunAsync(python, "-m", "pip", "--version")).EnsureSuccess();
        Assert.True(version.StandardOutput.StartsWith($"pip {PipVersion} ", StringComparison.Ordinal), version.Describe());
        (await workspace.RunAsync(python, "-m", "pip", "uninstall", "-y", "-q", "--disable-pip-version-check", "setuptools")).EnsureSuccess();
        return python;
    }

    private static Task<ProcessResult> PipInstallAsync(EndToEndWorkspace workspace, string python, string index, params string[] arguments) =>
        workspace.RunAsync(
            python,
            [
                "-m", "pip", "install", "-vv",
                "--no-cache-dir", "--no-compile", "--disable-pip-version-check", "--only-binary", ":all:",
                "--index-url", index,
                .. arguments,
            ]);
}

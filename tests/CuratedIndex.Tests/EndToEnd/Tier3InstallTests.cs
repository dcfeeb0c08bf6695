using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CuratedIndex.Data;
using CuratedIndex.Protocol;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// Tier 3 with a real pip: releases vetted through the API, installed through <c>/prod/simple/</c> into fresh venvs, in
/// front of a fake PyPI that also offers newer releases nobody vetted. The closure (Fixtures/closure plus Fixtures/dists)
/// is 12 projects: pytest 3.5.0 pulls in py, six, setuptools, attrs, more-itertools and pluggy.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed partial class Tier3InstallTests
{
    // pip 24.2. Python 3.13's venvs hold pip alone (no setuptools), so setuptools too must come from the index.
    private const string Python = "/root/.pyenv/versions/3.13.0/bin/python3.13";
    private const string PipVersion = "24.2";

    // The releases vetted for prod: for pytest, six, zipp, wheel and tomlkit upstream also offers a newer release.
    private static readonly Release[] Closure =
    [
        new("pytest", "3.5.0", "pytest-3.5.0-py2.py3-none-any.whl"),
        new("py", "1.5.3", "py-1.5.3-py2.py3-none-any.whl"),
        new("six", "1.11.0", "six-1.11.0-py2.py3-none-any.whl"),
        new("setuptools", "67.6.1", "setuptools-67.6.1-py3-none-any.whl"),
        new("attrs", "17.4.0", "attrs-17.4.0-py2.py3-none-any.whl"),
        new("more-itertools", "4.1.0", "more_itertools-4.1.0-py3-none-any.whl"),
        new("pluggy", "0.6.0", "pluggy-0.6.0-py3-none-any.whl"),
        new("zipp", "3.6.0", "zipp-3.6.0-py3-none-any.whl"),
        new("wheel", "0.37.1", "wheel-0.37.1-py2.py3-none-any.whl"),
        new("tomlkit", "0.5.2", "tomlkit-0.5.2-py2.py3-none-any.whl"),
        new("jmespath", "0.10.0", "jmespath-0.10.0-py2.py3-none-any.whl"),
        new("first", "2.0.2", "first-2.0.2-py2.py3-none-any.whl"),
    ];

    // What upstream offers beyond the vetted closure: a resolver free to choose would take each of these.
    private static readonly string[] NewerUnvetted =
    [
        "pytest-3.5.1-py2.py3-none-any.whl",
        "six-1.17.0-py2.py3-none-any.whl",
        "zipp-3.7.0-py3-none-any.whl",
        "wheel-0.40.0-py3-none-any.whl",
        "tomlkit-0.5.3-py2.py3-none-any.whl",
    ];

    // A team's top-level requirements, unpinned: the index alone decides which versions pip gets.
    private static readonly string[] Requirements = ["pytest", "zipp", "wheel", "tomlkit", "jmespath", "first"];

    [Fact]
    public async Task PipInstall_FromProd_GetsExactlyTheVettedClosureNotTheNewest()
    {
        using var workspace = new EndToEndWorkspace();
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        Assert.True(Closure.Length >= 10);

        await VetClosureAsync(proxy);
        var install = await PipInstallAsync(workspace, "prod-venv", Index(proxy), [.. Requirements]);

        Assert.True(install.ExitCode == 0, install.Describe());
        ClientInstallTests.AssertOnlyTheIndexWasUsed(install, proxy, upstream);
        Assert.Equal(Closure.Select(r => r.Wheel).Order(StringComparer.Ordinal), WheelsDownloaded(install));
        Assert.Equal(Expected(), await InstalledAsync(workspace, "prod-venv"));
        foreach (var newer in NewerUnvetted)
        {
            Assert.True(upstream.HitsOn($"/packages/{newer}") == 0, $"{newer} reached: {ClientInstallTests.Describe(upstream)}");
        }

        // The proxy says why pytest 3.5.1 was not offered.
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=prod&project=pytest&version=3.5.1");
        Assert.Equal("not-vetted", explain["rule"].Text());

        // Control: the same pip resolving the same requirements through tier 2 (every release of an approved project)
        // picks each newer release, so the versions above were the vetting's doing, not the only ones pip could install.
        var report = workspace.PathOf("ci-report.json");
        var resolved = await workspace.RunAsync(
            Path.Combine(workspace.PathOf("prod-venv"), "bin", "python"),
            [
                "-m", "pip", "install", "--dry-run", "--ignore-installed", "--report", report, "-q",
                "--no-cache-dir", "--disable-pip-version-check", "--only-binary", ":all:",
                "--index-url", new Uri(proxy.BaseUrl, "ci/simple/").ToString(),
                .. Requirements,
            ]);
        Assert.True(resolved.ExitCode == 0, resolved.Describe());
        var newest = JsonNode.Parse(File.ReadAllText(report))!["install"]!.AsArray()
            .Select(i => $"{ProjectName.Normalize(i!["metadata"]!["name"].Text())}=={i["metadata"]!["version"].Text()}")
            .ToList();
        Assert.All(
            NewerUnvetted.Select(f => DistributionFilename.TryParse(f, null, out var parsed) ? $"{ProjectName.Normalize(parsed.Project)}=={parsed.Version}" : f),
            release => Assert.Contains(release, newest));
    }

    [Fact]
    public async Task PipInstallRequireHashes_FromALockFileVettedWithItsHashes_InstallsTheLockedClosure()
    {
        using var workspace = new EndToEndWorkspace();
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        var lockFile = workspace.PathOf("requirements.txt");
        File.WriteAllText(lockFile, PipCompileLockFile(upstream));

        var vetted = await VetFromLockFileAsync(proxy, lockFile);
        var install = await PipInstallAsync(workspace, "locked-venv", Index(proxy), "--require-hashes", "-r", lockFile);

        Assert.Equal(Closure.Select(r => $"{r.Project}=={r.Version}").Order(StringComparer.Ordinal), vetted.Order(StringComparer.Ordinal));
        Assert.True(install.ExitCode == 0, install.Describe());
        ClientInstallTests.AssertOnlyTheIndexWasUsed(install, proxy, upstream);
        Assert.Equal(Closure.Select(r => r.Wheel).Order(StringComparer.Ordinal), WheelsDownloaded(install));
        Assert.Equal(Expected(), await InstalledAsync(workspace, "locked-venv"));
    }

    [Fact]
    public async Task UpstreamSwapsAVettedWheelsBytes_FreshPipInstallFails_NewBytesNeverServed_HighSeverityIncident()
    {
        using var workspace = new EndToEndWorkspace();
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        const string target = "zipp-3.6.0-py3-none-any.whl";
        await VetClosureAsync(proxy);
        var before = await PipInstallAsync(workspace, "before-swap", Index(proxy), [.. Requirements]);
        Assert.True(before.ExitCode == 0, before.Describe());
        var original = upstream.File(target);
        var fetchesBefore = upstream.HitsOn($"/packages/{target}");

        // Upstream now lists other bytes, with their own digest, under the vetted filename: a valid wheel pip would install.
        upstream.RemoveFromPage(target);
        var swapped = upstream.AddFile("zipp", target, WithExtraModule(original.Content, "zipp_payload.py", "import os  # runs on import\n"));
        var after = await PipInstallAsync(workspace, "after-swap", Index(proxy), [.. Requirements]);
        using var download = await proxy.Client.GetAsync($"prod/files/zipp/{target}");
        var body = await download.Content.ReadAsByteArrayAsync();
        var incidents = await proxy.QueryAsync(db => db.Incidents.Where(i => i.Kind == IncidentKind.PinMismatch).ToListAsync());

        Assert.NotEqual(original.Sha256, swapped.Sha256);
        Assert.True(after.ExitCode != 0, after.Describe());
        Assert.True(after.Output.Contains("No matching distribution found for zipp", StringComparison.Ordinal), after.Describe());
        ClientInstallTests.AssertOnlyTheIndexWasUsed(after, proxy, upstream);
        Assert.DoesNotContain(target, WheelsDownloaded(after));
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.False(body.AsSpan().SequenceEqual(swapped.Content), "the proxy served the swapped bytes");
        // The proxy never even fetched the new bytes from upstream, so it cannot have stored or served them.
        Assert.True(upstream.HitsOn($"/packages/{target}") == fetchesBefore, ClientInstallTests.Describe(upstream));
        var incident = Assert.Single(incidents);
        Assert.Equal(IncidentSeverity.High, incident.Severity);
        Assert.Equal(target, incident.Filename);
        Assert.Contains(swapped.Sha256, incident.Detail, StringComparison.Ordinal);
        Assert.Contains(original.Sha256, incident.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpstreamSwapsAVettedWheelsBytesAndDropsItsDigest_FreshPipInstallFails_NewBytesNeverServed()
    {
        using var workspace = new EndToEndWorkspace();
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        const string target = "zipp-3.6.0-py3-none-any.whl";
        await VetClosureAsync(proxy);
        var original = upstream.File(target);

        // Upstream serves other bytes under the vetted name and lists the file with no sha256 at all (PEP 691 allows any
        // hash, or none): nothing on the page contradicts the pin, so only the proxy can refuse the bytes.
        var swapped = WithExtraModule(original.Content, "zipp_payload.py", "import os  # runs on import\n");
        original.ServedContent = swapped;
        upstream.Override["/simple/zipp/"] = context =>
        {
            context.Response.ContentType = "application/vnd.pypi.simple.v1+json";
            return context.Response.WriteAsync(new JsonObject
            {
                ["meta"] = new JsonObject { ["api-version"] = "1.1" },
                ["name"] = "zipp",
                ["files"] = new JsonArray(new JsonObject { ["filename"] = target, ["url"] = upstream.FileUrl(target), ["hashes"] = new JsonObject() }),
            }.ToJsonString());
        };
        var install = await PipInstallAsync(workspace, "no-digest", Index(proxy), "zipp");
        using var download = await proxy.Client.GetAsync($"prod/files/zipp/{target}");
        var body = await download.Content.ReadAsByteArrayAsync();
        var explain = await proxy.GetJsonAsync($"api/v1/explain?env=prod&project=zipp&filename={target}");
        var incidents = await proxy.QueryAsync(db => db.Incidents.Where(i => i.Kind == IncidentKind.PinMismatch).ToListAsync());

        Assert.True(install.ExitCode != 0, install.Describe());
        Assert.True(install.Output.Contains("No matching distribution found for zipp", StringComparison.Ordinal), install.Describe());
        ClientInstallTests.AssertOnlyTheIndexWasUsed(install, proxy, upstream);
        Assert.Equal(HttpStatusCode.NotFound, download.StatusCode);
        Assert.False(body.AsSpan().SequenceEqual(swapped), "the proxy served the swapped bytes");
        Assert.True(upstream.HitsOn($"/packages/{target}") == 0, ClientInstallTests.Describe(upstream));
        Assert.Equal("pin-mismatch", explain["rule"].Text());
        Assert.Contains("without a sha256", explain["reason"].Text(), StringComparison.Ordinal);
        var incident = Assert.Single(incidents);
        Assert.Equal(IncidentSeverity.High, incident.Severity);
        Assert.Equal(target, incident.Filename);
    }

    [Fact]
    public async Task UpstreamDownAfterOneInstall_FreshVenvStillInstallsTheVettedClosureFromProd()
    {
        using var workspace = new EndToEndWorkspace();
        await using var servers = await StartAsync();
        var (upstream, proxy) = (servers.Upstream, servers.Proxy);
        await VetClosureAsync(proxy);
        var first = await PipInstallAsync(workspace, "before-outage", Index(proxy), [.. Requirements]);
        Assert.True(first.ExitCode == 0, first.Describe());

        upstream.Down = true;
        var pageHitsAtOutage = upstream.HitsOn("/simple/pytest/");
        var second = await PipInstallAsync(workspace, "during-outage", Index(proxy), [.. Requirements]);

        Assert.True(second.ExitCode == 0, second.Describe());
        ClientInstallTests.AssertOnlyTheIndexWasUsed(second, proxy, upstream);
        Assert.Equal(Closure.Select(r => r.Wheel).Order(StringComparer.Ordinal), WheelsDownloaded(second));
        Assert.Equal(Expected(), await InstalledAsync(workspace, "during-outage"));
        // The proxy did ask upstream during the outage (page max age 0) and installed from what it kept.
        Assert.True(upstream.HitsOn("/simple/pytest/") > pageHitsAtOutage, ClientInstallTests.Describe(upstream));
        foreach (var release in Closure)
        {
            Assert.True(upstream.HitsOn($"/packages/{release.Wheel}") == 1, $"{release.Wheel}: {ClientInstallTests.Describe(upstream)}");
        }
    }

    /// <summary>
    /// Vets every release a pip-compile lock file pins, with the sha256 digests the file holds (a digest upstream does not
    /// list fails the test). It does through the API what <c>curated-index vet -r FILE --env prod</c> does; switch this
    /// helper to run that command once it exists. Returns the <c>name==version</c> of each release vetted.
    /// </summary>
    private static async Task<List<string>> VetFromLockFileAsync(ProxyInstance proxy, string lockFile)
    {
        var vetted = new List<string>();
        // A requirement spans lines joined by a trailing backslash; comments start with '#'.
        var text = File.ReadAllText(lockFile).Replace("\\\n", " ", StringComparison.Ordinal);
        foreach (var line in text.Split('\n').Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0))
        {
            var pin = PinnedRequirement().Match(line);
            Assert.True(pin.Success, $"not a pinned requirement: {line}");
            var (project, version) = (ProjectName.Normalize(pin.Groups["name"].Value), pin.Groups["version"].Value);
            var hashes = LockHash().Matches(line).Select(m => m.Groups["hex"].Value.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
            Assert.True(hashes.Count > 0, $"no --hash for {project}=={version}");

            var release = await proxy.GetJsonAsync($"api/v1/projects/{project}/releases/{version}");
            var files = release["files"]!.AsArray()
                .Select(f => (Filename: f!["filename"].Text(), Sha256: f["sha256"].Text().ToLowerInvariant()))
                .Where(f => hashes.Contains(f.Sha256))
                .ToList();
            var unmatched = hashes.Except(files.Select(f => f.Sha256)).ToList();
            Assert.True(unmatched.Count == 0, $"{project}=={version}: upstream lists no file with sha256 {string.Join(", ", unmatched)}");

            var decision = await proxy.PostJsonAsync($"api/v1/projects/{project}/releases/{version}/vet", new
            {
                reason = $"onboarded from lock file {Path.GetFileName(lockFile)}",
                files = files.Select(f => f.Filename).ToList(),
                sha256 = files.ToDictionary(f => f.Filename, f => f.Sha256),
            });
            Assert.Equal("vetted", decision["verdict"].Text());
            vetted.Add($"{project}=={version}");
        }

        return vetted;
    }

    /// <summary>The fake upstream with Fixtures/dists and Fixtures/closure, and a proxy whose policy approves the closure with no cooldown.</summary>
    private static async Task<TestServers> StartAsync()
    {
        var upstream = (await FakePyPI.StartAsync()).WithFixtureDists().WithFixtureClosure();
        try
        {
            // Reviewers may vet at once (prod's 7 days do not apply to these projects); every page request revalidates
            // upstream (page max age 0), so a change upstream shows on the next request.
            var projects = Closure.Select(r => r.Project).ToList();
            var policy = $"approve: [{string.Join(", ", projects)}]\ncooldown:\n{string.Concat(projects.Select(p => $"  {p}: 0d\n"))}";
            var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl, settings: ApiTestKit.Settings(new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" }), policyYaml: policy);
            return new TestServers(upstream, proxy);
        }
        catch
        {
            await upstream.DisposeAsync();
            throw;
        }
    }

    /// <summary>A reviewer vets each release of the closure through the API, pinning the files upstream lists now.</summary>
    private static async Task VetClosureAsync(ProxyInstance proxy)
    {
        foreach (var release in Closure)
        {
            var decision = await proxy.PostJsonAsync($"api/v1/projects/{release.Project}/releases/{release.Version}/vet", new { reason = "reviewed for the service's closure" });
            Assert.Equal("vetted", decision["verdict"].Text());
            Assert.Equal(release.Wheel, Assert.Single(decision["files"]!.AsArray())!["filename"].Text());
        }
    }

    /// <summary>The closure as <c>pip-compile --generate-hashes</c> writes it, with the digests of the files upstream serves.</summary>
    private static string PipCompileLockFile(FakePyPI upstream)
    {
        var text = new StringBuilder("""
            #
            # This file is autogenerated by pip-compile with Python 3.13
            # by the following command:
            #
            #    pip-compile --generate-hashes requirements.in
            #

            """);
        foreach (var release in Closure.OrderBy(r => r.Project, StringComparer.Ordinal))
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{release.Project}=={release.Version} \\\n    --hash=sha256:{upstream.File(release.Wheel).Sha256}\n");
            text.Append(Requirements.Contains(release.Project) ? "    # via -r requirements.in\n" : "    # via pytest\n");
        }

        return text.ToString();
    }

    private static string Index(ProxyInstance proxy) => new Uri(proxy.BaseUrl, "prod/simple/").ToString();

    /// <summary>A fresh venv of <see cref="Python"/> and a pip install into it from <paramref name="index"/> only.</summary>
    private static async Task<ProcessResult> PipInstallAsync(EndToEndWorkspace workspace, string venv, string index, params string[] arguments)
    {
        var python = Path.Combine(workspace.PathOf(venv), "bin", "python");
        (await workspace.RunAsync(Python, "-m", "venv", workspace.PathOf(venv))).EnsureSuccess();
        var version = (await workspace.RunAsync(python, "-m", "pip", "--version")).EnsureSuccess();
        Assert.True(version.StandardOutput.StartsWith($"pip {PipVersion} ", StringComparison.Ordinal), version.Describe());
        return await workspace.RunAsync(
            python,
            [
                "-m", "pip", "install", "-vv",
                "--no-cache-dir", "--no-compile", "--disable-pip-version-check", "--only-binary", ":all:",
                "--index-url", index,
                .. arguments,
            ]);
    }

    /// <summary>Every distribution in the venv but pip itself, as normalized <c>name==version</c>, from <c>pip list --format json</c>.</summary>
    internal static async Task<List<string>> InstalledAsync(EndToEndWorkspace workspace, string venv)
    {
        var list = (await workspace.RunAsync(Path.Combine(workspace.PathOf(venv), "bin", "python"), "-m", "pip", "list", "--format", "json", "--disable-pip-version-check")).EnsureSuccess();
        return JsonNode.Parse(list.StandardOutput)!.AsArray()
            .Select(d => (Name: ProjectName.Normalize(d!["name"].Text()), Version: d["version"].Text()))
            .Where(d => d.Name != "pip")
            .Select(d => $"{d.Name}=={d.Version}")
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static List<string> Expected() => Closure.Select(r => $"{r.Project}=={r.Version}").Order(StringComparer.Ordinal).ToList();

    private static List<string> WheelsDownloaded(ProcessResult install) =>
        ClientInstallTests.Downloads(install).Where(f => !f.EndsWith(".metadata", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();

    /// <summary>The wheel with one more module: a valid wheel of the same name and version, with other bytes.</summary>
    private static byte[] WithExtraModule(byte[] wheel, string path, string source)
    {
        using var buffer = new MemoryStream();
        buffer.Write(wheel);
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Update, leaveOpen: true))
        {
            using var writer = new StreamWriter(zip.CreateEntry(path).Open());
            writer.Write(source);
        }

        return buffer.ToArray();
    }

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?<version>[^\s;\\]+)")]
    private static partial Regex PinnedRequirement();

    [GeneratedRegex(@"--hash[= ]sha256:(?<hex>[0-9A-Fa-f]{64})")]
    private static partial Regex LockHash();

    private sealed record Release(string Project, string Version, string Wheel);
}

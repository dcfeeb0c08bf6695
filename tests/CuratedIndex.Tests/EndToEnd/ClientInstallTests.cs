using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using CuratedIndex.Tests.Infrastructure;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// Real Python clients (pip 22/23/24, poetry, pdm) against a real CuratedIndex in front of a fake PyPI that
/// serves real wheels. Nothing but the index under test is reachable for the clients (see <see cref="EndToEndWorkspace"/>).
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed partial class ClientInstallTests
{
    private const string Pyenv = "/root/.pyenv/versions";

    // Requirement, import name, distribution name (for importlib.metadata), wheel installed, Python 3.x range it installs and imports on.
    private static readonly Package[] Packages =
    [
        new("six==1.17.0", "six", "six", "six-1.17.0-py2.py3-none-any.whl"),
        new("jmespath==0.10.0", "jmespath", "jmespath", "jmespath-0.10.0-py2.py3-none-any.whl"),
        new("zipp", "zipp", "zipp", "zipp-3.7.0-py3-none-any.whl"), // unpinned: the resolver must pick the newest of 3.6/3.7
        // 4.4.0 allows any Python >= 3.7 but fails to import on 3.13 ("type 'typing.TypeVar' is not an acceptable base type").
        new("typing-extensions==4.4.0", "typing_extensions", "typing_extensions", "typing_extensions-4.4.0-py3-none-any.whl", MaximumPython: 12),
        new("snowballstemmer==2.0.0", "snowballstemmer", "snowballstemmer", "snowballstemmer-2.0.0-py2.py3-none-any.whl"),
        new("first==2.0.2", "first", "first", "first-2.0.2-py2.py3-none-any.whl"),
        new("editables==0.2", "editables", "editables", "editables-0.2-py3-none-any.whl"),
        new("future-fstrings==1.2.0", "future_fstrings", "future_fstrings", "future_fstrings-1.2.0-py2.py3-none-any.whl"),
        new("wheel==0.40.0", "wheel", "wheel", "wheel-0.40.0-py3-none-any.whl"),
        new("setuptools==67.6.1", "setuptools", "setuptools", "setuptools-67.6.1-py3-none-any.whl"),
        new("rfc8785==0.1.2", "rfc8785", "rfc8785", "rfc8785-0.1.2-py3-none-any.whl"),
        new("poetry-core==2.1.3", "poetry.core", "poetry_core", "poetry_core-2.1.3-py3-none-any.whl", MinimumPython: 9),
    ];

    private static readonly PipClient[] Pips =
    [
        new("23.2.1", $"{Pyenv}/3.11.7/bin/python3.11", 11, BundledPipWheel: null, ModernIndexClient: true),
        new("24.2", $"{Pyenv}/3.13.0/bin/python3.13", 13, BundledPipWheel: null, ModernIndexClient: true),
        // Python 3.8's venv bundles pip 23.0.1 on this machine, so pip 22.0.4 is installed from ensurepip's wheel.
        new("22.0.4", $"{Pyenv}/3.8.18/bin/python3.8", 8, BundledPipWheel: $"{Pyenv}/3.8.18/lib/python3.8/ensurepip/_bundled/pip-22.0.4-py3-none-any.whl", ModernIndexClient: false),
    ];

    [Theory]
    [InlineData("23.2.1")]
    [InlineData("24.2")]
    [InlineData("22.0.4")]
    public async Task PipInstall_TwoFreshVenvs_AllImportableAndEachFileFetchedFromUpstreamOnce(string pipVersion)
    {
        var pip = Pips.Single(p => p.Version == pipVersion);
        var packages = Packages.Where(p => p.MinimumPython <= pip.PythonMinor && pip.PythonMinor <= p.MaximumPython).ToList();
        Assert.True(packages.Count >= 10);
        using var workspace = new EndToEndWorkspace();
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        var index = new Uri(proxy.BaseUrl, "dev/simple/").ToString();

        foreach (var venv in new[] { "first-venv", "second-venv" })
        {
            var install = await InstallIntoFreshVenvAsync(workspace, pip, venv, index, packages);
            AssertOnlyTheIndexWasUsed(install, proxy, upstream);
            var downloaded = Downloads(install);
            Assert.True(
                packages.Select(p => p.Wheel).Order(StringComparer.Ordinal).SequenceEqual(downloaded.Where(f => !f.EndsWith(".metadata", StringComparison.Ordinal)).Order(StringComparer.Ordinal)),
                $"{venv}: downloaded [{string.Join(", ", downloaded)}]\n{install.Describe()}");

            if (pip.ModernIndexClient)
            {
                // PEP 691 negotiated and PEP 658 metadata used: pip read the JSON page and fetched .metadata through the proxy.
                Assert.True(install.Output.Contains($"Fetched page {index}six/ as application/vnd.pypi.simple.v1+json", StringComparison.Ordinal), install.Describe());
                Assert.True(
                    packages.Select(p => p.Wheel + ".metadata").Order(StringComparer.Ordinal).SequenceEqual(downloaded.Where(f => f.EndsWith(".metadata", StringComparison.Ordinal)).Order(StringComparer.Ordinal)),
                    $"{venv}: expected a PEP 658 .metadata download per wheel, got [{string.Join(", ", downloaded)}]\n{install.Describe()}");
            }
            else
            {
                // pip 22.0.4 sends "Accept: text/html" and skips any page whose Content-Type is not text/html;
                // every page was read (all packages installed) and none was skipped, so each page was HTML.
                Assert.True(install.Output.Contains($"Getting page {index}six/", StringComparison.Ordinal), install.Describe());
                Assert.False(install.Output.Contains("Skipping page", StringComparison.Ordinal), install.Describe());
                Assert.DoesNotContain(downloaded, f => f.EndsWith(".metadata", StringComparison.Ordinal));
            }

            var python = Path.Combine(workspace.PathOf(venv), "bin", "python");
            var check = await workspace.RunAsync(
                python,
                "-c",
                $"import {string.Join(", ", packages.Select(p => p.Import))}; import importlib.metadata as m; "
                + $"print(' '.join(d + '==' + m.version(d) for d in [{string.Join(", ", packages.Select(p => $"'{p.Distribution}'"))}]))");
            Assert.True(check.ExitCode == 0, check.Describe());
            foreach (var package in packages)
            {
                var version = Regex.Match(package.Wheel, "^[^-]+-([^-]+)-").Groups[1].Value;
                Assert.True(check.StandardOutput.Contains($"{package.Distribution}=={version}", StringComparison.Ordinal), $"{package.Distribution} {version}\n{check.Describe()}");
            }
        }

        // The second venv was served from the proxy's store and page cache: upstream saw each file, each
        // .metadata and each page exactly once, and never the zipp release the resolver did not pick.
        foreach (var package in packages)
        {
            Assert.True(upstream.HitsOn($"/packages/{package.Wheel}") == 1, $"{package.Wheel}: {Describe(upstream)}");
            Assert.True(upstream.HitsOn($"/packages/{package.Wheel}.metadata") == (pip.ModernIndexClient ? 1 : 0), $"{package.Wheel}.metadata: {Describe(upstream)}");
            var project = package.Distribution.Replace('_', '-');
            Assert.True(upstream.HitsOn($"/simple/{project}/") == 1, $"{project}: {Describe(upstream)}");
        }

        Assert.Equal(0, upstream.HitsOn("/packages/zipp-3.6.0-py3-none-any.whl"));

        if (!pip.ModernIndexClient)
        {
            // The proxy's answer to pip 22.0.4's exact page request.
            using var request = new HttpRequestMessage(HttpMethod.Get, "dev/simple/six/");
            request.Headers.Accept.ParseAdd("text/html");
            request.Headers.CacheControl = new CacheControlHeaderValue { MaxAge = TimeSpan.Zero };
            using var response = await proxy.Client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("/dev/files/six/six-1.17.0-py2.py3-none-any.whl#sha256=" + upstream.File("six-1.17.0-py2.py3-none-any.whl").Sha256, body, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PipInstall_UpstreamDownAfterFirstInstall_FreshVenvInstallsFromProxy(bool forceRevalidation)
    {
        var pip = Pips.Single(p => p.Version == "23.2.1");
        var packages = Packages.ToList();
        using var workspace = new EndToEndWorkspace();
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        // PageMaxAge 0: every page request revalidates upstream, which fails during the outage (stale-if-error).
        await using var proxy = await ProxyInstance.StartAsync(
            upstream.BaseUrl,
            settings: forceRevalidation ? new Dictionary<string, string> { ["Upstream:PageMaxAge"] = "00:00:00" } : null);
        var index = new Uri(proxy.BaseUrl, "dev/simple/").ToString();

        var first = await InstallIntoFreshVenvAsync(workspace, pip, "before-outage", index, packages);
        AssertOnlyTheIndexWasUsed(first, proxy, upstream);
        var pageHitsBefore = packages.ToDictionary(p => p.Distribution, p => upstream.HitsOn($"/simple/{p.Distribution.Replace('_', '-')}/"));

        upstream.Down = true;
        var second = await InstallIntoFreshVenvAsync(workspace, pip, "during-outage", index, packages);
        AssertOnlyTheIndexWasUsed(second, proxy, upstream);
        Assert.True(
            packages.Select(p => p.Wheel).Order(StringComparer.Ordinal).SequenceEqual(Downloads(second).Where(f => !f.EndsWith(".metadata", StringComparison.Ordinal)).Order(StringComparer.Ordinal)),
            second.Describe());
        var check = await workspace.RunAsync(Path.Combine(workspace.PathOf("during-outage"), "bin", "python"), "-c", $"import {string.Join(", ", packages.Select(p => p.Import))}");
        Assert.True(check.ExitCode == 0, check.Describe());

        foreach (var package in packages)
        {
            Assert.True(upstream.HitsOn($"/packages/{package.Wheel}") == 1, $"{package.Wheel}: {Describe(upstream)}");
            var page = $"/simple/{package.Distribution.Replace('_', '-')}/";
            var before = pageHitsBefore[package.Distribution];
            if (forceRevalidation)
            {
                // The proxy did ask upstream (and got 503), then served its stale copy.
                Assert.True(upstream.HitsOn(page) > before, $"{page} not revalidated: {Describe(upstream)}");
            }
            else
            {
                Assert.True(upstream.HitsOn(page) == before, $"{page} revalidated within PageMaxAge: {Describe(upstream)}");
            }
        }
    }

    [Fact]
    public async Task PoetryLock_ProxyAsDefaultSource_LocksWithUpstreamHashes()
    {
        using var workspace = new EndToEndWorkspace();
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        var index = new Uri(proxy.BaseUrl, "dev/simple/").ToString();
        var project = Directory.CreateDirectory(workspace.PathOf("poetry-project")).FullName;
        workspace.Environment["POETRY_CACHE_DIR"] = workspace.PathOf("poetry-cache");
        workspace.Environment["POETRY_CONFIG_DIR"] = workspace.PathOf("poetry-config");
        workspace.Environment["POETRY_HOME"] = workspace.PathOf("poetry-home");
        workspace.Environment["POETRY_VIRTUALENVS_IN_PROJECT"] = "true";
        workspace.Environment["POETRY_NO_INTERACTION"] = "1";

        var version = await workspace.RunAsync("/usr/bin/poetry", "--version");
        Assert.True(version.ExitCode == 0, version.Describe());
        Assert.True(version.Output.Contains("version 1.", StringComparison.Ordinal), version.Describe()); // 1.x: `default = true`, not `priority`

        File.WriteAllText(Path.Combine(project, "pyproject.toml"), $"""
            [tool.poetry]
            name = "e2e-probe"
            version = "0.1.0"
            description = "CuratedIndex end-to-end probe"
            authors = ["e2e <e2e@example.invalid>"]

            [tool.poetry.dependencies]
            python = "^3.9"
            six = "1.17.0"
            jmespath = "^0.10.0"
            zipp = "*"
            typing-extensions = "4.4.0"
            rfc8785 = "*"

            [[tool.poetry.source]]
            name = "curated"
            url = "{index}"
            default = true

            [build-system]
            requires = ["poetry-core"]
            build-backend = "poetry.core.masonry.api"
            """);

        var locked = await workspace.RunInAsync(project, "/usr/bin/poetry", "lock", "-vvv");
        Assert.True(locked.ExitCode == 0, locked.Describe());
        AssertOnlyTheIndexWasUsed(locked, proxy, upstream);
        var lockFile = File.ReadAllText(Path.Combine(project, "poetry.lock"));
        var wheels = new[] { "six-1.17.0-py2.py3-none-any.whl", "jmespath-0.10.0-py2.py3-none-any.whl", "zipp-3.7.0-py3-none-any.whl", "typing_extensions-4.4.0-py3-none-any.whl", "rfc8785-0.1.2-py3-none-any.whl" };
        foreach (var wheel in wheels)
        {
            Assert.True(lockFile.Contains($"sha256:{upstream.File(wheel).Sha256}", StringComparison.Ordinal), $"{wheel} hash missing from poetry.lock:\n{lockFile}");
            Assert.True(lockFile.Contains(wheel, StringComparison.Ordinal), $"{wheel} missing from poetry.lock:\n{lockFile}");
        }

        Assert.True(lockFile.Contains("url = \"" + index.TrimEnd('/') + "\"\nreference = \"curated\"", StringComparison.Ordinal), lockFile); // poetry drops the trailing slash
        Assert.True(lockFile.Contains("name = \"zipp\"\nversion = \"3.7.0\"", StringComparison.Ordinal), lockFile);

        var installed = await workspace.RunInAsync(project, "/usr/bin/poetry", "install", "--no-root", "-v");
        Assert.True(installed.ExitCode == 0, installed.Describe());
        AssertOnlyTheIndexWasUsed(installed, proxy, upstream);
        var check = await workspace.RunInAsync(project, Path.Combine(project, ".venv", "bin", "python"), "-c", "import six, jmespath, zipp, typing_extensions, rfc8785; print(six.__version__, zipp.__name__)");
        Assert.True(check.ExitCode == 0, check.Describe());
        Assert.StartsWith("1.17.0 zipp", check.StandardOutput, StringComparison.Ordinal);
        foreach (var wheel in wheels)
        {
            Assert.True(upstream.HitsOn($"/packages/{wheel}") == 1, $"{wheel}: {Describe(upstream)}");
        }
    }

    [Fact]
    public async Task PdmLock_ProxyAsPypiSource_LocksWithUpstreamHashes()
    {
        using var workspace = new EndToEndWorkspace();
        await using var upstream = (await FakePyPI.StartAsync()).WithFixtureDists();
        await using var proxy = await ProxyInstance.StartAsync(upstream.BaseUrl);
        var index = new Uri(proxy.BaseUrl, "dev/simple/").ToString();
        var project = Directory.CreateDirectory(workspace.PathOf("pdm-project")).FullName;
        workspace.Environment["PDM_CONFIG_FILE"] = workspace.PathOf("pdm-config.toml");
        workspace.Environment["PDM_CHECK_UPDATE"] = "false";
        workspace.Environment["PDM_PYTHON"] = $"{Pyenv}/3.11.7/bin/python3.11";
        workspace.Environment["PDM_USE_VENV"] = "false";

        var version = await workspace.RunAsync("/usr/bin/pdm", "--version");
        Assert.True(version.ExitCode == 0, version.Describe());

        File.WriteAllText(Path.Combine(project, "pyproject.toml"), $"""
            [project]
            name = "e2e-probe"
            version = "0.1.0"
            requires-python = ">=3.9"
            dependencies = ["six==1.17.0", "jmespath>=0.10", "zipp", "typing-extensions==4.4.0", "rfc8785"]

            [[tool.pdm.source]]
            name = "pypi"
            url = "{index}"
            verify_ssl = true
            """);

        var locked = await workspace.RunInAsync(project, "/usr/bin/pdm", "lock", "-v");
        Assert.True(locked.ExitCode == 0, locked.Describe());
        AssertOnlyTheIndexWasUsed(locked, proxy, upstream);
        var lockFile = File.ReadAllText(Path.Combine(project, "pdm.lock"));
        var wheels = new[] { "six-1.17.0-py2.py3-none-any.whl", "jmespath-0.10.0-py2.py3-none-any.whl", "zipp-3.7.0-py3-none-any.whl", "typing_extensions-4.4.0-py3-none-any.whl", "rfc8785-0.1.2-py3-none-any.whl" };
        foreach (var wheel in wheels)
        {
            Assert.True(lockFile.Contains($"sha256:{upstream.File(wheel).Sha256}", StringComparison.Ordinal), $"{wheel} hash missing from pdm.lock:\n{lockFile}");
        }

        Assert.True(lockFile.Contains("name = \"zipp\"\nversion = \"3.7.0\"", StringComparison.Ordinal), lockFile);
        Assert.False(lockFile.Contains(upstream.BaseUrl.Authority, StringComparison.Ordinal), lockFile);

        // pdm 2.2 reads dependencies from the wheels themselves, so each locked wheel came through the proxy.
        foreach (var wheel in wheels)
        {
            Assert.True(upstream.HitsOn($"/packages/{wheel}") == 1, $"{wheel}: {Describe(upstream)}");
        }
    }

    private static async Task<ProcessResult> InstallIntoFreshVenvAsync(EndToEndWorkspace workspace, PipClient pip, string name, string index, IReadOnlyList<Package> packages)
    {
        var venv = workspace.PathOf(name);
        var python = Path.Combine(venv, "bin", "python");
        if (pip.BundledPipWheel is null)
        {
            (await workspace.RunAsync(pip.Python, "-m", "venv", venv)).EnsureSuccess();
        }
        else
        {
            (await workspace.RunAsync(pip.Python, "-m", "venv", "--without-pip", venv)).EnsureSuccess();
            (await workspace.RunAsync(python, $"{pip.BundledPipWheel}/pip", "install", "--no-index", "--no-compile", "--disable-pip-version-check", "-q", pip.BundledPipWheel)).EnsureSuccess();
        }

        var version = (await workspace.RunAsync(python, "-m", "pip", "--version")).EnsureSuccess();
        Assert.True(version.StandardOutput.StartsWith($"pip {pip.Version} ", StringComparison.Ordinal), version.Describe());

        var install = await workspace.RunAsync(
            python,
            [
                "-m", "pip", "install", "-vv",
                "--no-cache-dir", "--no-compile", "--disable-pip-version-check", "--only-binary", ":all:",
                "--index-url", index,
                .. packages.Select(p => p.Requirement),
            ]);
        Assert.True(install.ExitCode == 0, install.Describe());
        return install;
    }

    /// <summary>Filenames pip logged as "Downloading URL", each asserted to come from the proxy.</summary>
    internal static List<string> Downloads(ProcessResult install) =>
        DownloadPattern().Matches(install.Output).Select(m => m.Groups["url"].Value.Split('#')[0].Split('/')[^1]).Distinct().ToList();

    internal static void AssertOnlyTheIndexWasUsed(ProcessResult run, ProxyInstance proxy, FakePyPI upstream)
    {
        Assert.False(run.Output.Contains(upstream.BaseUrl.Authority, StringComparison.Ordinal), "the client saw an upstream URL\n" + run.Describe());
        Assert.False(run.Output.Contains("/opt/wheels", StringComparison.Ordinal), "the client used the machine's find-links folder\n" + run.Describe());
        foreach (var url in EndToEndWorkspace.UrlsIn(run.Output))
        {
            var host = new Uri(url).Host;
            Assert.False(host is "pypi.org" or "files.pythonhosted.org" or "pypi.python.org", $"the client contacted {url}\n{run.Describe()}");
            if (host is "127.0.0.1" or "localhost")
            {
                Assert.True(new Uri(url).Authority == proxy.BaseUrl.Authority, $"the client used {url}\n{run.Describe()}");
            }
        }

        foreach (var match in DownloadPattern().Matches(run.Output).Cast<Match>())
        {
            Assert.True(match.Groups["url"].Value.StartsWith(proxy.BaseUrl.ToString(), StringComparison.Ordinal), $"downloaded from {match.Groups["url"].Value}\n{run.Describe()}");
        }
    }

    internal static string Describe(FakePyPI upstream) =>
        "upstream hits: " + string.Join(", ", upstream.Hits.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => $"{h.Key}={h.Value}"));

    [GeneratedRegex(@"^\s*Downloading (?<url>https?://\S+)", RegexOptions.Multiline)]
    private static partial Regex DownloadPattern();

    private sealed record Package(string Requirement, string Import, string Distribution, string Wheel, int MinimumPython = 8, int MaximumPython = 13);

    private sealed record PipClient(string Version, string Python, int PythonMinor, string? BundledPipWheel, bool ModernIndexClient);
}

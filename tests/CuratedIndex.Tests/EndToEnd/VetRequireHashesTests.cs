using CuratedIndex.Data;
using CuratedIndex.Tests.Features.Audit;
using CuratedIndex.Tests.Infrastructure;

namespace CuratedIndex.Tests.EndToEnd;

/// <summary>
/// Onboarding as a platform team does it: <c>curated-index vet -r requirements.txt --env prod</c>, then real pip installs
/// that lock file with <c>--require-hashes</c> from <c>/prod/simple/</c> and gets exactly the pinned versions; the vettings
/// exported with <c>audits export</c> and imported into a second fresh instance make the same install work there.
/// </summary>
[Trait("Category", "EndToEnd")]
public sealed class VetRequireHashesTests
{
    private const string Python = "/root/.pyenv/versions/3.11.7/bin/python3.11";

    // The files of the lock file: zipp is pinned to 3.6.0 although upstream's newest is 3.7.0.
    private static readonly string[] Wheels =
    [
        "six-1.17.0-py2.py3-none-any.whl",
        "jmespath-0.10.0-py2.py3-none-any.whl",
        "zipp-3.6.0-py3-none-any.whl",
        "first-2.0.2-py2.py3-none-any.whl",
        "editables-0.2-py3-none-any.whl",
    ];

    [Fact]
    public async Task PipRequireHashes_InstallsTheLockFileVettedWithCuratedIndexVet_AndFromASecondInstanceAfterExportImport()
    {
        const string policy = "cooldown:\n  six: 0d\n  jmespath: 0d\n  zipp: 0d\n  first: 0d\n  editables: 0d\n";
        await using var servers = await TestServers.StartAsync(DatabaseProvider.Sqlite, policy);
        using var workspace = new EndToEndWorkspace();
        var lockFile = string.Concat(Wheels.Select(w =>
        {
            var file = servers.Upstream.File(w);
            var name = w.Split('-')[0];
            var version = w.Split('-')[1];
            return $"{name}=={version} \\\n    --hash=sha256:{file.Sha256}\n";
        }));
        await File.WriteAllTextAsync(workspace.PathOf("requirements.txt"), lockFile);
        var cli = Path.Combine(AuditIntegrationTests.RepositoryRoot(), "src", "CuratedIndex", "bin",
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "curated-index");
        workspace.Environment["CURATED_INDEX_URL"] = servers.Proxy.BaseUrl.ToString();
        workspace.Environment["CURATED_INDEX_TOKEN"] = ApiTestKit.BootstrapToken;

        var vet = await workspace.RunAsync(cli, "vet", "-r", "requirements.txt", "--env", "prod");
        var check = await workspace.RunAsync(cli, "check", "-r", "requirements.txt", "--env", "prod");
        (await workspace.RunAsync(Python, "-m", "venv", workspace.PathOf("venv"))).EnsureSuccess();
        var python = workspace.PathOf("venv", "bin", "python");
        var install = await workspace.RunAsync(python,
            "-m", "pip", "install", "--require-hashes", "--no-deps", "--no-cache-dir", "--no-compile", "--disable-pip-version-check",
            "--index-url", new Uri(servers.Proxy.BaseUrl, "prod/simple/").ToString(), "-r", "requirements.txt");
        var versions = await workspace.RunAsync(python, "-c",
            "import importlib.metadata as m; print(' '.join(f'{d}=={m.version(d)}' for d in ['six', 'jmespath', 'zipp', 'first', 'editables']))");

        Assert.True(vet.ExitCode == 0, vet.Describe());
        Assert.EndsWith("5 vetted, 0 already vetted, 0 refused, 0 waiting for cooldown; 5 projects approved", vet.StandardOutput.TrimEnd(), StringComparison.Ordinal);
        Assert.True(check.ExitCode == 0, check.Describe());
        Assert.True(install.ExitCode == 0, install.Describe());
        Assert.Equal("six==1.17.0 jmespath==0.10.0 zipp==3.6.0 first==2.0.2 editables==0.2", versions.EnsureSuccess().StandardOutput.Trim());
        Assert.DoesNotContain(EndToEndWorkspace.UrlsIn(install.Output), u => !u.StartsWith(servers.Proxy.BaseUrl.ToString(), StringComparison.Ordinal));

        // The second organization approves the same projects (approval is its own call) and imports the first one's vettings.
        var export = await workspace.RunAsync(cli, "audits", "export");
        await File.WriteAllTextAsync(workspace.PathOf("audits.json"), export.EnsureSuccess().StandardOutput);
        await using var second = await TestServers.StartAsync(DatabaseProvider.Sqlite, "approve: [six, jmespath, zipp, first, editables]\n" + policy);
        var beforeImport = await InstallAsync(workspace, second.Proxy, "venv-before-import");
        var import = await workspace.RunAsync(cli, "audits", "import", "audits.json", "--server", second.Proxy.BaseUrl.ToString());
        var afterImport = await InstallAsync(workspace, second.Proxy, "venv-second");
        var secondVersions = await workspace.RunAsync(workspace.PathOf("venv-second", "bin", "python"), "-c",
            "import importlib.metadata as m; print(' '.join(f'{d}=={m.version(d)}' for d in ['six', 'jmespath', 'zipp', 'first', 'editables']))");

        Assert.True(beforeImport.ExitCode != 0, beforeImport.Describe());
        Assert.True(import.ExitCode == 0, import.Describe());
        Assert.EndsWith("import from curated-index: 5 vetted, 0 skipped, 0 refused, 0 waiting for cooldown; 0 left out by --criteria/--projects", import.StandardOutput.TrimEnd(), StringComparison.Ordinal);
        Assert.True(afterImport.ExitCode == 0, afterImport.Describe());
        Assert.Equal("six==1.17.0 jmespath==0.10.0 zipp==3.6.0 first==2.0.2 editables==0.2", secondVersions.EnsureSuccess().StandardOutput.Trim());
    }

    private static async Task<ProcessResult> InstallAsync(EndToEndWorkspace workspace, ProxyInstance proxy, string venv)
    {
        (await workspace.RunAsync(Python, "-m", "venv", workspace.PathOf(venv))).EnsureSuccess();
        return await workspace.RunAsync(workspace.PathOf(venv, "bin", "python"),
            "-m", "pip", "install", "--require-hashes", "--no-deps", "--no-cache-dir", "--no-compile", "--disable-pip-version-check",
            "--index-url", new Uri(proxy.BaseUrl, "prod/simple/").ToString(), "-r", "requirements.txt");
    }
}

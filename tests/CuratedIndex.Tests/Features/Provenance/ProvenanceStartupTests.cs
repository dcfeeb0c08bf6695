using CuratedIndex.Hosting;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Features.Audit;

namespace CuratedIndex.Tests.Features.Provenance;

/// <summary>
/// A trusted root that is missing or unusable stops the start with one line naming <c>Provenance:TrustedRootPath</c> and
/// the path: provenance that cannot be verified would otherwise hold every release silently.
/// </summary>
public sealed class ProvenanceStartupTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("curated-index-trusted-root-").FullName;

    [Fact]
    public async Task Prepare_MissingTrustedRoot_RefusesNamingTheKeyAndThePath()
    {
        var path = Path.Combine(_root, "sigstore", "no-such-root.json");

        var e = await Assert.ThrowsAsync<StartupRefusedException>(() => PrepareAsync(path));

        Assert.StartsWith($"Provenance:TrustedRootPath: cannot read the Sigstore trusted root at {path}: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Prepare_CorruptTrustedRoot_RefusesNamingTheKeyThePathAndTheProblem()
    {
        var path = Path.Combine(_root, "trusted_root.json");
        await File.WriteAllTextAsync(path, "{\"mediaType\": \"application/vnd.dev.sigstore.trustedroot+json;version=0.1\", \"tlogs\": [");

        var e = await Assert.ThrowsAsync<StartupRefusedException>(() => PrepareAsync(path));

        Assert.StartsWith($"Provenance:TrustedRootPath: {path} is not a usable Sigstore trusted root: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Executable_MissingTrustedRoot_ExitsWithOneLineNamingTheKeyAndThePath()
    {
        WritePolicy();
        var executable = Path.Combine(AuditIntegrationTests.RepositoryRoot(), "src", "CuratedIndex", "bin",
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "curated-index");
        await using var process = ExternalProcess.Start(
            executable,
            [$"--contentRoot={_root}", "--Urls=http://127.0.0.1:0", "--Jobs:Enabled=false", "--Upstream:Url=http://127.0.0.1:9/", "--Provenance:TrustedRootPath=missing/trusted_root.json"],
            _root,
            new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null });

        var result = await process.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"error: Provenance:TrustedRootPath: cannot read the Sigstore trusted root at {Path.Combine(_root, "missing", "trusted_root.json")}", line, StringComparison.Ordinal);
    }

    private async Task PrepareAsync(string trustedRootPath)
    {
        WritePolicy();
        await using var app = CuratedIndexHost.Build(
        [
            $"--contentRoot={_root}",
            "--Urls=http://127.0.0.1:0",
            "--Upstream:Url=http://127.0.0.1:9/",
            "--Jobs:Enabled=false",
            "--Logging:LogLevel:Default=Warning",
            $"--ConnectionStrings:CuratedIndex=Data Source={Path.Combine(_root, "data", "curated-index.db")}",
            $"--Provenance:TrustedRootPath={trustedRootPath}",
        ]);
        await CuratedIndexHost.PrepareAsync(app, CancellationToken.None);
    }

    private void WritePolicy()
    {
        var policies = Directory.CreateDirectory(Path.Combine(_root, "policies")).FullName;
        File.WriteAllText(Path.Combine(policies, "environments.yaml"), "environments:\n  dev: { tier: 1 }\n");
        Directory.CreateDirectory(Path.Combine(_root, "data"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

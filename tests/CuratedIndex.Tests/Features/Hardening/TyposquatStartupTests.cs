using CuratedIndex.Hosting;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Features.Audit;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 12: an environment with <c>typosquat: block</c> and no loadable corpus refuses to start (one line naming
/// the environment and the key) instead of letting every lookalike through.
/// </summary>
public sealed class TyposquatStartupTests : IDisposable
{
    private const string Blocking = "environments:\n  dev: { tier: 1 }\n  strict: { tier: 2, typosquat: block }\n";
    private readonly string _root = Directory.CreateTempSubdirectory("curated-index-typosquat-start-").FullName;

    [Fact]
    public async Task Prepare_BlockingEnvironmentWithMissingCorpus_RefusesNamingEnvironmentAndKey()
    {
        var e = await Assert.ThrowsAsync<StartupRefusedException>(() => PrepareAsync(Blocking, Path.Combine(_root, "no-such-corpus.tsv")));

        Assert.Contains("environment 'strict' has typosquat: block", e.Message, StringComparison.Ordinal);
        Assert.Contains("Typosquat:CorpusPath", e.Message, StringComparison.Ordinal);
        Assert.Contains("the file does not exist", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Prepare_BlockingEnvironmentWithEmptyCorpus_Refuses()
    {
        var corpus = Path.Combine(_root, "empty.tsv");
        await File.WriteAllTextAsync(corpus, "rank\tname\n");

        var e = await Assert.ThrowsAsync<StartupRefusedException>(() => PrepareAsync(Blocking, corpus));

        Assert.Contains("it lists no projects", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prepare_BlockingEnvironmentWithUnreadableCorpus_Refuses()
    {
        var corpus = Path.Combine(_root, "broken.tsv");
        await File.WriteAllTextAsync(corpus, "1\trequests\nnot a rank line\n");

        var e = await Assert.ThrowsAsync<StartupRefusedException>(() => PrepareAsync(Blocking, corpus));

        Assert.Contains("expected 'rank<TAB>name'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prepare_WarnOnlyEnvironmentsWithMissingCorpus_Start()
    {
        await PrepareAsync("environments:\n  dev: { tier: 1 }\n  ci: { tier: 2, typosquat: warn }\n", Path.Combine(_root, "no-such-corpus.tsv"));
    }

    [Fact]
    public async Task Executable_BlockingEnvironmentWithMissingCorpus_ExitsWithOneLine()
    {
        WritePolicy(Blocking);
        var executable = Path.Combine(AuditIntegrationTests.RepositoryRoot(), "src", "CuratedIndex", "bin",
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "curated-index");
        await using var process = ExternalProcess.Start(
            executable,
            [$"--contentRoot={_root}", "--Urls=http://127.0.0.1:0", "--Jobs:Enabled=false", "--Upstream:Url=http://127.0.0.1:9/", "--Typosquat:CorpusPath=missing/corpus.tsv"],
            _root,
            new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null });

        var result = await process.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: environment 'strict' has typosquat: block", line, StringComparison.Ordinal);
        Assert.Contains("Typosquat:CorpusPath", line, StringComparison.Ordinal);
    }

    private async Task PrepareAsync(string policy, string corpusPath)
    {
        WritePolicy(policy);
        await using var app = CuratedIndexHost.Build(
        [
            $"--contentRoot={_root}",
            "--Urls=http://127.0.0.1:0",
            "--Upstream:Url=http://127.0.0.1:9/",
            "--Jobs:Enabled=false",
            "--Logging:LogLevel:Default=Warning",
            $"--ConnectionStrings:CuratedIndex=Data Source={Path.Combine(_root, "data", "curated-index.db")}",
            $"--Typosquat:CorpusPath={corpusPath}",
        ]);
        await CuratedIndexHost.PrepareAsync(app, CancellationToken.None);
    }

    private void WritePolicy(string policy)
    {
        var policies = Directory.CreateDirectory(Path.Combine(_root, "policies")).FullName;
        File.WriteAllText(Path.Combine(policies, "environments.yaml"), policy);
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

using CuratedIndex.Data;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Hosting;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Tests.ScaleOut;

/// <summary>
/// One node as its own process: the built executable, its own content root and port, on a shared PostgreSQL database
/// (and whatever else <c>settings</c> share). Killed with SIGKILL when the test is done, or earlier when the test says so.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly ExternalProcess _process;

    private NodeProcess(ExternalProcess process, string root, Uri baseUrl)
    {
        _process = process;
        Root = root;
        BaseUrl = baseUrl;
        Client = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Root { get; }

    public Uri BaseUrl { get; }

    public HttpClient Client { get; }

    /// <summary>How the node names itself in <c>job_runs.node</c>: machine and process id.</summary>
    public string NodeName => $"{Environment.MachineName}/{_process.ProcessId}";

    public string Output => _process.OutputSoFar;

    /// <summary>Starts a node and waits until it answers <c>/healthz</c>.</summary>
    public static async Task<NodeProcess> StartAsync(Uri upstream, string postgresConnection, IDictionary<string, string>? settings = null)
    {
        var root = Directory.CreateTempSubdirectory("curated-index-node-").FullName;
        var policies = Directory.CreateDirectory(Path.Combine(root, "policies")).FullName;
        await File.WriteAllTextAsync(Path.Combine(policies, "environments.yaml"), "environments:\n  dev: { tier: 1 }\n  ci: { tier: 2 }\n  prod: { tier: 3, cooldown: 7d }\n");
        var port = ExecutableTests.FreePort();
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["contentRoot"] = root,
            ["Urls"] = $"http://127.0.0.1:{port}",
            ["Upstream:Url"] = upstream.ToString(),
            ["Upstream:FileHosts:0"] = upstream.Authority,
            ["Upstream:Timeout"] = "00:00:05",
            ["Policies:Path"] = "policies",
            ["Typosquat:CorpusPath"] = Path.Combine(AppContext.BaseDirectory, "config", "top-pypi-projects.tsv"),
            ["ReverseProxy:Clusters:upstream:HealthCheck:Active:Enabled"] = "false",
            ["Database:Provider"] = "Postgres",
            ["Database:MigrateOnStartup"] = "true",
            ["ConnectionStrings:CuratedIndex"] = postgresConnection,
            ["Auth:BootstrapAdminToken"] = ApiTestKit.BootstrapToken,
            ["Auth:AllowInsecureCookies"] = "true",
            ["Jobs:Enabled"] = "false",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            arguments[key] = value;
        }

        var process = ExternalProcess.Start(
            ExecutableTests.Executable(),
            arguments.Select(a => $"--{a.Key}={a.Value}"),
            root,
            new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null });
        var node = new NodeProcess(process, root, new Uri($"http://127.0.0.1:{port}/"));
        try
        {
            await process.WaitUntilAnswersAsync(new Uri(node.BaseUrl, "healthz"));
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>The shared database, read directly (what the nodes wrote, whatever became of them).</summary>
    public static PostgresCuratedIndexDbContext Database(string postgresConnection) =>
        new(new DbContextOptionsBuilder<PostgresCuratedIndexDbContext>().UseNpgsql(postgresConnection).Options);

    /// <summary>kill -9: no shutdown code runs, connections drop where they are.</summary>
    public void Kill() => _process.Kill();

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still being closed; the temporary directory goes with the OS's cleanup.
        }
    }
}

using CuratedIndex.Data;
using CuratedIndex.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace CuratedIndex.Tests.Infrastructure;

/// <summary>
/// A real CuratedIndex on a free loopback port with its own data directory and policies, on SQLite or
/// on a fresh PostgreSQL database (dropped on dispose).
/// </summary>
public sealed class ProxyInstance : IAsyncDisposable
{
    public const string PostgresVariable = "CURATED_INDEX_TEST_POSTGRES";

    private readonly WebApplication? _app;
    private readonly InProcessFactory? _factory;
    private readonly string? _postgresDatabase;

    private ProxyInstance(WebApplication? app, InProcessFactory? factory, string root, string? postgresDatabase, Uri baseUrl, DatabaseProvider provider, string connectionString)
    {
        _app = app;
        _factory = factory;
        Provider = provider;
        ConnectionString = connectionString;
        Root = root;
        _postgresDatabase = postgresDatabase;
        BaseUrl = baseUrl;
        Client = new HttpClient(CreateHandler()) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>True when the instance runs in this process on a TestServer (no socket): only HTTP clients made with <see cref="CreateHandler"/> reach it.</summary>
    public bool InProcess => _factory is not null;

    public Uri BaseUrl { get; }

    /// <summary>The instance's content root: data/, policies/ and config live here.</summary>
    public string Root { get; }

    public HttpClient Client { get; }

    public DatabaseProvider Provider { get; }

    /// <summary>The database's connection string, for tools run beside the instance (the CLI) and direct SQL.</summary>
    public string ConnectionString { get; }

    public IServiceProvider Services => _app?.Services ?? _factory!.Services;

    /// <summary>A handler that reaches this instance without redirects or cookies: a socket, or the in-process TestServer.</summary>
    public HttpMessageHandler CreateHandler() =>
        _factory is not null ? _factory.Server.CreateHandler() : new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false };

    /// <summary>
    /// Starts the proxy in this process through <see cref="WebApplicationFactory{TEntryPoint}"/>: the real entry point
    /// (<c>Program</c>, which prepares the database and policies as <c>serve</c> does) on a TestServer instead of Kestrel.
    /// For tests of the API, the UI and the authorization matrix, which need no socket and no external client.
    /// </summary>
    public static Task<ProxyInstance> StartInProcessAsync(
        Uri upstream,
        DatabaseProvider provider = DatabaseProvider.Sqlite,
        IDictionary<string, string>? settings = null,
        string? policyYaml = null) =>
        StartCoreAsync(upstream, provider, settings, policyYaml, configure: null, inProcess: true);

    public static Task<ProxyInstance> StartAsync(
        Uri upstream,
        DatabaseProvider provider = DatabaseProvider.Sqlite,
        IDictionary<string, string>? settings = null,
        string? policyYaml = null,
        Action<WebApplicationBuilder>? configure = null) =>
        StartCoreAsync(upstream, provider, settings, policyYaml, configure, inProcess: false);

    /// <summary>
    /// Another node of <paramref name="cluster"/>'s deployment, on its own socket: the same database and artifact directory,
    /// its own content root (caches, document files) and its own data-protection discriminator, as a second machine has.
    /// The database stays <paramref name="cluster"/>'s to drop.
    /// </summary>
    /// <remarks>With <paramref name="root"/> the node restarts on a content root kept from an earlier node (<see cref="KeepRoot"/>).</remarks>
    public static Task<ProxyInstance> StartNodeAsync(ProxyInstance cluster, Uri upstream, IDictionary<string, string>? settings = null, string? policyYaml = null, string? root = null) =>
        StartCoreAsync(upstream, cluster.Provider, settings, policyYaml, configure: null, inProcess: false, cluster, root);

    /// <summary>Leave <see cref="Root"/> on disk when disposed, for a node that restarts on it.</summary>
    public bool KeepRoot { get; set; }

    private static async Task<ProxyInstance> StartCoreAsync(
        Uri upstream,
        DatabaseProvider provider,
        IDictionary<string, string>? settings,
        string? policyYaml,
        Action<WebApplicationBuilder>? configure,
        bool inProcess,
        ProxyInstance? cluster = null,
        string? root = null)
    {
        root ??= Directory.CreateTempSubdirectory("curated-index-test-").FullName;
        var policies = Directory.CreateDirectory(Path.Combine(root, "policies")).FullName;
        File.WriteAllText(Path.Combine(policies, "environments.yaml"), "environments:\n  dev: { tier: 1 }\n  ci: { tier: 2 }\n  prod: { tier: 3, cooldown: 7d }\n");
        if (policyYaml is not null)
        {
            File.WriteAllText(Path.Combine(policies, "test.yaml"), policyYaml);
        }

        var args = new List<string>
        {
            $"--contentRoot={root}",
            "--Urls=http://127.0.0.1:0",
            $"--Upstream:Url={upstream}",
            $"--Upstream:FileHosts:0={upstream.Authority}",
            "--Upstream:Timeout=00:00:05",
            "--Policies:Path=policies",
            $"--Storage:Path={(cluster is null ? "data/artifacts" : Path.Combine(cluster.Root, "data", "artifacts"))}",
            "--Cache:Path=data/cache",
            $"--Typosquat:CorpusPath={Path.Combine(AppContext.BaseDirectory, "config", "top-pypi-projects.tsv")}",
            "--ReverseProxy:Clusters:upstream:HealthCheck:Active:Enabled=false",
            "--Logging:LogLevel:Default=Warning",
            // The tests sign in over plain HTTP on loopback; the Secure-cookie tests turn it off again.
            "--Auth:AllowInsecureCookies=true",
            // Most tests do not need the scheduler; the job tests turn it on with Jobs:Enabled=true.
            "--Jobs:Enabled=false",
        };
        string? database = null;
        string connectionString;
        if (cluster is not null)
        {
            connectionString = cluster.ConnectionString;
            args.Add($"--Database:Provider={provider}");
            args.Add($"--ConnectionStrings:CuratedIndex={connectionString}");
            Directory.CreateDirectory(Path.Combine(root, "data"));
        }
        else if (provider == DatabaseProvider.Postgres)
        {
            database = await CreatePostgresDatabaseAsync();
            args.Add("--Database:Provider=Postgres");
            args.Add("--Database:MigrateOnStartup=true");
            connectionString = PostgresConnection(database);
            args.Add($"--ConnectionStrings:CuratedIndex={connectionString}");
        }
        else
        {
            connectionString = $"Data Source={Path.Combine(root, "data", "curated-index.db")}";
            args.Add($"--ConnectionStrings:CuratedIndex={connectionString}");
            Directory.CreateDirectory(Path.Combine(root, "data"));
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            args.Add($"--{key}={value}");
        }

        if (inProcess)
        {
            var factory = new InProcessFactory(args);
            _ = factory.Server; // starts the entry point: migrations, policies, then the host
            return new ProxyInstance(null, factory, root, database, new Uri("http://localhost/"), provider, connectionString);
        }

        var app = CuratedIndexHost.Build(args.ToArray(), configure);
        await CuratedIndexHost.PrepareAsync(app, CancellationToken.None);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ProxyInstance(app, null, root, database, new Uri(address + "/"), provider, connectionString);
    }

    public static string PostgresAdminConnection() =>
        Environment.GetEnvironmentVariable(PostgresVariable)
        ?? throw new InvalidOperationException($"PostgreSQL tests need {PostgresVariable} (an admin connection string); run ./test.sh, which starts PostgreSQL and sets it.");

    internal static string PostgresConnection(string database) =>
        new NpgsqlConnectionStringBuilder(PostgresAdminConnection()) { Database = database, Pooling = false }.ConnectionString;

    internal static async Task DropPostgresDatabaseAsync(string database)
    {
        await using var connection = new NpgsqlConnection(PostgresAdminConnection());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    internal static async Task<string> CreatePostgresDatabaseAsync()
    {
        var name = $"ci_test_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(PostgresAdminConnection());
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (_postgresDatabase is not null)
        {
            await DropPostgresDatabaseAsync(_postgresDatabase);
        }

        if (KeepRoot)
        {
            return;
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a closing handle; the temp directory is cleaned by the OS later.
        }
    }
}

/// <summary>
/// The real entry point in this process. Settings travel as the command line the entry point receives (the factory turns
/// host configuration into <c>--key=value</c> arguments), so they are in place before the host reads them.
/// </summary>
internal sealed class InProcessFactory(IReadOnlyList<string> args) : WebApplicationFactory<Program>
{
    protected override IHost CreateHost(IHostBuilder builder)
    {
        // A key given twice keeps its later value, as on a command line.
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in args.Select(a => a.TrimStart('-').Split('=', 2)))
        {
            settings[pair[0]] = pair[1];
        }

        builder.ConfigureHostConfiguration(c => c.AddInMemoryCollection(settings));
        return base.CreateHost(builder);
    }

    // The test server gives requests no client address; a real one always has one. Loopback, as a client on this
    // machine would be, so that per-client rules (demand once per caller, sign-in throttling, trusted proxies) apply.
    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        builder.ConfigureServices(services => services.AddSingleton<IStartupFilter, LoopbackClientAddress>());

    private sealed class LoopbackClientAddress : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress ??= System.Net.IPAddress.Loopback;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}

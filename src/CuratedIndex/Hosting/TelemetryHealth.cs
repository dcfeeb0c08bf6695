using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CuratedIndex.Data;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Storage;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace CuratedIndex.Hosting;

/// <summary>One check of <c>/readyz</c>: ok or failed, with a one-line reason that names no host, path or secret.</summary>
public sealed record HealthCheck(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("reason")] string Reason)
{
    public const string Ok = "ok";
    public const string Failed = "failed";
    public const string Unknown = "unknown";
}

/// <summary>The body of <c>/readyz</c>.</summary>
/// <param name="Checked">When the checks ran: every probe within <see cref="TelemetryHealth.KeepFor"/> gets the same result.</param>
public sealed record Readiness(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("checked")] DateTimeOffset Checked,
    [property: JsonPropertyName("checks")] IReadOnlyDictionary<string, HealthCheck> Checks)
{
    [JsonIgnore]
    public bool Ready => Status == "ready";
}

/// <summary>
/// <c>/healthz</c> (liveness: the process answers; no dependency is asked) and <c>/readyz</c> (readiness: the database
/// answers a query and the artifact store answers a lookup). Upstream is reported, not required: cached content still
/// serves while it is down. A result is kept for <see cref="KeepFor"/> and concurrent probes share one check in progress,
/// so however often <c>/readyz</c> is asked, the database and the store are asked at most once per second or so.
/// </summary>
public sealed class TelemetryHealth(
    IServiceScopeFactory scopes,
    IArtifactStore store,
    CuratedIndexMetrics metrics,
    IProxyStateLookup proxyState,
    IOptions<StorageOptions> storage,
    IHostEnvironment host,
    TimeProvider clock,
    ILogger<TelemetryHealth> logger)
{
    public static readonly TimeSpan KeepFor = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(2);

    // A key no writer ever uses (keys are made by the proxy: files/…, unverified/…): a lookup that must answer "none".
    internal const string ProbeKey = "readyz/probe-that-is-never-stored";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    private readonly Lock _lock = new();
    private Task<Readiness>? _current;
    private long _checkedAt;

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", async (HttpContext context, TelemetryHealth health) =>
        {
            var readiness = await health.CheckAsync();
            context.Response.Headers.CacheControl = "no-store";
            return Results.Text(JsonSerializer.Serialize(readiness, Json) + "\n", "application/json; charset=utf-8", statusCode: readiness.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        });
    }

    /// <summary>The last result if it is younger than <see cref="KeepFor"/>, else a new one (shared with concurrent callers).</summary>
    public Task<Readiness> CheckAsync()
    {
        lock (_lock)
        {
            if (_current is null || (_current.IsCompleted && Environment.TickCount64 - _checkedAt >= KeepFor.TotalMilliseconds))
            {
                _current = RunAsync();
            }

            return _current;
        }
    }

    private async Task<Readiness> RunAsync()
    {
        // Off the caller's thread at once: the checks wait for I/O, and the lock above is held while this starts.
        await Task.Yield();
        var started = clock.GetUtcNow();
        var database = DatabaseAsync();
        var artifacts = StoreAsync();
        var checks = new Dictionary<string, HealthCheck>(StringComparer.Ordinal)
        {
            ["database"] = await database,
            ["store"] = await artifacts,
            ["upstream"] = Upstream(),
        };
        _checkedAt = Environment.TickCount64;
        var ready = checks["database"].Status == HealthCheck.Ok && checks["store"].Status == HealthCheck.Ok;
        return new Readiness(ready ? "ready" : "not ready", started, checks);
    }

    private async Task<HealthCheck> DatabaseAsync()
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(CheckTimeout);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            // A real query on a table every version has, not just an open connection: a database without our schema is not ready.
            _ = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AnyAsync(db.ReviewRequests, timeout.Token);
            return new HealthCheck(HealthCheck.Ok, $"answered in {Milliseconds(started)} ms");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return Failed("database", $"no answer within {CheckTimeout.TotalSeconds:0} s", null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed("database", $"the query failed ({Describe(e)})", e);
        }
    }

    private async Task<HealthCheck> StoreAsync()
    {
        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(CheckTimeout);
        try
        {
            var found = await store.OpenAsync(ProbeKey, timeout.Token).WaitAsync(timeout.Token);
            if (found is not null)
            {
                await found.DisposeAsync();
            }

            if (NotADirectory() is { } problem)
            {
                return Failed("store", problem, null);
            }

            return new HealthCheck(HealthCheck.Ok, $"answered a lookup in {Milliseconds(started)} ms");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return Failed("store", $"no answer within {CheckTimeout.TotalSeconds:0} s", null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Failed("store", $"a lookup failed ({Describe(e)})", e);
        }
    }

    // A filesystem store answers a lookup under a path that is a file as "not there" (the file's "directory" does not
    // exist), yet could store nothing: a root that exists must be a directory. (One that does not exist yet is made by the
    // first write.)
    private string? NotADirectory()
    {
        var options = storage.Value;
        if (options.Provider != StorageProvider.FileSystem)
        {
            return null;
        }

        var root = Path.IsPathRooted(options.Path) ? options.Path : Path.Combine(host.ContentRootPath, options.Path);
        return File.Exists(root) ? "Storage:Path is a file, not a directory" : null;
    }

    // Reported without asking upstream: YARP's active health checks where they run, else this node's last upstream request.
    private HealthCheck Upstream()
    {
        if (proxyState.TryGetCluster(UpstreamCluster.ClusterId, out var cluster))
        {
            var destinations = cluster.Destinations.Values;
            var probed = destinations.Count(d => d.Health.Active != DestinationHealth.Unknown);
            if (probed > 0)
            {
                var healthy = destinations.Count(d => d.Health.Active == DestinationHealth.Healthy);
                return new HealthCheck(healthy > 0 ? HealthCheck.Ok : HealthCheck.Failed, $"{healthy} of {destinations.Count} upstream destinations healthy (active health checks); cached content serves either way");
            }
        }

        return metrics.LastUpstream() switch
        {
            null => new HealthCheck(HealthCheck.Unknown, "no upstream request yet"),
            { Answered: true } last => new HealthCheck(HealthCheck.Ok, $"the last upstream request ({Seconds(last.Ago)} s ago) was answered"),
            var last => new HealthCheck(HealthCheck.Failed, $"the last upstream request ({Seconds(last.Value.Ago)} s ago) failed ({last.Value.Error}); cached content still serves"),
        };
    }

    private HealthCheck Failed(string check, string reason, Exception? e)
    {
        HostingLog.NotReady(logger, check, reason, e);
        return new HealthCheck(HealthCheck.Failed, reason);
    }

    // The exception's type (and a PostgreSQL SQLSTATE): exception messages may name hosts, paths or users, which the
    // anonymous /readyz must not show. The log has the whole exception.
    private static string Describe(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null && inner is Microsoft.EntityFrameworkCore.DbUpdateException or AggregateException)
        {
            inner = inner.InnerException;
        }

        return inner is Npgsql.PostgresException postgres ? $"{inner.GetType().Name} {postgres.SqlState}" : inner.GetType().Name;
    }

    private static string Milliseconds(long started) => Stopwatch.GetElapsedTime(started).TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan ago) => ago.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
}

using CuratedIndex.Hosting;
using CuratedIndex.Data;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage;
using Hangfire.Storage.SQLite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Jobs;

/// <summary>
/// Hangfire beside the app's database: on SQLite its own file next to the app's database file (never the app's file:
/// two writers with their own locking on one SQLite file fight), on PostgreSQL the <c>hangfire</c> schema of the app's
/// database (created by Hangfire's installer; every node runs a server against it). Jobs are declared with
/// <see cref="JobCatalogRegistration.AddCuratedIndexJob{TJob}"/>; features enqueue work through <see cref="IWorkQueue"/>.
/// </summary>
public static class JobsRegistration
{
    /// <summary>The SQLite storage's file name, in the directory of the app's database file.</summary>
    public const string SqliteFileName = "hangfire.db";

    /// <summary>The PostgreSQL schema Hangfire's installer creates and uses.</summary>
    public const string PostgresSchema = "hangfire";

    public static void AddCuratedIndexJobs(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddValidatedOptions<JobsOptions>(JobsOptions.Section);
        services.AddSingleton<JobCatalog>();
        services.AddSingleton<JobRunRecorder>();
        services.AddSingleton<IJobProgress>(sp => sp.GetRequiredService<JobRunRecorder>());
        services.AddSingleton<JobTrigger>();
        services.AddScoped<JobDispatcher>();
        services.AddSingleton<IWorkQueue, HangfireWorkQueue>();

        var jobs = builder.Configuration.GetSection(JobsOptions.Section).Get<JobsOptions>() ?? new JobsOptions();
        var database = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var connectionString = DataRegistration.ConnectionString(builder, database.Provider);

        // Hangfire keeps its storage and job activator in statics; registered here per host (AddHangfire only adds what is
        // missing), so that several hosts in one process (the tests) never run each other's jobs or share a storage.
        services.AddSingleton<JobStorage>(sp =>
        {
            sp.GetRequiredService<IGlobalConfiguration>();
            return database.Provider == DatabaseProvider.Postgres
                ? PostgresStorage(connectionString, jobs)
                : new SQLiteStorage(SqlitePath(connectionString), new SQLiteStorageOptions { QueuePollInterval = jobs.PollInterval });
        });
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, config) => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new HostLogProvider(sp.GetRequiredService<ILoggerFactory>())));
        if (!jobs.Enabled)
        {
            return;
        }

        // Order matters: the recurring jobs are brought in line with the catalog before the server starts.
        services.AddHostedService<RecurringJobSync>();
        services.AddHangfireServer((sp, server) =>
        {
            var options = sp.GetRequiredService<IOptions<JobsOptions>>().Value;
            server.ServerName = $"{Environment.MachineName}/{Environment.ProcessId}";
            server.WorkerCount = options.WorkerCount;
            server.SchedulePollingInterval = options.PollInterval;
        });
    }

    private static PostgreSqlStorage PostgresStorage(string connectionString, JobsOptions jobs)
    {
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = PostgresSchema,
            PrepareSchemaIfNecessary = true,
            QueuePollInterval = jobs.PollInterval,
            // A node killed in the middle of a job: its job is run again by another node once this has passed.
            InvisibilityTimeout = jobs.InvisibilityTimeout,
            UseSlidingInvisibilityTimeout = true,
        };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, options), options);
    }

    /// <summary>The storage file beside the app's SQLite database file (so under the data directory by default).</summary>
    public static string SqlitePath(string appConnectionString)
    {
        var appFile = Path.GetFullPath(new SqliteConnectionStringBuilder(appConnectionString).DataSource);
        return Path.Combine(Path.GetDirectoryName(appFile)!, SqliteFileName);
    }
}

/// <summary>
/// Hangfire's loggers come from a process-wide provider, set by the host that configured Hangfire last. When that host
/// is gone (several hosts in one process, as in the tests) its logger factory is disposed: Hangfire then logs nowhere
/// instead of failing the next host's start.
/// </summary>
internal sealed class HostLogProvider(ILoggerFactory factory) : Hangfire.Logging.ILogProvider
{
    private readonly AspNetCoreLogProvider _inner = new(factory);

    public Hangfire.Logging.ILog GetLogger(string name)
    {
        try
        {
            return _inner.GetLogger(name);
        }
        catch (ObjectDisposedException)
        {
            return Silent.Instance;
        }
    }

    private sealed class Silent : Hangfire.Logging.ILog
    {
        public static readonly Silent Instance = new();

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }
}

/// <summary>
/// Makes Hangfire's recurring jobs agree with the catalog at startup: each scheduled job is added or updated under its
/// key (Hangfire keeps its next execution when the cron is unchanged), a job set to <c>manual</c> is removed, and a
/// recurring job this build does not declare is removed too.
/// </summary>
internal sealed class RecurringJobSync(IRecurringJobManager manager, JobStorage storage, JobCatalog catalog, ILogger<RecurringJobSync> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var declared = catalog.Jobs.Select(j => j.Key).ToHashSet(StringComparer.Ordinal);
        using (var connection = storage.GetConnection())
        {
            foreach (var stored in connection.GetRecurringJobs())
            {
                if (!declared.Contains(stored.Id))
                {
                    manager.RemoveIfExists(stored.Id);
                }
            }
        }

        foreach (var job in catalog.Jobs)
        {
            if (job.Schedule.Cron is not { } cron)
            {
                manager.RemoveIfExists(job.Key);
                JobsLog.Unscheduled(logger, job.Key);
                continue;
            }

            var key = job.Key;
            manager.AddOrUpdate<JobDispatcher>(key, d => d.RunScheduledAsync(key, "schedule", null, CancellationToken.None), cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            JobsLog.Scheduled(logger, job.Key, job.Schedule.ToString());
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

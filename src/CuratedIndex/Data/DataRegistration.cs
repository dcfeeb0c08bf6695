using CuratedIndex.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace CuratedIndex.Data;

public static class DataRegistration
{
    public const string ConnectionStringName = "CuratedIndex";

    /// <summary>Registers the provider's DbContext once, chosen by <c>Database:Provider</c>, as <see cref="CuratedIndexDbContext"/>.</summary>
    public static void AddCuratedIndexData(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        builder.Services.AddValidatedOptions<DatabaseOptions>(DatabaseOptions.Section);
        var connectionString = ConnectionString(builder, options.Provider);
        builder.Services.AddSingleton(new ClusterLocks(options.Provider, connectionString));
        switch (options.Provider)
        {
            case DatabaseProvider.Sqlite:
                builder.Services.AddDbContextPool<SqliteCuratedIndexDbContext>(o => o
                    .UseSqlite(connectionString)
                    .AddInterceptors(SocketThreadInterceptor.Instance)
                    .ConfigureWarnings(IgnoreSnapshotlessMigrations));
                builder.Services.AddScoped<CuratedIndexDbContext>(sp => sp.GetRequiredService<SqliteCuratedIndexDbContext>());
                break;
            case DatabaseProvider.Postgres:
                builder.Services.AddDbContextPool<PostgresCuratedIndexDbContext>(o => o
                    .UseNpgsql(connectionString)
                    .AddInterceptors(SocketThreadInterceptor.Instance)
                    .ConfigureWarnings(IgnoreSnapshotlessMigrations));
                builder.Services.AddScoped<CuratedIndexDbContext>(sp => sp.GetRequiredService<PostgresCuratedIndexDbContext>());
                break;
            default:
                throw new InvalidOperationException($"Unknown Database:Provider '{options.Provider}'.");
        }
    }

    /// <summary>
    /// <c>ConnectionStrings:CuratedIndex</c>, or for SQLite the zero-setup default; the app's DbContext and the job store
    /// (<see cref="CuratedIndex.Features.Jobs.JobsRegistration"/>) both connect with it.
    /// </summary>
    internal static string ConnectionString(IHostApplicationBuilder builder, DatabaseProvider provider)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (provider == DatabaseProvider.Postgres && string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException("Database:Provider is Postgres but ConnectionStrings:CuratedIndex is not set.");
        }

        return connectionString ?? $"Data Source={DefaultSqlitePath(builder)}";
    }

    /// <summary>The zero-setup default: <c>data/curated-index.db</c> under the content root.</summary>
    private static string DefaultSqlitePath(IHostApplicationBuilder builder)
    {
        var directory = Directory.CreateDirectory(Path.Combine(builder.Environment.ContentRootPath, "data"));
        return Path.Combine(directory.FullName, "curated-index.db");
    }

    // Migrations are written by hand without a model snapshot (the EF design package does not restore),
    // so EF cannot compare the model with a snapshot; the integration tests prove schema and model agree.
    private static void IgnoreSnapshotlessMigrations(WarningsConfigurationBuilder warnings) =>
        warnings.Ignore(RelationalEventId.PendingModelChangesWarning);

    public static async Task MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        await db.Database.MigrateAsync(cancellationToken);
    }
}

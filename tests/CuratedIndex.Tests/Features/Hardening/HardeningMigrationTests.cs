using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Hosting;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Migration 20261204000002 from the previous version: existing decisions are matched to the audit records written with
/// them (a decision with none stays unlinked, and is then not followed); artifacts become unique per store key.
/// </summary>
public abstract class HardeningMigrationTests
{
    private const string Previous = "20261122000005_Typosquat";

    protected abstract DatabaseProvider Provider { get; }

    [Fact]
    public async Task Migrate_FromPreviousVersion_LinksEachDecisionToItsAuditRecord()
    {
        var root = Directory.CreateTempSubdirectory("curated-index-migrate-").FullName;
        string? database = null;
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "data"));
            Directory.CreateDirectory(Path.Combine(root, "policies"));
            var args = new List<string> { $"--contentRoot={root}", "--Jobs:Enabled=false", "--Logging:LogLevel:Default=Warning" };
            if (Provider == DatabaseProvider.Postgres)
            {
                database = $"ci_test_{Guid.NewGuid():N}";
                await using (var admin = new NpgsqlConnection(ProxyInstance.PostgresAdminConnection()))
                {
                    await admin.OpenAsync();
                    await using var create = new NpgsqlCommand($"CREATE DATABASE {database}", admin);
                    await create.ExecuteNonQueryAsync();
                }

                args.Add("--Database:Provider=Postgres");
                args.Add($"--ConnectionStrings:CuratedIndex={new NpgsqlConnectionStringBuilder(ProxyInstance.PostgresAdminConnection()) { Database = database, Pooling = false }}");
            }
            else
            {
                args.Add($"--ConnectionStrings:CuratedIndex=Data Source={Path.Combine(root, "data", "curated-index.db")};Pooling=false");
            }

            await using var app = CuratedIndexHost.Build(args.ToArray());
            await using var scope = app.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            await db.GetService<IMigrator>().MigrateAsync(Previous);

            // The previous version's rows: two decisions on six (approve, then deny) and their records, then one on zipp
            // whose record was never written.
            var time = AuditChain.Normalize(new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc));
            var previous = AuditChain.GenesisHash;
            var records = new List<(long Id, string Hash)>();
            foreach (var (id, action, subject, reason) in new[] { (1L, "policy.load", "policies", "sha256:x"), (2L, "project.approve", "project:six", "ok"), (3L, "project.deny", "project:six", "no") })
            {
                var hash = AuditChain.ComputeHash(id, time, "rita", action, subject, reason, previous);
                await db.Database.ExecuteSqlAsync($"INSERT INTO audit_records (id, occurred_at, actor, action, subject, reason, previous_hash, hash) VALUES ({id}, {time}, {"rita"}, {action}, {subject}, {reason}, {previous}, {hash})");
                records.Add((id, hash));
                previous = hash;
            }

            foreach (var (project, verdict, reason) in new[] { ("six", "approved", "ok"), ("six", "denied", "no"), ("zipp", "approved", "ok") })
            {
                await db.Database.ExecuteSqlAsync($"INSERT INTO project_decisions (project, verdict, reason, actor, decided_at) VALUES ({project}, {verdict}, {reason}, {"rita"}, {time})");
            }

            await db.Database.MigrateAsync();

            var decisions = await db.ProjectDecisions.AsNoTracking().OrderBy(d => d.Id).ToListAsync();
            Assert.Equal<(long?, string?)>([(2, records[1].Hash), (3, records[2].Hash), (null, null)], decisions.Select(d => (d.AuditRecordId, d.AuditHash)).ToList());
            // Still append-only after the backfill lifted the trigger for itself.
            await Assert.ThrowsAnyAsync<Exception>(() => db.Database.ExecuteSqlRawAsync("UPDATE project_decisions SET reason = 'x'"));
            Assert.Empty(await db.AuditCheckpoints.ToListAsync());
        }
        finally
        {
            if (database is not null)
            {
                await using var admin = new NpgsqlConnection(ProxyInstance.PostgresAdminConnection());
                await admin.OpenAsync();
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {database} WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
            }

            Directory.Delete(root, recursive: true);
        }
    }
}

public sealed class HardeningMigrationTestsOnSqlite : HardeningMigrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class HardeningMigrationTestsOnPostgres : HardeningMigrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

using System.Data.Common;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Features.Audit;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Hardening;

/// <summary>
/// Issue 9, hole 9: a <c>project_decisions</c> row without its audit record does not take effect, and the audit chain is
/// verified from a stored checkpoint (a full verification still reads everything); on SQLite and PostgreSQL.
/// </summary>
public abstract class AuditHardeningTests
{
    protected abstract DatabaseProvider Provider { get; }

    private Task<TestServers> StartAsync() => TestServers.StartAsync(Provider);

    private static async Task<bool> VisibleAsync(ProxyInstance proxy, string env, string project)
    {
        // Decisions made around the application arrive with the next refresh; run it now rather than wait for its timer.
        await proxy.Services.GetRequiredService<CurationStore>().RefreshAsync(CancellationToken.None);
        return (await proxy.GetJsonAsync($"api/v1/explain?env={env}&project={project}"))["visible"]!.GetValue<bool>();
    }

    // Without an audit record the statement names only the columns the table had before the check, as a forger would.
    private static Task<int> InsertDecisionAsync(ProxyInstance proxy, string project, string verdict, long? auditRecordId = null, string? auditHash = null) =>
        proxy.QueryAsync(db => auditRecordId is null
            ? db.Database.ExecuteSqlAsync($"""
                INSERT INTO project_decisions (project, verdict, reason, actor, decided_at)
                VALUES ({project}, {verdict}, {"looks fine"}, {"mallory"}, {DateTime.UtcNow})
                """)
            : db.Database.ExecuteSqlAsync($"""
            INSERT INTO project_decisions (project, verdict, reason, actor, decided_at, audit_record_id, audit_hash)
            VALUES ({project}, {verdict}, {"looks fine"}, {"mallory"}, {DateTime.UtcNow}, {auditRecordId}, {auditHash})
            """));

    [Fact]
    public async Task Decision_MadeThroughTheApi_CarriesItsAuditRecordIdAndHash()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "vetted" });

        var decision = await proxy.QueryAsync(db => db.ProjectDecisions.AsNoTracking().SingleAsync());
        var record = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().SingleAsync(r => r.Action == AuditAction.ProjectApprove));
        Assert.Equal((record.Id, record.Hash), (decision.AuditRecordId, decision.AuditHash));
        Assert.True(await VisibleAsync(proxy, "ci", "six"));
    }

    [Fact]
    public async Task ApprovalInsertedWithoutAuditRecord_IsNotFollowed_AndRaisesAnIncident()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        Assert.False(await VisibleAsync(proxy, "ci", "six"));

        // Triggers forbid UPDATE and DELETE, not INSERT: a row written around the application, with no audit record.
        await InsertDecisionAsync(proxy, "six", "approved");

        Assert.False(await VisibleAsync(proxy, "ci", "six"));
        var explain = await proxy.GetJsonAsync("api/v1/explain?env=ci&project=six");
        Assert.Contains("has no valid audit record", explain["reason"]!.GetValue<string>(), StringComparison.Ordinal);
        var incident = Assert.Single(await proxy.QueryAsync(db => db.Incidents.AsNoTracking().Where(i => i.Kind == IncidentKind.UnverifiedDecision).ToListAsync()));
        Assert.Equal(("six", IncidentSeverity.High), (incident.Project, incident.Severity));
        Assert.Contains("it names no audit record", incident.Detail, StringComparison.Ordinal);
        // Every later refresh (and every node) sees the same row: still one incident.
        await proxy.Services.GetRequiredService<CurationStore>().RefreshAsync(CancellationToken.None);
        Assert.Single(await proxy.QueryAsync(db => db.Incidents.AsNoTracking().Where(i => i.Kind == IncidentKind.UnverifiedDecision).ToListAsync()));
    }

    [Fact]
    public async Task UnverifiedDecision_HidesTheProjectInTier1Too_UntilAReviewerDecidesAgain()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/zipp/deny", new { reason = "abandoned" });
        Assert.False(await VisibleAsync(proxy, "dev", "zipp"));

        // A forged approval of a denied project: not followed, and in doubt the project stays hidden everywhere.
        await InsertDecisionAsync(proxy, "zipp", "approved");
        Assert.False(await VisibleAsync(proxy, "dev", "zipp"));
        Assert.False(await VisibleAsync(proxy, "ci", "zipp"));

        await proxy.PostJsonAsync("api/v1/projects/zipp/approve", new { reason = "maintained again" });
        Assert.True(await VisibleAsync(proxy, "ci", "zipp"));
    }

    [Fact]
    public async Task DecisionPointingAtAnotherChangesRecord_IsNotFollowed()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        // Record 1 is the policy load: a real record with a real hash, but not an approval of six.
        var policyLoad = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().SingleAsync(r => r.Id == 1));

        await InsertDecisionAsync(proxy, "six", "approved", policyLoad.Id, policyLoad.Hash);
        await InsertDecisionAsync(proxy, "first", "approved", 999, policyLoad.Hash);

        Assert.False(await VisibleAsync(proxy, "ci", "six"));
        Assert.False(await VisibleAsync(proxy, "ci", "first"));
        var details = await proxy.QueryAsync(db => db.Incidents.AsNoTracking().Where(i => i.Kind == IncidentKind.UnverifiedDecision).OrderBy(i => i.Id).Select(i => i.Detail).ToListAsync());
        Assert.Equal(2, details.Count);
        Assert.Contains("describes another change", details[0], StringComparison.Ordinal);
        Assert.Contains("audit record 999 does not exist", details[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApprovalReplayedUnderANewRow_IsRefusedByTheDatabase()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "vetted" });
        await proxy.PostJsonAsync("api/v1/projects/six/deny", new { reason = "compromised" });
        var approval = await proxy.QueryAsync(db => db.ProjectDecisions.AsNoTracking().SingleAsync(d => d.Verdict == "approved"));

        // The old approval's record cannot back a second row: one audit record, one decision.
        await Assert.ThrowsAnyAsync<DbException>(() => InsertDecisionAsync(proxy, "six", "approved", approval.AuditRecordId, approval.AuditHash));
        Assert.False(await VisibleAsync(proxy, "dev", "six"));
    }

    [Fact]
    public async Task Verify_ContinuesFromTheCheckpoint_FullVerifyFindsARecordAlteredBeforeIt()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "vetted" });
        await proxy.PostJsonAsync("api/v1/projects/zipp/deny", new { reason = "abandoned" });
        var first = await proxy.GetJsonAsync("api/v1/audit/verify");
        Assert.True(first["intact"]!.GetValue<bool>());
        var checkpoint = await proxy.QueryAsync(db => db.AuditCheckpoints.AsNoTracking().SingleAsync());
        Assert.Equal((3L, first["head"]!["hash"]!.GetValue<string>()), (checkpoint.RecordId, checkpoint.RecordHash));

        await proxy.PostJsonAsync("api/v1/projects/first/defer", new { reason = "later" });
        await DropAuditTriggersAsync(proxy);
        await proxy.QueryAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE audit_records SET reason = 'rewritten' WHERE id = 2"));

        // Verification per view reads from the checkpoint on: record 2 lies before it and is not read again…
        var incremental = await proxy.GetJsonAsync("api/v1/audit/verify");
        Assert.True(incremental["intact"]!.GetValue<bool>());
        Assert.Equal(4, incremental["records"]!.GetValue<long>());
        // …a full verification reads everything and names it, over HTTP and in the CLI.
        var full = await proxy.GetJsonAsync("api/v1/audit/verify?full=true");
        Assert.False(full["intact"]!.GetValue<bool>());
        Assert.Equal(2, full["firstBrokenRecord"]!.GetValue<long>());
        var cli = await RunAuditVerifyAsync(proxy, "--full");
        Assert.True(cli.ExitCode == 1, cli.Describe());
        Assert.Contains("audit chain broken at record 2", cli.StandardError, StringComparison.Ordinal);
        var cliIncremental = await RunAuditVerifyAsync(proxy);
        Assert.True(cliIncremental.ExitCode == 0, cliIncremental.Describe());
    }

    [Fact]
    public async Task Verify_CheckpointedRecordAltered_IsFoundWithoutAFullVerify()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "vetted" });
        Assert.True((await proxy.GetJsonAsync("api/v1/audit/verify"))["intact"]!.GetValue<bool>());

        await DropAuditTriggersAsync(proxy);
        await proxy.QueryAsync(db => db.Database.ExecuteSqlRawAsync("UPDATE audit_records SET reason = 'rewritten' WHERE id = 2"));

        var verify = await proxy.GetJsonAsync("api/v1/audit/verify");
        Assert.False(verify["intact"]!.GetValue<bool>());
        Assert.Equal(2, verify["firstBrokenRecord"]!.GetValue<long>());
        Assert.Contains("checkpoint", verify["problem"]!.GetValue<string>(), StringComparison.Ordinal);
        using var session = await UiSession.SignedInAsync(proxy, "vera", "viewer");
        var (_, page, _) = await session.GetAsync("ui/audit");
        Assert.Null(page.QuerySelector("#audit-intact"));
    }

    private static Task<int> DropAuditTriggersAsync(ProxyInstance proxy) => proxy.QueryAsync(db => db.Database.ExecuteSqlRawAsync(proxy.Provider == DatabaseProvider.Postgres
        ? "DROP TRIGGER audit_records_append_only ON audit_records"
        : "DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_no_delete;"));

    private static async Task<ProcessResult> RunAuditVerifyAsync(ProxyInstance proxy, params string[] moreArguments)
    {
        var executable = Path.Combine(AuditIntegrationTests.RepositoryRoot(), "src", "CuratedIndex", "bin",
            new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name, "net10.0", "curated-index");
        string[] arguments =
        [
            "audit", "verify",
            $"--contentRoot={proxy.Root}",
            $"--Database:Provider={proxy.Provider}",
            $"--ConnectionStrings:CuratedIndex={proxy.ConnectionString}",
            "--Logging:LogLevel:Default=Warning",
            .. moreArguments,
        ];
        return await ExternalProcess.RunAsync(executable, arguments, proxy.Root, new Dictionary<string, string?> { ["DOTNET_ENVIRONMENT"] = null, ["ASPNETCORE_ENVIRONMENT"] = null }, TimeSpan.FromSeconds(60));
    }
}

public sealed class AuditHardeningTestsOnSqlite : AuditHardeningTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class AuditHardeningTestsOnPostgres : AuditHardeningTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

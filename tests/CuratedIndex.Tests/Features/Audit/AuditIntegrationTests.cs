using System.Data.Common;
using System.Net;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Tests.EndToEnd;
using CuratedIndex.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace CuratedIndex.Tests.Features.Audit;

/// <summary>The audit log over HTTP and through the CLI: what is recorded, the append-only tables, and tamper detection; on SQLite and PostgreSQL.</summary>
public abstract class AuditIntegrationTests
{
    protected abstract DatabaseProvider Provider { get; }

    private Task<TestServers> StartAsync() => TestServers.StartAsync(Provider, inProcess: true);

    /// <summary>Records 2 to 5 after the startup policy record (1): approve six, deny zipp, defer jmespath, create user bob.</summary>
    private static async Task MakeFourRecordsAsync(ProxyInstance proxy)
    {
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "vetted" });
        await proxy.PostJsonAsync("api/v1/projects/zipp/deny", new { reason = "abandoned" });
        await proxy.PostJsonAsync("api/v1/projects/jmespath/defer", new { reason = "later" });
        await proxy.PostJsonAsync("api/v1/users", new { userName = "bob", password = "a long enough password", role = "viewer" });
    }

    private static Task<int> ExecuteAsync(ProxyInstance proxy, string sql) =>
        proxy.QueryAsync(db => db.Database.ExecuteSqlRawAsync(sql));

    private static Task<int> DropAuditTriggersAsync(ProxyInstance proxy) => ExecuteAsync(proxy, proxy.Provider == DatabaseProvider.Postgres
        ? "DROP TRIGGER audit_records_append_only ON audit_records"
        : "DROP TRIGGER audit_records_no_update; DROP TRIGGER audit_records_no_delete;");

    private static async Task<ProcessResult> RunAuditVerifyAsync(ProxyInstance proxy, params string[] moreArguments)
    {
        var executable = Path.Combine(RepositoryRoot(), "src", "CuratedIndex", "bin", BuildConfiguration(), "net10.0", "curated-index");
        Assert.True(File.Exists(executable), $"{executable} is not built");
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

    [Fact]
    public async Task EveryDecisionAndAccountChange_IsRecordedWithActorActionSubjectReason_AndTheChainVerifies()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        var reviewer = await proxy.CreateUserWithTokenAsync("rita", "reviewer");
        await proxy.PostJsonAsync("api/v1/projects/six/approve", new { reason = "vetted by rita" }, reviewer);
        await proxy.PostJsonAsync("api/v1/decisions", new { projects = new[] { "zipp", "jmespath" }, verdict = "denied", reason = "bulk no" }, reviewer);
        await proxy.PostJsonAsync("api/v1/projects/first/defer", new { reason = "next week" }, reviewer);
        await proxy.PostJsonAsync("api/v1/users", new { userName = "bob", password = "a long enough password", role = "viewer" });
        await proxy.PostJsonAsync("api/v1/users/bob/role", new { role = "reviewer" });
        var accounts = proxy.Services.GetRequiredService<AccountService>();
        var bob = await proxy.QueryAsync(db => db.Users.SingleAsync(u => u.UserName == "bob"));
        var token = await accounts.CreateTokenAsync(bob.Id, "laptop", "bob", CancellationToken.None);
        await accounts.RevokeTokenAsync(token.Id, bob.Id, "bob", CancellationToken.None);
        await accounts.SetDisabledAsync("bob", true, "admin-x", CancellationToken.None);

        var items = (await proxy.GetJsonAsync("api/v1/audit?limit=1000"))["items"]!.AsArray();
        var records = items.Select(i => (Actor: i!["actor"].Text(), Action: i["action"].Text(), Subject: i["subject"].Text(), Reason: i["reason"].Text())).ToList();

        Assert.Equal(("system", "policy.load", "policies"), (records[0].Actor, records[0].Action, records[0].Subject));
        Assert.StartsWith("sha256:", records[0].Reason, StringComparison.Ordinal);
        (string Actor, string Action, string Subject, string ReasonStart)[] expected =
        [
            ("test", "user.create", "user:rita", "created with role reviewer"),
            ("rita", "token.create", "user:rita", "token 'rita-token' (cidx_"),
            ("rita", "project.approve", "project:six", "vetted by rita"),
            ("rita", "project.deny", "project:zipp", "bulk no"),
            ("rita", "project.deny", "project:jmespath", "bulk no"),
            ("rita", "project.defer", "project:first", "next week"),
            ("bootstrap-admin", "user.create", "user:bob", "created with role viewer"),
            ("bootstrap-admin", "user.role", "user:bob", "role set to reviewer"),
            ("bob", "token.create", "user:bob", $"token 'laptop' ({token.Prefix}…)"),
            ("bob", "token.revoke", "user:bob", $"token 'laptop' ({token.Prefix}…)"),
            ("admin-x", "user.disable", "user:bob", "account disabled"),
        ];
        Assert.Equal(expected.Length + 1, records.Count);
        foreach (var (want, got) in expected.Zip(records.Skip(1)))
        {
            Assert.Equal((want.Actor, want.Action, want.Subject), (got.Actor, got.Action, got.Subject));
            Assert.StartsWith(want.ReasonStart, got.Reason, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(token.Secret, items.ToJsonString(), StringComparison.Ordinal);
        Assert.All(items, i => Assert.Matches("^[0-9a-f]{64}$", i!["hash"].Text()));

        var verify = await proxy.GetJsonAsync("api/v1/audit/verify");
        Assert.True(verify["intact"]!.GetValue<bool>());
        Assert.Equal(records.Count, verify["records"].Number());
        Assert.Null(verify["firstBrokenRecord"]);

        // Other policy files than the server's: a verifier must neither need them nor record them.
        var otherPolicies = Directory.CreateDirectory(Path.Combine(proxy.Root, "other-policies")).FullName;
        await File.WriteAllTextAsync(Path.Combine(otherPolicies, "environments.yaml"), "environments:\n  dev: { tier: 1 }\napprove: [six]\n");
        var cli = await RunAuditVerifyAsync(proxy, $"--Policies:Path={otherPolicies}");
        Assert.True(cli.ExitCode == 0, cli.Describe());
        Assert.Contains($"audit chain intact: {records.Count} records", cli.StandardOutput, StringComparison.Ordinal);
        // Verifying only reads: it adds no record of its own.
        Assert.Equal(records.Count, await proxy.QueryAsync(db => db.AuditRecords.CountAsync()));
    }

    [Fact]
    public async Task AuditList_PagesByAfterAndFiltersBySubject()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await MakeFourRecordsAsync(proxy);
        await proxy.PostJsonAsync("api/v1/projects/six/deny", new { reason = "changed my mind" });

        var first = await proxy.GetJsonAsync("api/v1/audit?limit=2");
        var second = await proxy.GetJsonAsync($"api/v1/audit?limit=2&after={first["next"].Number()}");
        var six = await proxy.GetJsonAsync("api/v1/audit?subject=project:six");

        Assert.Equal([1L, 2L], first["items"]!.AsArray().Select(i => i!["id"].Number()));
        Assert.Equal([3L, 4L], second["items"]!.AsArray().Select(i => i!["id"].Number()));
        Assert.Equal(["vetted", "changed my mind"], six["items"]!.AsArray().Select(i => i!["reason"].Text()));
        Assert.Null(six["next"]);
    }

    [Fact]
    public async Task AppendOnlyTables_RefuseUpdateAndDelete()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await MakeFourRecordsAsync(proxy);

        foreach (var sql in new[]
        {
            "UPDATE audit_records SET reason = 'rewritten' WHERE id = 2",
            "DELETE FROM audit_records WHERE id = 3",
            "UPDATE project_decisions SET verdict = 'approved' WHERE project = 'zipp'",
            "DELETE FROM project_decisions WHERE project = 'zipp'",
        })
        {
            var error = await Assert.ThrowsAnyAsync<DbException>(() => ExecuteAsync(proxy, sql));
            Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(5, await proxy.QueryAsync(db => db.AuditRecords.CountAsync()));
        Assert.Equal("vetted", await proxy.QueryAsync(db => db.AuditRecords.Where(r => r.Id == 2).Select(r => r.Reason).SingleAsync()));
        Assert.Equal("denied", await proxy.QueryAsync(db => db.ProjectDecisions.Where(d => d.Project == "zipp").Select(d => d.Verdict).SingleAsync()));
        Assert.True((await proxy.GetJsonAsync("api/v1/audit/verify"))["intact"]!.GetValue<bool>());
    }

    [Fact]
    public async Task AlteredRecord_WithTriggersDropped_IsNamedByVerifyAndTheCli()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await MakeFourRecordsAsync(proxy);
        await DropAuditTriggersAsync(proxy);

        await ExecuteAsync(proxy, "UPDATE audit_records SET reason = 'nothing to see' WHERE id = 3");
        var verify = await proxy.GetJsonAsync("api/v1/audit/verify");
        var cli = await RunAuditVerifyAsync(proxy);

        Assert.False(verify["intact"]!.GetValue<bool>());
        Assert.Equal(3, verify["firstBrokenRecord"].Number());
        Assert.Contains("altered", verify["problem"].Text(), StringComparison.Ordinal);
        Assert.True(cli.ExitCode == 1, cli.Describe());
        Assert.Contains("audit chain broken at record 3", cli.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecordsCutFromTheEnd_WithTriggersDropped_AreFoundByTheHeadHashKeptEarlier()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await MakeFourRecordsAsync(proxy);
        var before = await proxy.GetJsonAsync("api/v1/audit/verify");
        var head = before["head"]!["hash"].Text();
        Assert.Equal(5, before["head"]!["id"].Number());
        var intact = await RunAuditVerifyAsync(proxy, "--head", head);
        Assert.True(intact.ExitCode == 0, intact.Describe());
        Assert.Contains($"head record 5 hash {head}", intact.StandardOutput, StringComparison.Ordinal);

        await DropAuditTriggersAsync(proxy);
        await ExecuteAsync(proxy, "DELETE FROM audit_records WHERE id >= 4");

        // The shortened chain is still a valid chain: a full check finds nothing, only the head kept outside the
        // database shows the cut. The server's own checkpoint (left by the verification above at record 5) shows it too.
        Assert.True((await proxy.GetJsonAsync("api/v1/audit/verify?full=true"))["intact"]!.GetValue<bool>());
        var fromCheckpoint = await proxy.GetJsonAsync("api/v1/audit/verify");
        Assert.False(fromCheckpoint["intact"]!.GetValue<bool>());
        Assert.Equal("record 5, verified earlier (checkpoint), is missing: records were removed", fromCheckpoint["problem"].Text());
        var withHead = await proxy.GetJsonAsync($"api/v1/audit/verify?full=true&head={head}");
        Assert.False(withHead["intact"]!.GetValue<bool>());
        Assert.Contains("removed from the end", withHead["problem"].Text(), StringComparison.Ordinal);
        var cli = await RunAuditVerifyAsync(proxy, "--full", "--head", head);
        Assert.True(cli.ExitCode == 1, cli.Describe());
        Assert.Contains($"no record has the head hash {head}", cli.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletedMiddleRecord_WithTriggersDropped_IsNamedByVerify()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await MakeFourRecordsAsync(proxy);
        await DropAuditTriggersAsync(proxy);

        await ExecuteAsync(proxy, "DELETE FROM audit_records WHERE id = 3");
        var verify = await proxy.GetJsonAsync("api/v1/audit/verify");

        Assert.False(verify["intact"]!.GetValue<bool>());
        Assert.Equal(4, verify["firstBrokenRecord"].Number());
        Assert.Equal("record 3 is missing (next record is 4)", verify["problem"].Text());
    }

    [Fact]
    public async Task RecordAlteredAndRehashed_WithTriggersDropped_BreaksAtTheNextRecord()
    {
        await using var servers = await StartAsync();
        var proxy = servers.Proxy;
        await MakeFourRecordsAsync(proxy);
        await DropAuditTriggersAsync(proxy);
        var record = await proxy.QueryAsync(db => db.AuditRecords.AsNoTracking().SingleAsync(r => r.Id == 2));
        var forged = CuratedIndex.Features.Audit.AuditChain.ComputeHash(record.Id, record.OccurredAt, record.Actor, record.Action, record.Subject, "forged", record.PreviousHash);

        await proxy.QueryAsync(db => db.Database.ExecuteSqlAsync($"UPDATE audit_records SET reason = 'forged', hash = {forged} WHERE id = 2"));
        var verify = await proxy.GetJsonAsync("api/v1/audit/verify");

        Assert.False(verify["intact"]!.GetValue<bool>());
        Assert.Equal(3, verify["firstBrokenRecord"].Number());
        Assert.Contains("previous-hash", verify["problem"].Text(), StringComparison.Ordinal);
    }

    internal static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "CuratedIndex.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    // The test assembly sits in bin/<configuration>/net10.0/; the server was built in the same configuration.
    private static string BuildConfiguration() => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
}

public sealed class AuditIntegrationTestsOnSqlite : AuditIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Sqlite;
}

public sealed class AuditIntegrationTestsOnPostgres : AuditIntegrationTests
{
    protected override DatabaseProvider Provider => DatabaseProvider.Postgres;
}

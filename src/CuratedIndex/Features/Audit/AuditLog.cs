using CuratedIndex.Data;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Audit;

/// <summary>What happened, as one audit record will say it.</summary>
public sealed record AuditEntry(string Actor, string Action, string Subject, string Reason);

/// <summary>The audit actions, as stored (dotted: subject kind, then verb).</summary>
public static class AuditAction
{
    public const string ProjectApprove = "project.approve";
    public const string ProjectDeny = "project.deny";
    public const string ProjectDefer = "project.defer";
    public const string PolicyLoad = "policy.load";
    public const string UserCreate = "user.create";
    public const string UserRole = "user.role";
    public const string UserDisable = "user.disable";
    public const string UserEnable = "user.enable";
    public const string UserPassword = "user.password";
    public const string TokenCreate = "token.create";
    public const string TokenRevoke = "token.revoke";
    public const string AlertDependencyConfusion = "alert.dependency-confusion";
    public const string AlertUpstreamQuarantined = "alert.upstream-quarantined";
    public const string JobTrigger = "job.trigger";
}

/// <summary>
/// Appends chained records to the audit log in the same transaction as the change they describe, so a
/// change is never stored without its record, nor a record without its change. Appends are serialized: on
/// this node by a lock, across PostgreSQL nodes by an advisory lock, and always by the unique previous-hash.
/// </summary>
public sealed class AuditLog(IServiceScopeFactory scopes, TimeProvider clock)
{
    // Any fixed number: it names the advisory lock that serializes appends across nodes.
    private const long AdvisoryLockKey = 0x4375726174656441;
    private static readonly SemaphoreSlim AppendGate = new(1, 1);

    /// <summary>
    /// Runs <paramref name="change"/> on a fresh DbContext inside a transaction, then appends the entries it
    /// returns and commits both. If the change throws, nothing is written.
    /// </summary>
    public async Task<T> WriteAsync<T>(Func<CuratedIndexDbContext, Task<(T Result, IReadOnlyList<AuditEntry> Entries)>> change, CancellationToken cancellationToken)
    {
        await AppendGate.WaitAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (db.Database.IsNpgsql())
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
            }

            var (result, entries) = await change(db);
            await db.SaveChangesAsync(cancellationToken);
            await AppendAsync(db, entries, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        finally
        {
            AppendGate.Release();
        }
    }

    public Task AppendAsync(AuditEntry entry, CancellationToken cancellationToken) =>
        WriteAsync<bool>(_ => Task.FromResult((true, (IReadOnlyList<AuditEntry>)[entry])), cancellationToken);

    private async Task AppendAsync(CuratedIndexDbContext db, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken)
    {
        var last = await db.AuditRecords.AsNoTracking().OrderByDescending(r => r.Id).Select(r => new { r.Id, r.Hash }).FirstOrDefaultAsync(cancellationToken);
        var id = last?.Id ?? 0;
        var previous = last?.Hash ?? AuditChain.GenesisHash;
        var now = AuditChain.Normalize(clock.GetUtcNow().UtcDateTime);
        foreach (var entry in entries)
        {
            id++;
            var record = new AuditRecord
            {
                Id = id,
                OccurredAt = now,
                Actor = entry.Actor,
                Action = entry.Action,
                Subject = entry.Subject,
                Reason = entry.Reason,
                PreviousHash = previous,
                Hash = AuditChain.ComputeHash(id, now, entry.Actor, entry.Action, entry.Subject, entry.Reason, previous),
            };
            db.AuditRecords.Add(record);
            previous = record.Hash;
        }
    }

    /// <summary>
    /// Reads the whole log in id order and checks the chain. With <paramref name="expectedHead"/> (a head hash kept
    /// elsewhere earlier) it also checks that the record with that hash is still there: the chain alone cannot tell
    /// when records were cut from its end.
    /// </summary>
    public static async Task<AuditVerification> VerifyAsync(CuratedIndexDbContext db, CancellationToken cancellationToken, string? expectedHead = null)
    {
        var records = await db.AuditRecords.AsNoTracking().OrderBy(r => r.Id).ToListAsync(cancellationToken);
        var broken = AuditChain.Verify(records);
        if (broken is null && expectedHead is { Length: > 0 } && !records.Any(r => string.Equals(r.Hash, expectedHead, StringComparison.OrdinalIgnoreCase)))
        {
            broken = new AuditBreak(records.Count == 0 ? 0 : records[^1].Id + 1, $"no record has the head hash {expectedHead} kept earlier: records were removed from the end of the log");
        }

        return new AuditVerification(records.Count, broken, records.Count == 0 ? null : new AuditHead(records[^1].Id, records[^1].Hash));
    }
}

/// <summary>The newest record of the log: keep its hash outside the database to detect later truncation.</summary>
public sealed record AuditHead(long Id, string Hash);

/// <summary>What a check of the whole log found: how many records, the first break if any, and the head.</summary>
public sealed record AuditVerification(long Count, AuditBreak? Break, AuditHead? Head);

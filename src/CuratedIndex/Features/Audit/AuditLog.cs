using CuratedIndex.Data;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Audit;

/// <summary>What happened, as one audit record will say it.</summary>
public sealed record AuditEntry(string Actor, string Action, string Subject, string Reason)
{
    /// <summary>
    /// Called with the record once its id and hash are known, before anything is saved: a change links its rows to their
    /// record here (a reviewer decision carries its record's id and hash).
    /// </summary>
    public Action<AuditRecord>? Recorded { get; init; }
}

/// <summary>The audit actions, as stored (dotted: subject kind, then verb).</summary>
public static class AuditAction
{
    public const string ProjectApprove = "project.approve";
    public const string ProjectDeny = "project.deny";
    public const string ProjectDefer = "project.defer";

    /// <summary>The action a reviewer's verdict is recorded as; null for a verdict no one records (pending).</summary>
    public static string? For(Review.Verdict verdict) => verdict switch
    {
        Review.Verdict.Approved => ProjectApprove,
        Review.Verdict.Denied => ProjectDeny,
        Review.Verdict.Deferred => ProjectDefer,
        _ => null,
    };
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
    public const string ReleaseVet = "release.vet";
    public const string ReleaseVetBreakGlass = "release.vet-break-glass";
    public const string ReleaseReject = "release.reject";
    public const string PublisherVet = "publisher.vet";
    public const string PublisherRemove = "publisher.remove";
    public const string AlertProvenanceFailed = "alert.provenance-failed";
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
            // One save for the change and its records: a change's rows may carry their record's id and hash (Recorded),
            // and append-only rows cannot be updated after they are written.
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
            entry.Recorded?.Invoke(record);
            previous = record.Hash;
        }
    }

    /// <summary>Records read from the database at a time while verifying, so a long log never sits in memory whole.</summary>
    private const int VerifyBatch = 5_000;

    /// <summary>
    /// Checks the chain from the newest checkpoint (see <see cref="AuditCheckpoint"/>), or from the first record when there
    /// is none or <paramref name="full"/> is set. The checkpointed record must still be there with the checkpoint's hash
    /// and content, so cutting the log back past it, or altering it, is found too; records before it are only re-read by a
    /// full verification (<c>audit verify --full</c>). With <paramref name="expectedHead"/> (a head hash kept elsewhere
    /// earlier) it also checks that the record with that hash is still there: the chain alone cannot tell when records
    /// were cut from its end. With <paramref name="saveCheckpoint"/>, an intact chain leaves a checkpoint at its head.
    /// </summary>
    public static async Task<AuditVerification> VerifyAsync(
        CuratedIndexDbContext db,
        CancellationToken cancellationToken,
        string? expectedHead = null,
        bool full = false,
        bool saveCheckpoint = false,
        TimeProvider? clock = null)
    {
        var checkpoint = full ? null : await db.AuditCheckpoints.AsNoTracking().OrderByDescending(c => c.RecordId).FirstOrDefaultAsync(cancellationToken);
        var expectedId = 1L;
        var previousHash = AuditChain.GenesisHash;
        AuditBreak? broken = null;
        AuditHead? head = null;
        if (checkpoint is not null)
        {
            var anchor = await db.AuditRecords.AsNoTracking().SingleOrDefaultAsync(r => r.Id == checkpoint.RecordId, cancellationToken);
            broken = anchor is null
                ? new AuditBreak(checkpoint.RecordId, $"record {checkpoint.RecordId}, verified earlier (checkpoint), is missing: records were removed")
                : !string.Equals(anchor.Hash, checkpoint.RecordHash, StringComparison.Ordinal) || !string.Equals(AuditChain.ComputeHash(anchor), anchor.Hash, StringComparison.Ordinal)
                    ? new AuditBreak(checkpoint.RecordId, $"record {checkpoint.RecordId} no longer matches the hash verified earlier (checkpoint): the record was altered")
                    : null;
            expectedId = checkpoint.RecordId + 1;
            previousHash = checkpoint.RecordHash;
            head = new AuditHead(checkpoint.RecordId, checkpoint.RecordHash);
        }

        while (broken is null)
        {
            var from = expectedId;
            var batch = await db.AuditRecords.AsNoTracking().Where(r => r.Id >= from).OrderBy(r => r.Id).Take(VerifyBatch).ToListAsync(cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            broken = AuditChain.Verify(batch, expectedId, previousHash);
            head = new AuditHead(batch[^1].Id, batch[^1].Hash);
            expectedId = batch[^1].Id + 1;
            previousHash = batch[^1].Hash;
        }

        if (broken is null && expectedHead is { Length: > 0 } && !await HasRecordWithHashAsync(db, expectedHead.ToLowerInvariant(), head, cancellationToken))
        {
            broken = new AuditBreak((head?.Id ?? 0) + 1, $"no record has the head hash {expectedHead} kept earlier: records were removed from the end of the log");
        }

        if (broken is null && saveCheckpoint && head is not null && head.Id != checkpoint?.RecordId)
        {
            db.AuditCheckpoints.Add(new AuditCheckpoint { RecordId = head.Id, RecordHash = head.Hash, VerifiedAt = (clock ?? TimeProvider.System).GetUtcNow().UtcDateTime });
            await db.SaveChangesAsync(cancellationToken);
        }

        // Ids run 1, 2, 3… in an intact chain: the head's id is the number of records.
        return new AuditVerification(head?.Id ?? 0, broken, head);
    }

    // The record with hash H is the head, or the one whose successor names H as its previous hash (a unique index).
    private static async Task<bool> HasRecordWithHashAsync(CuratedIndexDbContext db, string hash, AuditHead? head, CancellationToken cancellationToken) =>
        string.Equals(head?.Hash, hash, StringComparison.Ordinal)
        || await db.AuditRecords.AsNoTracking().AnyAsync(r => r.PreviousHash == hash, cancellationToken);
}

/// <summary>The newest record of the log: keep its hash outside the database to detect later truncation.</summary>
public sealed record AuditHead(long Id, string Hash);

/// <summary>What a check of the whole log found: how many records, the first break if any, and the head.</summary>
public sealed record AuditVerification(long Count, AuditBreak? Break, AuditHead? Head);

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CuratedIndex.Data;

namespace CuratedIndex.Features.Audit;

/// <summary>
/// The hash chain over audit records. Each record's hash covers its id, time, actor, action, subject, reason
/// and the previous record's hash, so deleting, inserting, reordering or altering any record is detectable.
/// </summary>
public static class AuditChain
{
    public static readonly string GenesisHash = new('0', 64);

    public static string ComputeHash(long id, DateTime occurredAt, string actor, string action, string subject, string reason, string previousHash)
    {
        // Length-prefixed fields: no choice of field values can make two different records hash alike.
        var text = new StringBuilder();
        foreach (var field in new[] { id.ToString(CultureInfo.InvariantCulture), Timestamp(occurredAt), actor, action, subject, reason, previousHash })
        {
            text.Append(field.Length.ToString(CultureInfo.InvariantCulture)).Append(':').Append(field).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    public static string ComputeHash(AuditRecord record) =>
        ComputeHash(record.Id, record.OccurredAt, record.Actor, record.Action, record.Subject, record.Reason, record.PreviousHash);

    /// <summary>
    /// Why a decision that names audit record <paramref name="recordId"/> with <paramref name="recordHash"/> is not accounted
    /// for by <paramref name="record"/>, or null when it is: the record exists, still hashes to the hash the decision names,
    /// and describes exactly <paramref name="expected"/> (actor, action, subject, reason).
    /// </summary>
    public static string? RecordProblem(long? recordId, string? recordHash, AuditRecord? record, AuditEntry expected)
    {
        if (recordId is null || recordHash is null)
        {
            return "it names no audit record";
        }

        if (record is null)
        {
            return $"its audit record {recordId} does not exist";
        }

        if (!string.Equals(record.Hash, recordHash, StringComparison.Ordinal) || !string.Equals(ComputeHash(record), record.Hash, StringComparison.Ordinal))
        {
            return $"its audit record {record.Id} does not have the hash the decision names";
        }

        return string.Equals(record.Subject, expected.Subject, StringComparison.Ordinal)
            && string.Equals(record.Action, expected.Action, StringComparison.Ordinal)
            && string.Equals(record.Actor, expected.Actor, StringComparison.Ordinal)
            && string.Equals(record.Reason, expected.Reason, StringComparison.Ordinal)
                ? null
                : $"its audit record {record.Id} describes another change ({record.Action} {record.Subject})";
    }

    /// <summary>Microsecond precision: both databases keep it, so a stored time hashes as it did when written.</summary>
    public static DateTime Normalize(DateTime time)
    {
        var utc = time.Kind == DateTimeKind.Utc ? time : DateTime.SpecifyKind(time, DateTimeKind.Utc);
        return new DateTime(utc.Ticks - (utc.Ticks % 10), DateTimeKind.Utc);
    }

    private static string Timestamp(DateTime time) =>
        Normalize(time).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Checks records in id order; returns the first broken one and why, or null when the chain is intact.</summary>
    public static AuditBreak? Verify(IEnumerable<AuditRecord> recordsInIdOrder) => Verify(recordsInIdOrder, 1, GenesisHash);

    /// <summary>Checks records in id order that continue a chain verified up to id <paramref name="expectedId"/> - 1 with hash <paramref name="previousHash"/>.</summary>
    public static AuditBreak? Verify(IEnumerable<AuditRecord> recordsInIdOrder, long expectedId, string previousHash)
    {
        foreach (var record in recordsInIdOrder)
        {
            if (record.Id != expectedId)
            {
                return new AuditBreak(record.Id, record.Id > expectedId
                    ? $"record {expectedId} is missing (next record is {record.Id})"
                    : $"record {record.Id} appears out of order");
            }

            if (!string.Equals(record.PreviousHash, previousHash, StringComparison.Ordinal))
            {
                return new AuditBreak(record.Id, "its previous-hash does not match the record before it");
            }

            if (!string.Equals(ComputeHash(record), record.Hash, StringComparison.Ordinal))
            {
                return new AuditBreak(record.Id, "its content does not match its hash (the record was altered)");
            }

            previousHash = record.Hash;
            expectedId++;
        }

        return null;
    }
}

/// <summary>The first record where the chain breaks.</summary>
public sealed record AuditBreak(long RecordId, string Problem);

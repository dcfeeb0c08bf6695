using CuratedIndex.Data;
using CuratedIndex.Features.Audit;

namespace CuratedIndex.Tests.Features.Audit;

public sealed class AuditChainTests
{
    private static readonly DateTime Start = new(2026, 11, 22, 10, 0, 0, DateTimeKind.Utc);

    private static List<AuditRecord> Chain(int count)
    {
        var records = new List<AuditRecord>();
        var previous = AuditChain.GenesisHash;
        for (var id = 1; id <= count; id++)
        {
            var record = new AuditRecord
            {
                Id = id,
                OccurredAt = Start.AddSeconds(id),
                Actor = "rita",
                Action = "project.approve",
                Subject = $"project:p{id}",
                Reason = $"reason {id}",
                PreviousHash = previous,
                Hash = "",
            };
            record.Hash = AuditChain.ComputeHash(record);
            previous = record.Hash;
            records.Add(record);
        }

        return records;
    }

    [Fact]
    public void Verify_IntactChainOrEmptyLog_HasNoBreak()
    {
        Assert.Null(AuditChain.Verify(Chain(5)));
        Assert.Null(AuditChain.Verify([]));
    }

    [Fact]
    public void Verify_AlteredField_NamesThatRecord()
    {
        foreach (var alter in new Action<AuditRecord>[] { r => r.Reason += "!", r => r.Actor = "mallory", r => r.Action = "project.deny", r => r.Subject = "project:x", r => r.OccurredAt = r.OccurredAt.AddSeconds(1) })
        {
            var records = Chain(5);
            alter(records[2]);

            var broken = AuditChain.Verify(records);

            Assert.Equal(3, broken!.RecordId);
            Assert.Contains("altered", broken.Problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Verify_AlteredAndRehashed_BreaksAtTheNextRecord()
    {
        var records = Chain(5);
        records[1].Reason = "forged";
        records[1].Hash = AuditChain.ComputeHash(records[1]);

        Assert.Equal(new AuditBreak(3, "its previous-hash does not match the record before it"), AuditChain.Verify(records));
    }

    [Fact]
    public void Verify_DeletedRecord_NamesTheRecordAfterTheGap()
    {
        var middle = Chain(5);
        middle.RemoveAt(2);
        var first = Chain(3);
        first.RemoveAt(0);

        Assert.Equal(new AuditBreak(4, "record 3 is missing (next record is 4)"), AuditChain.Verify(middle));
        Assert.Equal(new AuditBreak(2, "record 1 is missing (next record is 2)"), AuditChain.Verify(first));
    }

    [Fact]
    public void Verify_ReorderedRecords_AreDetected()
    {
        var records = Chain(4);
        (records[1], records[2]) = (records[2], records[1]);

        Assert.Equal(3, AuditChain.Verify(records)!.RecordId);
    }

    [Fact]
    public void ComputeHash_FieldBoundaries_CannotBeShifted()
    {
        var a = AuditChain.ComputeHash(1, Start, "ab", "c", "s", "r", AuditChain.GenesisHash);
        var b = AuditChain.ComputeHash(1, Start, "a", "bc", "s", "r", AuditChain.GenesisHash);

        Assert.NotEqual(a, b);
        Assert.Matches("^[0-9a-f]{64}$", a);
        Assert.Equal(a, AuditChain.ComputeHash(1, Start, "ab", "c", "s", "r", AuditChain.GenesisHash));
    }

    [Fact]
    public void ComputeHash_TimeAsStored_HashesAsWritten()
    {
        // Written as UTC with sub-microsecond ticks; read back from SQLite without a kind and truncated to microseconds.
        var written = Start.AddTicks(1_234_567);
        var read = DateTime.SpecifyKind(AuditChain.Normalize(written), DateTimeKind.Unspecified);

        Assert.Equal(
            AuditChain.ComputeHash(7, AuditChain.Normalize(written), "a", "b", "c", "d", AuditChain.GenesisHash),
            AuditChain.ComputeHash(7, read, "a", "b", "c", "d", AuditChain.GenesisHash));
        Assert.Equal(Start.AddTicks(1_234_560), AuditChain.Normalize(written));
    }
}

using System.Collections.Frozen;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// How a release decision is written to the audit log, and the check that a stored decision is the one its record describes.
/// The record's reason carries the criteria, how, break-glass, source and a digest of the pinned files, so a
/// <c>vetted_files</c> row changed behind the application's back no longer matches its record and is not followed.
/// </summary>
public static class ReleaseAudit
{
    public static string Subject(string project, string version) => $"release:{project}=={version}";

    public static string ActionOf(ReleaseDecision decision) => decision.Verdict == ReleaseVerdictText.Vetted
        ? decision.BreakGlass ? AuditAction.ReleaseVetBreakGlass : AuditAction.ReleaseVet
        : AuditAction.ReleaseReject;

    /// <summary>The audit record's reason for <paramref name="decision"/> (its files included), at most 2000 characters.</summary>
    public static string ReasonOf(ReleaseDecision decision)
    {
        var facts = decision.Verdict == ReleaseVerdictText.Vetted
            ? $"[{decision.Criteria}; how={decision.How}{(decision.Source is null ? "" : $"; source={decision.Source}")}; {decision.Files.Count} files pinned, digest {FilesDigest(decision.Files)}] "
            : $"[how={decision.How}] ";
        var text = facts + decision.Reason;
        return text.Length <= 2000 ? text : text[..2000];
    }

    /// <summary>SHA-256 over "filename sha256 size metadata-sha256" lines in filename order: what the vetting pinned, in 16 hex digits.</summary>
    public static string FilesDigest(IEnumerable<VettedFile> files)
    {
        var lines = new StringBuilder();
        foreach (var file in files.OrderBy(f => f.Filename, StringComparer.Ordinal))
        {
            lines.Append(file.Filename).Append(' ').Append(file.Sha256.ToLowerInvariant()).Append(' ').Append(file.Size.ToString(CultureInfo.InvariantCulture))
                .Append(' ').Append(file.MetadataSha256?.ToLowerInvariant() ?? "-").Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(lines.ToString())))[..16];
    }

    /// <summary>Why <paramref name="decision"/> is not accounted for by <paramref name="record"/>, or null when it is.</summary>
    public static string? Problem(ReleaseDecision decision, AuditRecord? record) =>
        AuditChain.RecordProblem(
            decision.AuditRecordId,
            decision.AuditHash,
            record,
            new AuditEntry(decision.Actor, ActionOf(decision), Subject(decision.Project, decision.Version), ReasonOf(decision)));

    public static ReleaseVerdict VerdictOf(ReleaseDecision decision) => new(
        decision.Id,
        decision.Project,
        decision.Version,
        decision.Verdict == ReleaseVerdictText.Vetted,
        decision.Criteria,
        decision.How,
        decision.Actor,
        decision.Reason,
        decision.BreakGlass,
        decision.Source,
        decision.DecidedAt,
        decision.Files.ToFrozenDictionary(f => f.Filename, f => new PinnedFile(f.Filename, f.Sha256.ToLowerInvariant(), f.Size, f.MetadataSha256?.ToLowerInvariant()), StringComparer.Ordinal));
}

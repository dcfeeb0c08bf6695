using System.Collections.Frozen;
using System.Globalization;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;

namespace CuratedIndex.Features.Provenance;

public static class PublisherActionText
{
    public const string Vet = "vet";
    public const string Remove = "remove";
}

/// <summary>A vetted publisher in force for a project, with where it came from: a policy file or a reviewer.</summary>
/// <param name="Source"><c>policy</c>, or the reviewer who vetted it.</param>
public sealed record PublisherGrant(VettedPublisher Publisher, string Source, string Reason, DateTime? DecidedAt)
{
    public bool FromPolicy => Source == PublisherAudit.PolicySource;
}

/// <summary>
/// How a publisher decision is written to the audit log, and the check that a stored row is the one its record describes.
/// The record's reason carries the entry and its dates: a row changed behind the application's back (another repository, a
/// wider window) no longer matches its record and is not followed.
/// </summary>
public static class PublisherAudit
{
    public const string PolicySource = "policy";

    public static string Subject(string project) => $"project:{project}";

    public static string ActionOf(PublisherDecision decision) =>
        decision.Action == PublisherActionText.Vet ? AuditAction.PublisherVet : AuditAction.PublisherRemove;

    public static string ReasonOf(PublisherDecision decision)
    {
        var text = $"[{decision.Publisher}; from {Date(decision.From)}; until {Date(decision.Until)}] {decision.Reason}";
        return text.Length <= 2000 ? text : text[..2000];
    }

    public static string? Problem(PublisherDecision decision, AuditRecord? record) =>
        AuditChain.RecordProblem(
            decision.AuditRecordId,
            decision.AuditHash,
            record,
            new AuditEntry(decision.Actor, ActionOf(decision), Subject(decision.Project), ReasonOf(decision)));

    private static string Date(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "-";
}

/// <summary>
/// The publishers reviewers vetted, per project (the newest decision per entry wins; a removal leaves no grant), as an
/// immutable snapshot held in <see cref="Decisions.Curation"/>. <see cref="LastDecisionId"/> lets a refresh read only newer rows.
/// </summary>
public sealed record ReviewerPublishers(FrozenDictionary<string, FrozenDictionary<string, PublisherGrant>> ByProject, long LastDecisionId)
{
    public static ReviewerPublishers None { get; } = new(FrozenDictionary<string, FrozenDictionary<string, PublisherGrant>>.Empty, 0);

    public IReadOnlyCollection<PublisherGrant> Of(string project) =>
        ByProject.TryGetValue(project, out var grants) ? grants.Values : [];
}

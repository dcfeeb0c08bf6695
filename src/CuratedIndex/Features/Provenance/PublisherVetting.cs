using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Decisions;

namespace CuratedIndex.Features.Provenance;

public sealed record PublisherOutcome(bool Done, int Status, string Message);

/// <summary>
/// Vets and removes a project's publishers for reviewers: the one place a <see cref="PublisherDecision"/> is written, with its
/// audit record in one transaction. Publishers declared in policy files are changed in the file, not here.
/// </summary>
public sealed class PublisherVetting(CurationStore curations, AuditLog audit, TimeProvider clock, ILogger<PublisherVetting> logger)
{
    public async Task<PublisherOutcome> VetAsync(string project, string entry, DateOnly? from, DateOnly? until, string reason, string actor, CancellationToken cancellationToken)
    {
        if (!VettedPublisher.TryParse(entry, from, until, out var publisher, out var error))
        {
            return new PublisherOutcome(false, StatusCodes.Status400BadRequest, error);
        }

        var canonical = publisher!.ToString();
        if (curations.Current.VettedPublishers(project).FirstOrDefault(g => g.Publisher.Key == publisher!.Key) is { } held
            && held.Publisher.From == publisher.From && held.Publisher.Until == publisher.Until)
        {
            return new PublisherOutcome(true, StatusCodes.Status200OK, $"{canonical} is already vetted for {project} ({(held.FromPolicy ? "by a policy file" : $"by {held.Source}")})");
        }

        if (curations.Current.Policy.PublishersFor(project).Any(p => p.Key == publisher.Key))
        {
            return new PublisherOutcome(false, StatusCodes.Status409Conflict, $"{canonical} is declared for {project} in a policy file; change it there");
        }

        await WriteAsync(new PublisherDecision
        {
            Project = project,
            Publisher = canonical,
            From = publisher.From,
            Until = publisher.Until,
            Action = PublisherActionText.Vet,
            Actor = actor,
            Reason = reason,
            DecidedAt = clock.GetUtcNow().UtcDateTime,
        }, cancellationToken);
        return new PublisherOutcome(true, StatusCodes.Status200OK, $"{canonical} vetted for {project}");
    }

    public async Task<PublisherOutcome> RemoveAsync(string project, string entry, string reason, string actor, CancellationToken cancellationToken)
    {
        if (!VettedPublisher.TryParse(entry, null, null, out var publisher, out var error))
        {
            return new PublisherOutcome(false, StatusCodes.Status400BadRequest, error);
        }

        var canonical = publisher!.ToString();
        var held = curations.Current.VettedPublishers(project).FirstOrDefault(g => g.Publisher.Key == publisher!.Key);
        if (held is null)
        {
            return new PublisherOutcome(false, StatusCodes.Status404NotFound, $"{canonical} is not a vetted publisher of {project}");
        }

        if (held.FromPolicy)
        {
            return new PublisherOutcome(false, StatusCodes.Status409Conflict, $"{canonical} is declared for {project} in a policy file; remove it there");
        }

        await WriteAsync(new PublisherDecision
        {
            Project = project,
            Publisher = canonical,
            Action = PublisherActionText.Remove,
            Actor = actor,
            Reason = reason,
            DecidedAt = clock.GetUtcNow().UtcDateTime,
        }, cancellationToken);
        return new PublisherOutcome(true, StatusCodes.Status200OK, $"{canonical} is no longer a vetted publisher of {project}");
    }

    private async Task WriteAsync(PublisherDecision decision, CancellationToken cancellationToken)
    {
        await audit.WriteAsync(db =>
        {
            db.PublisherDecisions.Add(decision);
            var entry = new AuditEntry(decision.Actor, PublisherAudit.ActionOf(decision), PublisherAudit.Subject(decision.Project), PublisherAudit.ReasonOf(decision))
            {
                Recorded = record => (decision.AuditRecordId, decision.AuditHash) = (record.Id, record.Hash),
            };
            return Task.FromResult((decision, (IReadOnlyList<AuditEntry>)[entry]));
        }, cancellationToken);
        ProvenanceLog.PublisherDecided(logger, decision.Actor, decision.Action, decision.Publisher, decision.Project);
        // Committed: take effect now, even if the caller has gone.
        await curations.RefreshAsync(CancellationToken.None);
    }
}

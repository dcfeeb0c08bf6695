using System.Collections.Concurrent;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Alerts;

/// <summary>
/// Raises the high-severity alert for an internal name that the public upstream also has: one incident and one audit
/// record per project, however often and on however many nodes it is noticed (the audit log's append lock
/// serializes the check and the write).
/// </summary>
public sealed class DependencyConfusionAlerts(AuditLog audit, TimeProvider clock, ILogger<DependencyConfusionAlerts> logger)
{
    public const string Actor = "system";
    private const int MaxRemembered = 100_000;

    private readonly ConcurrentDictionary<string, byte> _raised = new(StringComparer.Ordinal);

    /// <summary>True when this node raised (or found) the alert for <paramref name="project"/>: no need to look upstream again.</summary>
    public bool IsRaised(string project) => _raised.ContainsKey(project);

    /// <summary>
    /// Records the alert unless it exists; returns true when this call raised it. <paramref name="noticed"/> says where
    /// ("on a request in 'ci'", "in the upstream project list").
    /// </summary>
    public async Task<bool> RaiseAsync(string project, string noticed, CancellationToken cancellationToken)
    {
        if (_raised.ContainsKey(project))
        {
            return false;
        }

        var detail = $"the public upstream has a project named '{project}', which policy 'internal:' reserves for an internal project; it is never served from upstream (noticed {noticed})";
        var raised = await audit.WriteAsync(async db =>
        {
            if (await db.Incidents.AnyAsync(i => i.Kind == IncidentKind.DependencyConfusion && i.Project == project, cancellationToken))
            {
                return (false, (IReadOnlyList<AuditEntry>)[]);
            }

            db.Incidents.Add(new Incident
            {
                Kind = IncidentKind.DependencyConfusion,
                Project = project,
                Detail = detail,
                Severity = IncidentSeverity.High,
                OccurredAt = clock.GetUtcNow(),
            });
            return (true, (IReadOnlyList<AuditEntry>)[new AuditEntry(Actor, AuditAction.AlertDependencyConfusion, $"project:{project}", detail)]);
        }, cancellationToken);

        if (_raised.Count >= MaxRemembered)
        {
            _raised.Clear();
        }

        _raised.TryAdd(project, 0);
        if (raised)
        {
            AlertLog.DependencyConfusion(logger, project, noticed);
        }

        return raised;
    }
}

internal static partial class AlertLog
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Critical, Message = "Dependency confusion: the public upstream has a project named {Project}, an internal name (noticed {Noticed})")]
    public static partial void DependencyConfusion(ILogger logger, string project, string noticed);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Checking upstream for the internal name {Project} failed")]
    public static partial void CheckFailed(ILogger logger, string project, Exception exception);
}

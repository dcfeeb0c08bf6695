using System.Collections.Concurrent;
using CuratedIndex.Data;
using CuratedIndex.Features.Alerts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// Raises the high-severity alert for a vetted file that upstream now lists with other bytes: one incident and one audit
/// record per (file, upstream sha256), on whichever node notices first (a page render, a download, the upstream watch).
/// Tier 3 never serves those bytes; this makes sure a person hears of it.
/// </summary>
public sealed class PinMismatchAlerts(AuditLog audit, TimeProvider clock, ILogger<PinMismatchAlerts> logger)
{
    public const string AuditActionName = "alert.pin-mismatch";
    private const int MaxRemembered = 100_000;

    private readonly ConcurrentDictionary<string, byte> _raised = new(StringComparer.Ordinal);

    /// <summary>Checks every file upstream lists against the project's pins and raises an alert for each mismatch.</summary>
    public async Task CheckAsync(ReleaseVettings vettings, string project, IReadOnlyList<DistributionFile> upstreamFiles, CancellationToken cancellationToken)
    {
        var releases = vettings.Of(project);
        if (releases.Count == 0)
        {
            return;
        }

        foreach (var file in upstreamFiles)
        {
            var version = SimpleIndex.SimplePageRenderer.VersionOf(project, file.Filename);
            if (version is not null && vettings.For(project, version) is { } release && release.Vetted
                && release.Files.TryGetValue(file.Filename, out var pinned)
                && !string.Equals(file.Sha256, pinned.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                // A listing without a sha256 cannot be matched to the pin either: hidden like a changed digest, and alerted.
                await RaiseAsync(project, release.Version, pinned, file.Sha256 ?? Decisions.UpstreamFacts.NoSha256, cancellationToken);
            }
        }
    }

    /// <summary>Records the alert unless it exists; never throws for a database problem (the file stays hidden either way).</summary>
    public async Task RaiseAsync(string project, string version, PinnedFile pinned, string upstreamSha256, CancellationToken cancellationToken)
    {
        var key = $"{project}/{pinned.Filename}/{upstreamSha256}";
        if (_raised.ContainsKey(key))
        {
            return;
        }

        var detail = $"upstream now lists '{pinned.Filename}' of {project} {version} with sha256 {upstreamSha256}; it was vetted with sha256 {pinned.Sha256}. Tier 3 never serves the new bytes.";
        try
        {
            var raised = await audit.WriteAsync(async db =>
            {
                if (await db.Incidents.AnyAsync(i => i.Kind == IncidentKind.PinMismatch && i.Project == project && i.Filename == pinned.Filename && i.Detail == detail, cancellationToken))
                {
                    return (false, (IReadOnlyList<AuditEntry>)[]);
                }

                db.Incidents.Add(new Incident
                {
                    Kind = IncidentKind.PinMismatch,
                    Project = project,
                    Filename = pinned.Filename,
                    Detail = detail,
                    Severity = IncidentSeverity.High,
                    OccurredAt = clock.GetUtcNow(),
                });
                return (true, (IReadOnlyList<AuditEntry>)[new AuditEntry(DependencyConfusionAlerts.Actor, AuditActionName, ReleaseAudit.Subject(project, version), detail)]);
            }, cancellationToken);
            if (raised)
            {
                ReleasesLog.PinMismatch(logger, project, pinned.Filename, upstreamSha256, pinned.Sha256);
            }

            if (_raised.Count >= MaxRemembered)
            {
                _raised.Clear();
            }

            _raised.TryAdd(key, 0);
        }
        catch (DbUpdateException e)
        {
            ReleasesLog.AlertFailed(logger, project, e);
        }
    }
}

internal static partial class ReleasesLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Critical, Message = "Pin mismatch: upstream lists {Filename} of {Project} with sha256 {Upstream}, vetted with {Pinned}; not served")]
    public static partial void PinMismatch(ILogger logger, string project, string filename, string upstream, string pinned);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Recording a release alert for {Project} failed")]
    public static partial void AlertFailed(ILogger logger, string project, Exception exception);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "{Actor} {Verdict} {Project} {Version} ({How}): {Reason}")]
    public static partial void Decided(ILogger logger, string actor, string verdict, string project, string version, string how, string reason);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Warning, Message = "Observing the releases of {Project} failed")]
    public static partial void ObserveFailed(ILogger logger, string project, Exception exception);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "A pinned file of {Project} is not stored: {Problem}")]
    public static partial void PinStoreFailed(ILogger logger, string project, string problem);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "Counting demand for {Project} {Version} failed")]
    public static partial void DemandFailed(ILogger logger, string project, string version, Exception exception);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Information, Message = "Policy vetting: {Vetted} releases vetted, {Waiting} waiting ({Reasons})")]
    public static partial void PolicyPass(ILogger logger, int vetted, int waiting, string reasons);
}

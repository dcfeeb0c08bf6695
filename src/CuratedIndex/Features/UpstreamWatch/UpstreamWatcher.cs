using CuratedIndex.Data;
using CuratedIndex.Features.Alerts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.UpstreamWatch;

/// <summary>What one pass of the watch did.</summary>
public sealed record WatchSummary(int Projects, int NewFiles, int RemovedFiles, int YankChanges, int Alerts, int Failures);

/// <summary>
/// Follows the approved projects upstream (issue 4, part 6). Each pass revalidates every approved project's
/// page through <see cref="ProjectPageCache"/> (ETag), so what the watch saw is what the next index request
/// serves: a project quarantined upstream disappears from tiers 1 and 2 at once, not after
/// <c>Upstream:PageMaxAge</c>. It records each file with the time CuratedIndex first saw it, files that left
/// upstream and yanks (<c>upstream_files</c>), and per project the serial, ETag and PEP 792 status
/// (<c>watched_projects</c>). A project becoming quarantined raises an alert: an incident and an audit record.
/// Idempotent: a second pass, or a second node running the same pass, changes nothing.
/// </summary>
public sealed class UpstreamWatcher(
    CurationStore curations,
    ProjectPageCache pages,
    IServiceScopeFactory scopes,
    AuditLog audit,
    ReleaseObserver releases,
    PinMismatchAlerts pins,
    TimeProvider clock,
    ILogger<UpstreamWatcher> logger)
{
    /// <summary>Status recorded when upstream answers 404 for a watched project.</summary>
    public const string NotFoundStatus = "not-found";

    /// <summary>
    /// Raised after new files of a project were recorded, with their versions (distinct, upstream order), by the node whose
    /// insert won, so at most once per file. Release observation (first sight, anomaly signals) runs right after it.
    /// </summary>
    public event Action<string, IReadOnlyList<string>>? NewReleasesSeen;

    /// <summary>One pass over every approved project. Failures are logged per project and the pass goes on.</summary>
    public async Task<WatchSummary> RunOnceAsync(CancellationToken cancellationToken)
    {
        await curations.RefreshAsync(cancellationToken);
        var projects = curations.Current.ApprovedProjects();
        var total = new ProjectChange(0, 0, 0, 0);
        var failures = 0;
        foreach (var project in projects)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                var change = await WatchAsync(project, cancellationToken);
                total = new ProjectChange(total.NewFiles + change.NewFiles, total.RemovedFiles + change.RemovedFiles, total.YankChanges + change.YankChanges, total.Alerts + change.Alerts);
            }
            catch (DbUpdateException)
            {
                // The unique (project, filename) and project indexes: another node recorded the same change first.
                UpstreamWatchLog.RecordedElsewhere(logger, project);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                failures++;
                UpstreamWatchLog.ProjectFailed(logger, project, e);
            }
        }

        UpstreamWatchLog.PassDone(logger, projects.Count, total.NewFiles, total.RemovedFiles, total.YankChanges, total.Alerts, failures);
        return new WatchSummary(projects.Count, total.NewFiles, total.RemovedFiles, total.YankChanges, total.Alerts, failures);
    }

    private async Task<ProjectChange> WatchAsync(string project, CancellationToken cancellationToken)
    {
        var lookup = await pages.RevalidateAsync(project, cancellationToken);
        if (lookup.Status == LookupStatus.Failed)
        {
            UpstreamWatchLog.UpstreamFailed(logger, project, lookup.Reason ?? "upstream failed");
            return new ProjectChange(0, 0, 0, 0);
        }

        var page = lookup.Value?.Page;
        var status = lookup.Status == LookupStatus.NotFound ? NotFoundStatus : page?.Status?.Status ?? ProjectStatus.Active;
        var observation = new Observation(project, page, status, page?.Status?.Reason);

        ProjectChange change;
        if (status == ProjectStatus.Quarantined)
        {
            // The alert and the status that says it was raised are written with their audit record, in one
            // transaction serialized across nodes, so exactly one alert is raised per quarantine.
            change = await audit.WriteAsync(async db =>
            {
                var (result, alert) = await ApplyAsync(db, observation, cancellationToken);
                return (result, alert is null ? [] : (IReadOnlyList<AuditEntry>)[alert]);
            }, cancellationToken);
        }
        else
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            (change, _) = await ApplyAsync(db, observation, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }

        if (change.Alerts > 0)
        {
            UpstreamWatchLog.Quarantined(logger, project, observation.Reason ?? "");
        }

        if (change.NewVersions is { Count: > 0 } versions)
        {
            OnNewReleasesSeen(project, versions);
        }

        if (page is not null && status != ProjectStatus.Quarantined)
        {
            // Tier 3: releases seen for the first time start their cooldown and get their anomaly signals; pins are checked.
            await releases.ObserveAsync(page, cancellationToken, change.NewVersions);
            await pins.CheckAsync(curations.Current.Vettings, project, page.Files, cancellationToken);
        }

        return change;
    }

    /// <summary>Logs the new releases, then tells any subscriber.</summary>
    private void OnNewReleasesSeen(string project, IReadOnlyList<string> versions)
    {
        UpstreamWatchLog.NewReleasesSeen(logger, project, versions);
        NewReleasesSeen?.Invoke(project, versions);
    }

    // Brings the project's rows in line with what upstream shows now; returns the alert to record, if any.
    private async Task<(ProjectChange Change, AuditEntry? Alert)> ApplyAsync(CuratedIndexDbContext db, Observation seen, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var watched = await db.WatchedProjects.FirstOrDefaultAsync(w => w.Project == seen.Project, cancellationToken);
        var previousStatus = watched?.Status;
        watched ??= db.WatchedProjects.Add(new WatchedProject { Project = seen.Project, Status = seen.Status }).Entity;
        watched.Status = seen.Status;
        // The ETag of the page the revalidation just stored, read in the same context as the rows it goes with.
        watched.ETag = await db.CachedPages.AsNoTracking()
            .Where(p => p.Kind == PageKind.Simple && p.Key == seen.Project)
            .Select(p => p.ETag)
            .FirstOrDefaultAsync(cancellationToken);
        watched.LastSerial = seen.Page?.LastSerial ?? watched.LastSerial;
        watched.CheckedAt = now;

        AuditEntry? alert = null;
        if (seen.Status == ProjectStatus.Quarantined && previousStatus != ProjectStatus.Quarantined)
        {
            var detail = $"'{seen.Project}' is quarantined upstream (PEP 792){(string.IsNullOrEmpty(seen.Reason) ? "" : $": {seen.Reason}")}; it is hidden in every environment";
            db.Incidents.Add(new Incident { Kind = IncidentKind.UpstreamQuarantined, Project = seen.Project, Detail = detail, OccurredAt = clock.GetUtcNow() });
            alert = new AuditEntry(DependencyConfusionAlerts.Actor, AuditAction.AlertUpstreamQuarantined, seen.Project, detail);
        }

        // A quarantined page lists no files (PEP 792): that is not a removal, so the files stay as they were.
        if (seen.Status == ProjectStatus.Quarantined)
        {
            return (new ProjectChange(0, 0, 0, alert is null ? 0 : 1), alert);
        }

        var known = await db.UpstreamFiles.Where(f => f.Project == seen.Project).ToDictionaryAsync(f => f.Filename, StringComparer.Ordinal, cancellationToken);
        var upstream = seen.Page?.Files ?? [];
        var listed = new HashSet<string>(StringComparer.Ordinal);
        var newVersions = new List<string>();
        int added = 0, removed = 0, yanks = 0;
        foreach (var file in upstream)
        {
            if (!listed.Add(file.Filename))
            {
                continue;
            }

            if (known.TryGetValue(file.Filename, out var row))
            {
                if (row.RemovedAt is not null)
                {
                    row.RemovedAt = null; // listed again
                }

                if (row.Yanked != file.IsYanked)
                {
                    row.Yanked = file.IsYanked;
                    yanks++;
                }

                continue;
            }

            var version = SimplePageRenderer.VersionOf(seen.Project, file.Filename);
            db.UpstreamFiles.Add(new UpstreamFile
            {
                Project = seen.Project,
                Filename = file.Filename,
                Version = version,
                Sha256 = file.Sha256,
                UploadTime = file.UploadTime,
                Size = file.Size,
                FirstSeenAt = now,
                Yanked = file.IsYanked,
            });
            added++;
            if (version is not null && !newVersions.Contains(version, StringComparer.Ordinal))
            {
                newVersions.Add(version);
            }
        }

        foreach (var row in known.Values.Where(r => r.RemovedAt is null && !listed.Contains(r.Filename)))
        {
            row.RemovedAt = now;
            removed++;
        }

        return (new ProjectChange(added, removed, yanks, alert is null ? 0 : 1) { NewVersions = newVersions }, alert);
    }

    private sealed record Observation(string Project, ProjectPage? Page, string Status, string? Reason);

    private sealed record ProjectChange(int NewFiles, int RemovedFiles, int YankChanges, int Alerts)
    {
        public IReadOnlyList<string>? NewVersions { get; init; }
    }
}

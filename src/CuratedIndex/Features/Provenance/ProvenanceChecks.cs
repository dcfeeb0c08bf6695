using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using CuratedIndex.Data;
using CuratedIndex.Features.Alerts;
using CuratedIndex.Features.Audit;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Files;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Provenance;

/// <summary>
/// Fetches, verifies and stores the PEP 740 provenance of distribution files (<c>file_provenance</c>): verified with the
/// publishers it proves, failed with the reason, none when upstream offers none, unavailable when it could not be fetched
/// (tried again next time). A failure is a high-severity incident. After a release's files are checked, its provenance
/// signals are recorded with the anomaly signals, so they stop automatic vetting and show on the release page.
/// </summary>
public sealed class ProvenanceChecks(
    ProjectPageCache pages,
    IHttpClientFactory http,
    FileHostGuard hosts,
    TrustedRootSource root,
    CurationStore curations,
    IServiceScopeFactory scopes,
    AuditLog audit,
    TimeProvider clock,
    IOptions<UpstreamOptions> upstream,
    IOptions<ProvenanceOptions> options,
    CuratedIndexMetrics metrics,
    ILogger<ProvenanceChecks> logger)
{
    private const int MaxAttempts = 3;
    private const int MaxRemembered = 100_000;

    internal static readonly JsonSerializerOptions EvidenceJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    // Incidents raised by this node, so a page asked for many times raises one.
    private readonly ConcurrentDictionary<string, byte> _raised = new(StringComparer.Ordinal);

    /// <summary>Checks every file upstream lists now for a release, then records its provenance signals; the stored rows.</summary>
    public async Task<IReadOnlyList<FileProvenance>> CheckReleaseAsync(string project, string version, CancellationToken cancellationToken) =>
        (await CheckReleasesAsync(project, [version], cancellationToken)).GetValueOrDefault(version) ?? [];

    /// <summary>
    /// Checks the files of several releases from one read of upstream's page and one read of the stored results (a project
    /// seen for the first time brings all its releases at once), then records each release's provenance signals; the
    /// stored rows per version asked for.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<FileProvenance>>> CheckReleasesAsync(string project, IReadOnlyCollection<string> versions, CancellationToken cancellationToken)
    {
        var results = new Dictionary<string, IReadOnlyList<FileProvenance>>(StringComparer.Ordinal);
        var lookup = await pages.GetAsync(project, cancellationToken);
        if (lookup.Status != LookupStatus.Found)
        {
            return results;
        }

        var stored = (await StoredAsync(project, cancellationToken)).ToDictionary(r => (r.Filename, r.Sha256));
        var checkedVersions = new List<string>();
        var unattested = new List<FileProvenance>();
        foreach (var version in versions.Distinct(StringComparer.Ordinal))
        {
            var key = ReleaseVettings.ReleaseKey(version);
            var checkedFiles = new List<FileProvenance>();
            foreach (var file in lookup.Value!.Page.Files.Where(f => ReleaseVettings.ReleaseKey(SimplePageRenderer.VersionOf(project, f.Filename)) == key))
            {
                if (stored.TryGetValue((file.Filename, file.Sha256?.ToLowerInvariant() ?? UpstreamFacts.NoSha256), out var row) && !NeedsCheck(row, file))
                {
                    checkedFiles.Add(row);
                }
                else if (row is null && file.Provenance is null)
                {
                    // Most files of older releases have no provenance: recorded together below, without a fetch.
                    var none = NewResult(project, file);
                    unattested.Add(none);
                    checkedFiles.Add(none);
                }
                else
                {
                    checkedFiles.Add(await CheckFileAsync(project, file, cancellationToken));
                }
            }

            if (checkedFiles.Count > 0)
            {
                checkedVersions.Add(checkedFiles[0].Version);
            }

            results[version] = checkedFiles;
        }

        await SaveNewAsync(unattested, cancellationToken);
        await RecordSignalsAsync(project, checkedVersions, cancellationToken);
        return results;
    }

    /// <summary>The stored result for one listed file, checked now when there is none (or it could not be fetched before).</summary>
    public async Task<FileProvenance> CheckFileAsync(string project, DistributionFile file, CancellationToken cancellationToken)
    {
        var sha256 = file.Sha256?.ToLowerInvariant() ?? UpstreamFacts.NoSha256;
        var stored = await StoredAsync(project, file.Filename, sha256, cancellationToken);
        if (stored is not null && !NeedsCheck(stored, file))
        {
            return stored;
        }

        var result = NewResult(project, file);
        if (file.Provenance is { } url)
        {
            await VerifyIntoAsync(result, file, url, cancellationToken);
            metrics.ProvenanceVerification(result.State);
        }

        return await SaveAsync(result, cancellationToken);
    }

    // A result for a file not checked yet: none until its provenance is fetched and verified.
    private FileProvenance NewResult(string project, DistributionFile file) => new()
    {
        Project = project,
        Version = ReleaseVettings.NormalizeVersion(SimplePageRenderer.VersionOf(project, file.Filename)) ?? "",
        Filename = file.Filename,
        Sha256 = file.Sha256?.ToLowerInvariant() ?? UpstreamFacts.NoSha256,
        State = ProvenanceStateText.None,
        TrustedRoot = root.Digest,
        CheckedAt = clock.GetUtcNow().UtcDateTime,
    };

    // Inserts results for files without provenance in one transaction; when another node inserted some of them first,
    // each is saved on its own instead (SaveAsync replaces the row).
    private async Task SaveNewAsync(List<FileProvenance> results, CancellationToken cancellationToken)
    {
        if (results.Count == 0)
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
            db.FileProvenances.AddRange(results);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (!cancellationToken.IsCancellationRequested)
        {
            foreach (var result in results)
            {
                result.Id = 0;
                await SaveAsync(result, cancellationToken);
            }
        }
    }

    /// <summary>The stored results of a project's files, newest check first per file.</summary>
    public async Task<IReadOnlyList<FileProvenance>> StoredAsync(string project, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        return await db.FileProvenances.AsNoTracking().Where(p => p.Project == project).OrderBy(p => p.Id).ToListAsync(cancellationToken);
    }

    public static IReadOnlyList<AttestationEvidence> EvidenceOf(FileProvenance row) =>
        row.Evidence is null ? [] : JsonSerializer.Deserialize<List<AttestationEvidence>>(row.Evidence, EvidenceJson) ?? [];

    // Checked again: a document that could not be fetched; a result under an older trusted root (a refreshed root may know
    // a new log, or have end-dated a compromised key); "none" when upstream has started to offer provenance.
    private bool NeedsCheck(FileProvenance stored, DistributionFile file) => stored.State switch
    {
        ProvenanceStateText.Unavailable => true,
        ProvenanceStateText.Failed or ProvenanceStateText.Verified => stored.TrustedRoot != root.Digest,
        ProvenanceStateText.None => file.Provenance is not null,
        _ => false,
    };

    private async Task VerifyIntoAsync(FileProvenance result, DistributionFile file, string url, CancellationToken cancellationToken)
    {
        var (document, problem) = await FetchAsync(url, cancellationToken);
        if (document is null)
        {
            result.State = ProvenanceStateText.Unavailable;
            result.Failure = problem;
            ProvenanceLog.FetchFailed(logger, result.Project, file.Filename, problem!);
            return;
        }

        result.Document = document;
        if (file.Sha256 is null)
        {
            result.State = ProvenanceStateText.Failed;
            result.Failure = "upstream lists no sha256 for the file, so its attestations cannot be matched to it";
            return;
        }

        var verification = ProvenanceVerifier.Verify(document, file.Filename, result.Sha256, root.Root, clock.GetUtcNow());
        if (verification.Verified)
        {
            result.State = ProvenanceStateText.Verified;
            result.Publishers = string.Join('\n', verification.Publishers.Select(p => p.Canonical));
            result.Evidence = JsonSerializer.Serialize(verification.Attestations, EvidenceJson);
        }
        else
        {
            result.State = ProvenanceStateText.Failed;
            result.Failure = Truncate(verification.Failure ?? "verification failed");
        }
    }

    private async Task<(byte[]? Document, string? Problem)> FetchAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var source))
        {
            return (null, "upstream named a provenance URL that is not absolute");
        }

        if (hosts.Refusal(source) is { } refused)
        {
            return (null, $"upstream named a provenance URL at {refused}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(upstream.Value.Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, source);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ProvenanceEndpoints.ProvenanceMediaType));
            using var response = await http.CreateClient(UpstreamPageClient.HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (null, $"upstream answered {(int)response.StatusCode} for the provenance");
            }

            var body = await UpstreamPageClient.ReadLimitedAsync(response.Content, options.Value.MaxDocumentBytes, timeout.Token);
            return body is null
                ? (null, $"the provenance document is larger than {options.Value.MaxDocumentBytes} bytes (Provenance:MaxDocumentBytes)")
                : (body, null);
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return (null, e is OperationCanceledException ? $"upstream did not answer within {upstream.Value.Timeout}" : $"fetching the provenance failed ({e.Message})");
        }
    }

    private async Task<FileProvenance?> StoredAsync(string project, string filename, string sha256, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        return await db.FileProvenances.AsNoTracking().FirstOrDefaultAsync(p => p.Project == project && p.Filename == filename && p.Sha256 == sha256, cancellationToken);
    }

    // Insert or replace the row for (project, filename, sha256); another node checking the same file at once loses nothing:
    // the same document gives the same result.
    private async Task<FileProvenance> SaveAsync(FileProvenance result, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
                var row = await db.FileProvenances.FirstOrDefaultAsync(p => p.Project == result.Project && p.Filename == result.Filename && p.Sha256 == result.Sha256, cancellationToken);
                if (row is null)
                {
                    db.FileProvenances.Add(result);
                }
                else if (row.State == ProvenanceStateText.Verified && result.State == ProvenanceStateText.Unavailable)
                {
                    // Upstream failing to serve the document again does not erase the verified copy.
                    return row;
                }
                else
                {
                    (row.Version, row.State, row.Publishers, row.Evidence, row.Failure, row.Document, row.TrustedRoot, row.CheckedAt) =
                        (result.Version, result.State, result.Publishers, result.Evidence, result.Failure, result.Document, result.TrustedRoot, result.CheckedAt);
                }

                await db.SaveChangesAsync(cancellationToken);
                break;
            }
            catch (DbUpdateException) when (attempt < MaxAttempts && !cancellationToken.IsCancellationRequested)
            {
                // Another node inserted the row first: replace it on the next attempt.
            }
        }

        if (result.State == ProvenanceStateText.Failed)
        {
            await RaiseAsync(result, cancellationToken);
        }

        return result;
    }

    private async Task RaiseAsync(FileProvenance result, CancellationToken cancellationToken)
    {
        var key = $"{result.Project}/{result.Filename}/{result.Sha256}/{result.Failure}";
        if (_raised.ContainsKey(key))
        {
            return;
        }

        ProvenanceLog.VerificationFailed(logger, result.Project, result.Filename, result.Failure!);
        var detail = Truncate($"the provenance of '{result.Filename}' ({result.Project} {result.Version}, sha256 {result.Sha256}) failed verification: {result.Failure}. The release is not vetted automatically and tier 3 does not serve this provenance.");
        try
        {
            await audit.WriteAsync(async db =>
            {
                if (await db.Incidents.AnyAsync(i => i.Kind == IncidentKind.ProvenanceFailed && i.Project == result.Project && i.Filename == result.Filename && i.Detail == detail, cancellationToken))
                {
                    return (false, (IReadOnlyList<AuditEntry>)[]);
                }

                db.Incidents.Add(new Incident
                {
                    Kind = IncidentKind.ProvenanceFailed,
                    Project = result.Project,
                    Filename = result.Filename,
                    Detail = detail,
                    Severity = IncidentSeverity.High,
                    OccurredAt = clock.GetUtcNow(),
                });
                return (true, (IReadOnlyList<AuditEntry>)[new AuditEntry(DependencyConfusionAlerts.Actor, AuditAction.AlertProvenanceFailed, ReleaseAudit.Subject(result.Project, result.Version), detail)]);
            }, cancellationToken);
            if (_raised.Count >= MaxRemembered)
            {
                _raised.Clear();
            }

            _raised.TryAdd(key, 0);
        }
        catch (DbUpdateException e)
        {
            ProvenanceLog.RecordFailed(logger, result.Project, e);
        }
    }

    /// <summary>
    /// Records the provenance signals of <paramref name="version"/> against the previous release and the previous vetted one
    /// (by PEP 440 order), and drops the provenance signals it no longer shows.
    /// </summary>
    public Task RecordSignalsAsync(string project, string version, CancellationToken cancellationToken) =>
        RecordSignalsAsync(project, [version], cancellationToken);

    /// <summary>The same for several releases of one project, from one read of its stored results and recorded files.</summary>
    public async Task RecordSignalsAsync(string project, IReadOnlyCollection<string> versions, CancellationToken cancellationToken)
    {
        if (versions.Count == 0)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var rows = await db.FileProvenances.AsNoTracking().Where(p => p.Project == project).ToListAsync(cancellationToken);
        var files = await db.UpstreamFiles.AsNoTracking().Where(f => f.Project == project && f.RemovedAt == null).ToListAsync(cancellationToken);
        var known = await db.ReleaseSignals.Where(s => s.Project == project && versions.Contains(s.Version)).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        foreach (var version in versions.Distinct(StringComparer.Ordinal))
        {
            var detected = ProvenanceHistory.Detect(project, version, rows, files, curations.Current.Vettings);
            var ofVersion = known.Where(k => k.Version == version).ToList();
            foreach (var signal in detected.Where(d => ofVersion.All(k => k.Kind != d.Kind)))
            {
                db.ReleaseSignals.Add(new ReleaseSignal { Project = project, Version = version, Kind = signal.Kind, Evidence = Truncate(signal.Evidence), DetectedAt = now });
            }

            db.ReleaseSignals.RemoveRange(ofVersion.Where(k => ProvenanceSignals.IsProvenanceKind(k.Kind) && detected.All(d => d.Kind != k.Kind)));
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e)
        {
            // Another node recorded the same signal first; the next check records the rest.
            ProvenanceLog.RecordFailed(logger, project, e);
        }
    }

    private static string Truncate(string text) => text.Length <= 2000 ? text : text[..2000];
}

/// <summary>The facts the provenance signals read, built from the stored results and the recorded files.</summary>
public static class ProvenanceHistory
{
    public static IReadOnlyList<AnomalySignal> Detect(string project, string version, IReadOnlyList<FileProvenance> rows, IReadOnlyList<UpstreamFile> files, ReleaseVettings vettings)
    {
        var releases = ReleasesOf(rows, files);
        if (!releases.TryGetValue(version, out var release))
        {
            return [];
        }

        var current = Protocol.Pep440Version.Parse(version);
        var earlier = releases.Keys
            .Select(v => (Text: v, Version: Protocol.Pep440Version.TryParse(v, out var parsed) ? parsed : null))
            .Where(v => v.Version is not null && v.Version < current)
            .OrderByDescending(v => v.Version)
            .ToList();
        var previous = earlier.Select(v => releases[v.Text]).FirstOrDefault(r => r.Files.Any(f => f.State != ProvenanceState.Pending));
        var previousVetted = earlier
            .Where(v => vettings.For(project, v.Text) is { Vetted: true })
            .Select(v => releases[v.Text])
            .FirstOrDefault();
        return ProvenanceSignals.Detect(release, previousVetted, previous);
    }

    /// <summary>Each release's files with what is known of their provenance; a recorded file not checked yet is pending.</summary>
    public static Dictionary<string, ReleaseProvenance> ReleasesOf(IReadOnlyList<FileProvenance> rows, IReadOnlyList<UpstreamFile> files)
    {
        var byFile = rows.GroupBy(r => (r.Filename, r.Sha256)).ToDictionary(g => g.Key, g => g.Last());
        var result = new Dictionary<string, ReleaseProvenance>(StringComparer.Ordinal);
        foreach (var group in files.GroupBy(f => ReleaseVettings.NormalizeVersion(f.Version)))
        {
            if (group.Key is null)
            {
                continue;
            }

            var facts = group.Select(f => byFile.TryGetValue((f.Filename, f.Sha256?.ToLowerInvariant() ?? UpstreamFacts.NoSha256), out var row)
                    ? FactsOf(row)
                    : new FileProvenanceFacts(f.Filename, ProvenanceState.Pending, [], null))
                .ToList();
            result[group.Key] = new ReleaseProvenance(group.Key, facts);
        }

        return result;
    }

    public static FileProvenanceFacts FactsOf(FileProvenance row) => new(
        row.Filename,
        row.State switch
        {
            ProvenanceStateText.Verified => ProvenanceState.Verified,
            ProvenanceStateText.Failed => ProvenanceState.Failed,
            ProvenanceStateText.None => ProvenanceState.None,
            _ => ProvenanceState.Pending, // unavailable: not known yet
        },
        ProvenanceChecks.EvidenceOf(row).Select(e => e.Publisher).Distinct().ToList(),
        row.Failure);
}

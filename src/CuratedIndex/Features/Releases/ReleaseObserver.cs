using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Jobs;
using CuratedIndex.Features.JsonApi;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Protocol;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Releases;

/// <summary>
/// Records each release the first time CuratedIndex sees it (<c>seen_releases</c>: the start of its cooldown) and each file
/// with its first sight (<c>upstream_files</c>), then computes the release's anomaly signals (<c>release_signals</c>). Called
/// by the upstream watch for approved projects and by tier 3 page requests, so a release is seen even before the next pass.
/// Idempotent across nodes: the unique indexes decide who records first, and a lost race is a no-op.
/// </summary>
/// <remarks>
/// With <paramref name="work"/> and <paramref name="curations"/> (always, in the application), the provenance of the
/// releases of an approved project that are new or gained files is checked as durable work.
/// </remarks>
public sealed class ReleaseObserver(
    IServiceScopeFactory scopes,
    JsonApiCache jsonApi,
    TimeProvider clock,
    ILogger<ReleaseObserver> logger,
    IWorkQueue? work = null,
    CurationStore? curations = null)
{
    private const int MaxRemembered = 50_000;

    // A lost race is retried: rarely more than once, as the winner's rows are there the second time.
    private const int MaxAttempts = 3;

    // The page stamp last observed per project on this node: a page observed once needs no database round trip again.
    private readonly ConcurrentDictionary<string, long> _observedStamps = new(StringComparer.Ordinal);

    /// <summary>
    /// Observes <paramref name="page"/> unless this node observed that very page (<paramref name="stamp"/>) already; true when
    /// it did now. Never throws but for cancellation.
    /// </summary>
    public async Task<bool> ObserveAsync(ProjectPage page, long stamp, CancellationToken cancellationToken)
    {
        if (_observedStamps.TryGetValue(page.Name, out var seen) && seen == stamp)
        {
            return false;
        }

        try
        {
            await ObserveAsync(page, cancellationToken);
            if (_observedStamps.Count >= MaxRemembered)
            {
                _observedStamps.Clear();
            }

            _observedStamps[page.Name] = stamp;
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException)
        {
            ReleasesLog.ObserveFailed(logger, page.Name, e);
        }

        return true;
    }

    /// <summary>
    /// Records new releases and files of <paramref name="page"/>; returns the versions seen for the first time.
    /// <paramref name="versionsWithNewFiles"/> are releases whose new files someone else recorded (the upstream watch): their signals are computed again.
    /// </summary>
    public async Task<IReadOnlyList<string>> ObserveAsync(ProjectPage page, CancellationToken cancellationToken, IEnumerable<string>? versionsWithNewFiles = null)
    {
        if (page.Status?.Status == ProjectStatus.Quarantined)
        {
            // A quarantined page lists no files: nothing new to see.
            return [];
        }

        var withNewFiles = versionsWithNewFiles?.ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await ObserveOnceAsync(page, withNewFiles, cancellationToken);
            }
            catch (DbUpdateException) when (attempt < MaxAttempts && !cancellationToken.IsCancellationRequested)
            {
                // Another node recorded some of the same rows first (a unique index said so): read what it recorded, then
                // record the rest. Its first sight stands; the releases it saw first are not first seen here.
            }
        }
    }

    private async Task<IReadOnlyList<string>> ObserveOnceAsync(ProjectPage page, IEnumerable<string>? versionsWithNewFiles, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var project = page.Name;
        var files = await db.UpstreamFiles.Where(f => f.Project == project).ToDictionaryAsync(f => f.Filename, StringComparer.Ordinal, cancellationToken);
        var releases = await db.SeenReleases.Where(r => r.Project == project).ToDictionaryAsync(r => r.Version, StringComparer.Ordinal, cancellationToken);

        var touched = (versionsWithNewFiles ?? []).Select(ReleaseVettings.NormalizeVersion).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var firstSeen = new List<string>();
        foreach (var file in page.Files)
        {
            var version = ReleaseVettings.NormalizeVersion(SimplePageRenderer.VersionOf(project, file.Filename));
            if (version is null)
            {
                continue;
            }

            if (!files.ContainsKey(file.Filename))
            {
                var row = new UpstreamFile
                {
                    Project = project,
                    Filename = file.Filename,
                    Version = SimplePageRenderer.VersionOf(project, file.Filename),
                    Sha256 = file.Sha256,
                    UploadTime = file.UploadTime,
                    Size = file.Size,
                    FirstSeenAt = now,
                    Yanked = file.IsYanked,
                };
                db.UpstreamFiles.Add(row);
                files[file.Filename] = row;
                touched.Add(version);
            }

            var uploaded = ParseUploadTime(file.UploadTime);
            if (!releases.TryGetValue(version, out var release))
            {
                release = new SeenRelease { Project = project, Version = version, FirstSeenAt = now, UploadedAt = uploaded };
                db.SeenReleases.Add(release);
                releases[version] = release;
                firstSeen.Add(version);
                touched.Add(version);
            }
            else if (uploaded is { } time && (release.UploadedAt is null || time < release.UploadedAt) && firstSeen.Contains(version))
            {
                release.UploadedAt = time;
            }
        }

        if (touched.Count == 0)
        {
            return [];
        }

        // The roster of the newest release seen now, from the JSON API (author and maintainer of that version): the
        // roster-changed signal compares it with the previous release's, as recorded when that one was first seen.
        if (firstSeen.Count > 0 && firstSeen.MaxBy(v => Pep440Version.Parse(v)) is { } newest)
        {
            releases[newest].Roster = await RosterAsync(project, newest, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        if (work is not null && curations is not null && curations.Current.IsApproved(project))
        {
            // Provenance is fetched and verified in the background, for each release new or gaining files.
            work.Enqueue<ProvenanceWork, ProvenanceWorkArgs>(new ProvenanceWorkArgs(project, touched.Order(StringComparer.Ordinal).ToList()));
        }

        // First sight is committed; the signals follow, and a lost race on one of them must not undo that.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await RecordSignalsAsync(db, project, touched, files.Values, releases, now, cancellationToken);
                break;
            }
            catch (DbUpdateException) when (attempt < MaxAttempts && !cancellationToken.IsCancellationRequested)
            {
                // Another node recorded a signal of the same release first: drop ours and record only what it did not.
                db.ChangeTracker.Clear();
            }
        }

        return firstSeen;
    }

    // Null when the JSON API does not answer: an unknown roster raises no signal.
    private async Task<string?> RosterAsync(string project, string version, CancellationToken cancellationToken)
    {
        var lookup = await jsonApi.GetAsync($"{project}/{version}", cancellationToken);
        if (lookup.Status != LookupStatus.Found)
        {
            return null;
        }

        try
        {
            var info = JsonNode.Parse(lookup.Value!.Body)?["info"];
            string? Field(string name) => info?[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
            var roster = AnomalySignals.Roster(Field("author"), Field("author_email"), Field("maintainer"), Field("maintainer_email"));
            var text = string.Join('\n', roster);
            return text.Length is > 0 and <= 4000 ? text : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>When the release's cooldown starts: the later of upstream's upload time and CuratedIndex's first sight.</summary>
    public static DateTime CooldownStart(SeenRelease release) =>
        release.UploadedAt is { } uploaded && uploaded > release.FirstSeenAt ? uploaded : release.FirstSeenAt;

    /// <summary>A PEP 700 upload time as UTC, or null when absent or unreadable.</summary>
    public static DateTime? ParseUploadTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time.UtcDateTime : null;

    // Signals of the releases that are new or gained files, each kind recorded once per release.
    private async Task RecordSignalsAsync(
        CuratedIndexDbContext db,
        string project,
        IReadOnlyCollection<string> touched,
        IEnumerable<UpstreamFile> files,
        IReadOnlyDictionary<string, SeenRelease> releases,
        DateTime now,
        CancellationToken cancellationToken)
    {
        var facts = ReleaseHistory.FactsOf(files, releases);
        var known = await db.ReleaseSignals
            .Where(s => s.Project == project && touched.Contains(s.Version))
            .ToListAsync(cancellationToken);
        var recorded = known.Select(k => (k.Version, k.Kind)).ToHashSet();
        foreach (var version in touched)
        {
            if (!facts.ContainsKey(version))
            {
                continue;
            }

            var detected = ReleaseHistory.Detect(project, version, facts);
            foreach (var signal in detected)
            {
                if (recorded.Add((version, signal.Kind)))
                {
                    db.ReleaseSignals.Add(new ReleaseSignal { Project = project, Version = version, Kind = signal.Kind, Evidence = Truncate(signal.Evidence), DetectedAt = now });
                }
            }

            // A signal the release's files no longer show is dropped: first seen while CI was still uploading (only the
            // sdist up), a release looks as if it lost its wheels until they arrive within the grace period. A file that
            // arrives after the grace is its own signal (files-added-later), which stays.
            // Provenance signals are ProvenanceChecks' to drop.
            db.ReleaseSignals.RemoveRange(known.Where(k => k.Version == version && !ProvenanceSignals.IsProvenanceKind(k.Kind) && detected.All(d => d.Kind != k.Kind)));
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Truncate(string text) => text.Length <= 2000 ? text : text[..2000];
}

/// <summary>The facts the anomaly signals read, built from what the watch and the observer recorded.</summary>
public static class ReleaseHistory
{
    /// <summary>The signals <paramref name="version"/> shows against the project's other recorded releases; none when it is not recorded.</summary>
    public static IReadOnlyList<AnomalySignal> Detect(string project, string version, IReadOnlyDictionary<string, ReleaseFacts> facts) =>
        facts.TryGetValue(version, out var release)
            ? AnomalySignals.Detect(project, release, facts.Where(f => f.Key != version).Select(f => f.Value).ToList())
            : [];

    /// <summary>Every recorded release of a project as <see cref="ReleaseFacts"/>, by normalized version.</summary>
    public static Dictionary<string, ReleaseFacts> FactsOf(IEnumerable<UpstreamFile> files, IReadOnlyDictionary<string, SeenRelease> releases)
    {
        var byVersion = new Dictionary<string, List<ReleaseFileFacts>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (ReleaseVettings.NormalizeVersion(file.Version) is not { } version)
            {
                continue;
            }

            if (!byVersion.TryGetValue(version, out var list))
            {
                byVersion[version] = list = [];
            }

            var uploaded = ReleaseObserver.ParseUploadTime(file.UploadTime);
            list.Add(new ReleaseFileFacts(file.Filename, file.Sha256, file.Size, uploaded is null ? null : new DateTimeOffset(uploaded.Value, TimeSpan.Zero), file.FirstSeenAt));
        }

        var facts = new Dictionary<string, ReleaseFacts>(StringComparer.Ordinal);
        foreach (var (version, release) in releases)
        {
            var roster = release.Roster?.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            facts[version] = new ReleaseFacts(version, byVersion.GetValueOrDefault(version) ?? [], release.FirstSeenAt, roster);
        }

        return facts;
    }
}

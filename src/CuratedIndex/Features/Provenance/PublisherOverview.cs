using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Releases;
using CuratedIndex.Protocol;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Provenance;

/// <summary>A publisher seen in a project's verified provenance: the first release it appeared in, and whether it is vetted now.</summary>
public sealed record SeenPublisher(string Publisher, string Kind, string FirstRelease, IReadOnlyList<string> Releases, bool Vetted);

/// <summary>One release's provenance at a glance: its files' states and the publishers they prove.</summary>
public sealed record ReleaseAttestation(string Version, int Verified, int Failed, int None, int Pending, IReadOnlyList<string> Publishers, IReadOnlyList<string> Failures)
{
    /// <summary>No file of the release carries provenance (every checked file has none).</summary>
    public bool Unattested => Verified == 0 && Failed == 0 && None > 0;
}

/// <summary>What the project page and <c>GET …/publishers</c> show: vetted publishers, publishers seen per release, unattested releases.</summary>
public sealed record PublisherOverview(string Project, IReadOnlyList<PublisherGrant> Vetted, IReadOnlyList<SeenPublisher> Seen, IReadOnlyList<ReleaseAttestation> Releases)
{
    public static async Task<PublisherOverview> LoadAsync(CuratedIndexDbContext db, Curation curation, string project, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var rows = await db.FileProvenances.AsNoTracking().Where(p => p.Project == project).ToListAsync(cancellationToken);
        var files = await db.UpstreamFiles.AsNoTracking().Where(f => f.Project == project && f.RemovedAt == null).ToListAsync(cancellationToken);
        return Build(project, curation.VettedPublishers(project), rows, files, now);
    }

    /// <summary>Pure: the overview from the stored results and recorded files, newest release first.</summary>
    public static PublisherOverview Build(string project, IReadOnlyList<PublisherGrant> vetted, IReadOnlyList<FileProvenance> rows, IReadOnlyList<UpstreamFile> files, DateTimeOffset now)
    {
        var releases = ProvenanceHistory.ReleasesOf(rows, files)
            .Select(r => (Version: Pep440Version.TryParse(r.Key, out var parsed) ? parsed : null, Release: r.Value))
            .Where(r => r.Version is not null)
            .OrderBy(r => r.Version)
            .ToList();
        var seen = new Dictionary<string, (PublisherIdentity Identity, string First, List<string> Releases)>(StringComparer.Ordinal);
        foreach (var (_, release) in releases)
        {
            foreach (var identity in release.Files.SelectMany(f => f.Publishers).Distinct())
            {
                if (!seen.TryGetValue(identity.Canonical, out var entry))
                {
                    seen[identity.Canonical] = entry = (identity, release.Version, []);
                }

                entry.Releases.Add(release.Version);
            }
        }

        var attestations = releases.AsEnumerable().Reverse().Select(r => new ReleaseAttestation(
            r.Release.Version,
            r.Release.Files.Count(f => f.State == ProvenanceState.Verified),
            r.Release.Files.Count(f => f.State == ProvenanceState.Failed),
            r.Release.Files.Count(f => f.State == ProvenanceState.None),
            r.Release.Files.Count(f => f.State == ProvenanceState.Pending),
            r.Release.Files.SelectMany(f => f.Publishers).Select(p => p.Canonical).Distinct(StringComparer.Ordinal).ToList(),
            r.Release.Files.Where(f => f.State == ProvenanceState.Failed).Select(f => $"{f.Filename}: {f.Failure}").ToList())).ToList();
        return new PublisherOverview(
            project,
            vetted,
            seen.Values
                .Select(s => new SeenPublisher(s.Identity.Canonical, s.Identity.Kind.ToString(), s.First, s.Releases, vetted.Any(g => g.Publisher.Matches(s.Identity, now))))
                .ToList(),
            attestations);
    }
}

using CuratedIndex.Features.Provenance;

namespace CuratedIndex.Features.Releases;

/// <summary>What CuratedIndex knows about one file's PEP 740 provenance.</summary>
public enum ProvenanceState
{
    /// <summary>Every attestation verified; the file's publishers are known.</summary>
    Verified,

    /// <summary>Upstream offered provenance and it did not verify.</summary>
    Failed,

    /// <summary>Upstream offers no provenance for the file.</summary>
    None,

    /// <summary>Not checked yet (or could not be fetched): not known, so never a signal.</summary>
    Pending,
}

/// <param name="Publishers">The distinct publishers the verified attestations prove; empty unless <see cref="ProvenanceState.Verified"/>.</param>
/// <param name="Failure">Why verification failed, for <see cref="ProvenanceState.Failed"/>.</param>
public sealed record FileProvenanceFacts(string Filename, ProvenanceState State, IReadOnlyList<PublisherIdentity> Publishers, string? Failure);

/// <summary>The provenance of every file of one release, as CuratedIndex verified it.</summary>
public sealed record ReleaseProvenance(string Version, IReadOnlyList<FileProvenanceFacts> Files);

/// <summary>
/// The provenance signals of a release (issue 11 §5), computed from what CuratedIndex verified itself, never from what
/// upstream says about provenance. Pure; at most one signal per kind, in the order of <see cref="AnomalySignalKind.All"/>;
/// each evidence is one line naming the files, identities and versions. Pending files raise nothing (not known yet):
/// compute again once they are checked.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>provenance-regression</c> compares only with the previous vetted release: when every checked file of it
/// verified, any file of this release without provenance is a regression; when only some did (a project that attests
/// its sdist but builds wheels elsewhere), it is a regression only when no file of this release offers provenance at
/// all, so such a project does not raise the signal on every release.</item>
/// <item><c>publisher-changed</c> and <c>publisher-kind-changed</c> compare this release's verified publishers with
/// those of "the previous release": <c>previous</c> (the nearest lower version) when it has a verified file, else the
/// previous vetted release when that has one, else nothing. So a release without provenance in between neither hides
/// a change nor raises one itself (that is the regression's job). A publisher is changed when its kind appears before
/// but no earlier publisher of that kind is the same one (<see cref="VettedPublisher.SamePublisher"/>: another
/// repository, workflow or environment); a kind that did not appear before is a kind change instead.</item>
/// <item><c>provenance-failed</c>: any file whose provenance failed verification, with the reason.</item>
/// </list>
/// </remarks>
public static class ProvenanceSignals
{
    /// <summary>The kinds computed from verified provenance (by ProvenanceChecks), not from the recorded files.</summary>
    public static readonly IReadOnlyList<string> Kinds =
        [AnomalySignalKind.ProvenanceRegression, AnomalySignalKind.PublisherChanged, AnomalySignalKind.PublisherKindChanged, AnomalySignalKind.ProvenanceFailed];

    public static bool IsProvenanceKind(string kind) => Kinds.Contains(kind);

    // Files named at most this many per evidence line; failure reasons cut at this length.
    private const int MaxNamedFiles = 5;
    private const int MaxReasonLength = 200;

    /// <param name="release">The release to look at.</param>
    /// <param name="previousVetted">The newest vetted release with a lower version, or null.</param>
    /// <param name="previous">The release with the nearest lower version, or null.</param>
    public static IReadOnlyList<AnomalySignal> Detect(ReleaseProvenance release, ReleaseProvenance? previousVetted, ReleaseProvenance? previous)
    {
        previousVetted = previousVetted?.Version == release.Version ? null : previousVetted;
        previous = previous?.Version == release.Version ? null : previous;
        var reference = HasVerified(previous) ? previous : HasVerified(previousVetted) ? previousVetted : null;

        var signals = new List<AnomalySignal?>
        {
            previousVetted is null ? null : Regression(release, previousVetted),
            reference is null ? null : PublisherChanged(release, reference),
            reference is null ? null : PublisherKindChanged(release, reference),
            Failed(release),
        };
        // Identities and reasons come from certificates and the verifier: keep each evidence on one line whatever they hold.
        return signals.OfType<AnomalySignal>().Select(s => s with { Evidence = OneLine(s.Evidence) }).ToList();
    }

    private static AnomalySignal? Regression(ReleaseProvenance release, ReleaseProvenance previousVetted)
    {
        var checkedBefore = previousVetted.Files.Where(f => f.State != ProvenanceState.Pending).ToList();
        var verifiedBefore = checkedBefore.Count(f => f.State == ProvenanceState.Verified);
        var without = release.Files.Where(f => f.State == ProvenanceState.None).Select(f => f.Filename).ToList();
        if (verifiedBefore == 0 || without.Count == 0)
        {
            return null;
        }

        if (verifiedBefore == checkedBefore.Count)
        {
            return new AnomalySignal(
                AnomalySignalKind.ProvenanceRegression,
                $"{without.Count} of {release.Files.Count} files of {release.Version} have no provenance ({Names(without)}), "
                + $"where every file of {previousVetted.Version}, the previous vetted release, had verified provenance ({verifiedBefore} file{(verifiedBefore == 1 ? "" : "s")}).");
        }

        // Partly attested before: only losing provenance on every file is a regression (pending files may still have it).
        if (release.Files.Any(f => f.State != ProvenanceState.None))
        {
            return null;
        }

        return new AnomalySignal(
            AnomalySignalKind.ProvenanceRegression,
            $"No file of {release.Version} has provenance ({Names(without)}), where {verifiedBefore} of {checkedBefore.Count} files "
            + $"of {previousVetted.Version}, the previous vetted release, had verified provenance.");
    }

    private static AnomalySignal? PublisherChanged(ReleaseProvenance release, ReleaseProvenance reference)
    {
        var before = Publishers(reference);
        var changed = Publishers(release)
            .Where(p => before.Any(b => b.Identity.Kind == p.Identity.Kind) && !before.Any(b => VettedPublisher.SamePublisher(b.Identity, p.Identity)))
            .ToList();
        if (changed.Count == 0)
        {
            return null;
        }

        var parts = changed.Select(p =>
        {
            var sameKind = before.Where(b => b.Identity.Kind == p.Identity.Kind).Select(b => b.Identity).ToList();
            var sameRepository = sameKind.Where(b => string.Equals(b.Repository, p.Identity.Repository, StringComparison.OrdinalIgnoreCase)).ToList();
            var closest = sameRepository.FirstOrDefault(b => string.Equals(b.Workflow, p.Identity.Workflow, StringComparison.Ordinal))
                ?? sameRepository.FirstOrDefault()
                ?? sameKind[0];
            return $"{Names(p.Files)} published by {p.Identity.Canonical} ({Difference(closest, p.Identity)})";
        });
        var earlier = before.Where(b => changed.Any(c => c.Identity.Kind == b.Identity.Kind)).Select(b => b.Identity.Canonical);
        return new AnomalySignal(
            AnomalySignalKind.PublisherChanged,
            $"{release.Version}: {string.Join("; ", parts)}, where {reference.Version} was published by {string.Join(", ", earlier)}.");
    }

    private static AnomalySignal? PublisherKindChanged(ReleaseProvenance release, ReleaseProvenance reference)
    {
        var before = Publishers(reference);
        var kindsBefore = before.Select(b => b.Identity.Kind).Distinct().Order().ToList();
        var newKind = Publishers(release).Where(p => !kindsBefore.Contains(p.Identity.Kind)).ToList();
        if (newKind.Count == 0)
        {
            return null;
        }

        var parts = newKind.Select(p => $"{Names(p.Files)} published through {p.Identity.Kind} by {p.Identity.Canonical}");
        return new AnomalySignal(
            AnomalySignalKind.PublisherKindChanged,
            $"{release.Version}: {string.Join("; ", parts)}, where {reference.Version} was published through "
            + $"{string.Join(" and ", kindsBefore)} only ({string.Join(", ", before.Select(b => b.Identity.Canonical))}).");
    }

    private static AnomalySignal? Failed(ReleaseProvenance release)
    {
        var failed = release.Files.Where(f => f.State == ProvenanceState.Failed).ToList();
        if (failed.Count == 0)
        {
            return null;
        }

        var named = failed.Take(MaxNamedFiles).Select(f => $"{f.Filename}: {Reason(f.Failure)}");
        var more = failed.Count > MaxNamedFiles ? $"; and {failed.Count - MaxNamedFiles} more" : "";
        return new AnomalySignal(
            AnomalySignalKind.ProvenanceFailed,
            $"{failed.Count} of {release.Files.Count} files of {release.Version} failed provenance verification: {string.Join("; ", named)}{more}.");
    }

    private static bool HasVerified(ReleaseProvenance? release) =>
        release is not null && release.Files.Any(f => f.State == ProvenanceState.Verified && f.Publishers.Count > 0);

    /// <summary>The distinct verified publishers of a release (by <see cref="VettedPublisher.SamePublisher"/>), each with its files, in file order.</summary>
    private static List<(PublisherIdentity Identity, List<string> Files)> Publishers(ReleaseProvenance release)
    {
        var publishers = new List<(PublisherIdentity Identity, List<string> Files)>();
        foreach (var file in release.Files.Where(f => f.State == ProvenanceState.Verified))
        {
            foreach (var identity in file.Publishers)
            {
                var known = publishers.FindIndex(p => VettedPublisher.SamePublisher(p.Identity, identity));
                if (known < 0)
                {
                    publishers.Add((identity, [file.Filename]));
                }
                else if (!publishers[known].Files.Contains(file.Filename))
                {
                    publishers[known].Files.Add(file.Filename);
                }
            }
        }

        return publishers;
    }

    /// <summary>What differs between two publishers of one kind: the repository, else the workflow, else the environment.</summary>
    private static string Difference(PublisherIdentity before, PublisherIdentity now)
    {
        if (!string.Equals(before.Repository, now.Repository, StringComparison.OrdinalIgnoreCase))
        {
            return now.Kind == PublisherKind.Google
                ? $"another service account, was {before.Repository}"
                : $"another repository, was {before.Repository}";
        }

        if (!string.Equals(before.Workflow, now.Workflow, StringComparison.Ordinal))
        {
            return $"another workflow, was {before.Workflow}";
        }

        return $"another environment: {Environment(now)}, was {Environment(before)}";
    }

    private static string Environment(PublisherIdentity identity) =>
        string.IsNullOrEmpty(identity.Environment) ? "none" : identity.Environment;

    private static string Reason(string? failure)
    {
        if (string.IsNullOrWhiteSpace(failure))
        {
            return "no reason recorded";
        }

        var line = OneLine(failure);
        return line.Length > MaxReasonLength ? line[..MaxReasonLength] + "…" : line;
    }

    private static string OneLine(string text) =>
        string.Join(' ', string.Concat(text.Select(c => char.IsControl(c) ? ' ' : c)).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string Names(List<string> names) =>
        names.Count <= MaxNamedFiles
            ? string.Join(", ", names)
            : $"{string.Join(", ", names.Take(MaxNamedFiles))} and {names.Count - MaxNamedFiles} more";
}

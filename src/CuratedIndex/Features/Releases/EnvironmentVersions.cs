using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Features.Releases;

/// <summary>One file of a version as an environment sees it: served or not, and why, from the decision function.</summary>
public sealed record EnvironmentFile(string Filename, string? Sha256, long? Size, bool Yanked, bool Served, string Rule, string Reason);

/// <summary>
/// One version as an environment sees it. <see cref="Visible"/> means an installer can get it: the release is shown and at
/// least one of its files is served. <see cref="Rule"/> and <see cref="Reason"/> say why not when it is hidden.
/// </summary>
public sealed record EnvironmentVersion(string Version, bool Visible, string Rule, string Reason, IReadOnlyList<EnvironmentFile> Files);

/// <summary>
/// Every version of a project upstream lists (and, in tier 3, the pinned ones upstream dropped), decided for one environment
/// the way the simple page decides them: what <c>curated-index check</c> compares a lock file with. Pure.
/// </summary>
public static class EnvironmentVersions
{
    /// <summary>Newest first; files whose names name no PEP 440 version of this project are left out (no version holds them).</summary>
    public static IReadOnlyList<EnvironmentVersion> Decide(EnvironmentPolicy environment, Curation curation, DecisionSignals signals, ProjectPage page)
    {
        var facts = new UpstreamFacts(page.Status?.Status);
        var served = SimplePageRenderer.Filter(environment, curation, signals, page).Files
            .ToDictionary(f => f.Filename, StringComparer.Ordinal);
        var files = page.Files.ToList();
        var listed = page.Files.Select(f => f.Filename).ToHashSet(StringComparer.Ordinal);
        // Pinned files upstream no longer lists are served from the store: they belong to their version too.
        files.AddRange(served.Values.Where(f => !listed.Contains(f.Filename)));

        var byVersion = new Dictionary<string, List<DistributionFile>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            if (ReleaseVettings.NormalizeVersion(SimplePageRenderer.VersionOf(page.Name, file.Filename)) is not { } version)
            {
                continue;
            }

            if (!byVersion.TryGetValue(version, out var list))
            {
                byVersion[version] = list = [];
            }

            list.Add(file);
        }

        var versions = new List<EnvironmentVersion>(byVersion.Count);
        foreach (var (version, list) in byVersion.OrderByDescending(v => Pep440Version.Parse(v.Key)))
        {
            var release = curation.Decide(environment, new DecisionSubject(page.Name, version), facts, signals);
            var views = list.OrderBy(f => f.Filename, StringComparer.Ordinal).Select(f =>
            {
                var decision = curation.Decide(environment, new DecisionSubject(page.Name, version, f.Filename), facts.ForListedFile(f.Sha256), signals);
                var isServed = served.ContainsKey(f.Filename);
                return new EnvironmentFile(f.Filename, f.Sha256, f.Size, f.IsYanked, isServed, ExplainApi.RuleName(decision.Rule), decision.Reason);
            }).ToList();
            var visible = release.Visible && views.Any(f => f.Served);
            // A shown release with no file served says why through its first hidden file.
            var why = !release.Visible || visible ? release : null;
            var firstHidden = views.FirstOrDefault(f => !f.Served);
            versions.Add(new EnvironmentVersion(
                version,
                visible,
                why is null ? firstHidden?.Rule ?? ExplainApi.RuleName(release.Rule) : ExplainApi.RuleName(why.Rule),
                why is null ? firstHidden?.Reason ?? release.Reason : why.Reason,
                views));
        }

        return versions;
    }
}

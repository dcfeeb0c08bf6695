using System.Globalization;
using CuratedIndex.Features.Releases;

namespace CuratedIndex.Tests.Features.Releases;

/// <summary>
/// Real pypi.org release histories (Fixtures/releases, see its MANIFEST.md) as CuratedIndex would have seen them
/// watching upstream live: each file first seen at its upload time, each release when its first file was uploaded.
/// </summary>
internal static class ReleaseHistory
{
    /// <summary>The project's releases that have files, oldest first upload first.</summary>
    public static List<ReleaseFacts> Load(string project) =>
        File.ReadLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "releases", project + ".tsv"))
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.Split('\t'))
            .GroupBy(fields => fields[0], StringComparer.Ordinal)
            .Select(group =>
            {
                var files = group
                    .Select(f =>
                    {
                        var uploaded = DateTimeOffset.Parse(f[3], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
                        return new ReleaseFileFacts(f[1], null, long.Parse(f[2], CultureInfo.InvariantCulture), uploaded, uploaded.UtcDateTime);
                    })
                    .ToList();
                return new ReleaseFacts(group.Key, files, files.Min(f => f.FirstSeenAt));
            })
            .OrderBy(r => r.FirstSeenAt)
            .ToList();

    /// <summary>Each release of <paramref name="history"/> with the releases first seen before it.</summary>
    public static IEnumerable<(ReleaseFacts Release, List<ReleaseFacts> Earlier)> Replay(List<ReleaseFacts> history) =>
        history.Select(release => (release, history.Where(e => e.FirstSeenAt < release.FirstSeenAt).ToList()));

    /// <summary>Every signal raised over the history, as "version kind: evidence" lines.</summary>
    public static List<string> SignalsOver(string project, List<ReleaseFacts> history) =>
        Replay(history)
            .SelectMany(step => AnomalySignals.Detect(project, step.Release, step.Earlier).Select(s => $"{step.Release.Version} {s.Kind}: {s.Evidence}"))
            .ToList();

    public static ReleaseFacts Release(List<ReleaseFacts> history, string version) => history.Single(r => r.Version == version);

    public static List<ReleaseFacts> Before(List<ReleaseFacts> history, string version)
    {
        var release = Release(history, version);
        return history.Where(e => e.FirstSeenAt < release.FirstSeenAt).ToList();
    }
}

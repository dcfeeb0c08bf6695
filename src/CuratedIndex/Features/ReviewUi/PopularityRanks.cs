using System.Collections.Frozen;
using System.Globalization;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>
/// Popularity ranks from the top-PyPI corpus (<c>config/top-pypi-projects.tsv</c>: a <c>rank\tname</c> header, then
/// one project per line, most downloaded first). Read once, on first use, so startup and the index never pay for it.
/// </summary>
public sealed class PopularityRanks(IHostEnvironment environment)
{
    public const string FileName = "top-pypi-projects.tsv";

    private readonly Lazy<FrozenDictionary<string, int>> _ranks = new(() => Load(Locate(environment)));

    /// <summary>How many projects the corpus ranks (0 when the file is missing).</summary>
    public int Count => _ranks.Value.Count;

    /// <summary>The project's rank (1 is the most downloaded), or null when it is not in the corpus.</summary>
    public int? RankOf(string normalizedProject) => _ranks.Value.TryGetValue(normalizedProject, out var rank) ? rank : null;

    // The content root's config/ wins (an operator's newer copy); the copy shipped next to the executable is the fallback.
    private static string? Locate(IHostEnvironment environment) =>
        new[] { Path.Combine(environment.ContentRootPath, "config", FileName), Path.Combine(AppContext.BaseDirectory, "config", FileName) }
            .FirstOrDefault(File.Exists);

    internal static FrozenDictionary<string, int> Load(string? path)
    {
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        if (path is null)
        {
            return ranks.ToFrozenDictionary(StringComparer.Ordinal);
        }

        foreach (var line in File.ReadLines(path))
        {
            var tab = line.IndexOf('\t', StringComparison.Ordinal);
            if (tab <= 0 || !int.TryParse(line.AsSpan(0, tab), NumberStyles.None, CultureInfo.InvariantCulture, out var rank))
            {
                continue; // the header, or a line that is not "rank<TAB>name"
            }

            var name = line[(tab + 1)..].Trim();
            if (ProjectName.IsValid(name))
            {
                ranks.TryAdd(ProjectName.Normalize(name), rank);
            }
        }

        return ranks.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

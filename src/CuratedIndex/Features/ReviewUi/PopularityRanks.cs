using System.Collections.Frozen;
using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>
/// Popularity ranks from the typosquat corpus (<c>Typosquat:CorpusPath</c>, the one list the detector uses too). Read on
/// first use, so startup and the index never pay for it; a corpus that cannot be loaded gives no ranks, not an error page.
/// </summary>
public sealed class PopularityRanks(IServiceProvider services)
{
    private readonly Lazy<FrozenDictionary<string, int>> _ranks = new(() => Load(services));

    /// <summary>How many projects the corpus ranks (0 when it is missing).</summary>
    public int Count => _ranks.Value.Count;

    /// <summary>The project's rank (1 is the most downloaded), or null when it is not in the corpus.</summary>
    public int? RankOf(string normalizedProject) => _ranks.Value.TryGetValue(normalizedProject, out var rank) ? rank : null;

    private static FrozenDictionary<string, int> Load(IServiceProvider services)
    {
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            foreach (var project in services.GetRequiredService<TyposquatCorpus>().Projects)
            {
                ranks.TryAdd(project.Name, project.Rank);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or FormatException or InvalidOperationException)
        {
            // TyposquatScreening logs the failure; the evidence page says the project has no rank.
        }

        return ranks.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

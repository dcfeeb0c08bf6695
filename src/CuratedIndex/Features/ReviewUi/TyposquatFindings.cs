using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Typosquat;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>
/// One reason to suspect a project imitates another (e.g. an edit distance of 1 to a popular name). <see cref="Copied"/>
/// says what the project's upstream metadata shares with the imitated project's (its summary, its repository link).
/// </summary>
public sealed record TyposquatFinding(string SimilarTo, string Kind, string Detail, IReadOnlyList<string>? Copied = null, bool SimilarToInternal = false)
{
    public IReadOnlyList<string> CopiedFromImitated => Copied ?? [];
}

/// <summary>
/// The typosquat findings the project page shows: the detector's, against the popular corpus and the organization's
/// names in force now, one per imitated project, most suspicious first.
/// </summary>
public sealed class TyposquatFindings(CurationStore curations, TyposquatScreening screening)
{
    public IReadOnlyList<TyposquatFinding> ForProject(string normalizedProject)
    {
        var curation = curations.Current;
        return screening.CheckAll(curation, normalizedProject)
            .Select(f => new TyposquatFinding(
                f.Imitated,
                TyposquatScreening.KindName(f.Kind),
                $"score {f.Score.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)}: {string.Join("; ", f.Reasons)}",
                SimilarToInternal: DecisionFunction.IsInternal(curation.Policy, f.Imitated)))
            .ToList();
    }
}

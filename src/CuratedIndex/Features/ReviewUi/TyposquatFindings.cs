namespace CuratedIndex.Features.ReviewUi;

/// <summary>One reason to suspect a project imitates another (e.g. an edit distance of 1 to a popular name).</summary>
public sealed record TyposquatFinding(string SimilarTo, string Kind, string Detail);

/// <summary>
/// The seam where typosquat detection (issue 4) plugs into the project page. Until it lands there are no findings,
/// and the page says so.
/// </summary>
public sealed class TyposquatFindings
{
    public Task<IReadOnlyList<TyposquatFinding>> ForProjectAsync(string normalizedProject, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<TyposquatFinding>>([]);
}

using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;
using CuratedIndex.Protocol;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Pages;

/// <summary>The release queue: releases of approved projects seen here, pending ones first by demand.</summary>
internal sealed class ReleasesModel(CuratedIndexDbContext db, CurationStore curations) : PageModel
{
    public const int PageSize = 100;
    public static readonly IReadOnlyList<string> Statuses = [ReleaseStatus.Pending, ReleaseStatus.Vetted, ReleaseStatus.Rejected, ReleaseStatus.All];

    [BindProperty(SupportsGet = true, Name = "status")]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "project")]
    public string? Project { get; set; }

    public int Total { get; private set; }

    public IReadOnlyList<ReleaseQueueItem> Items { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        Status = ReleaseStatus.IsKnown(Status) ? Status! : ReleaseStatus.Pending;
        if (string.IsNullOrEmpty(Project))
        {
            Project = null;
        }
        else if (ReviewApi.ProjectProblem(Project) is { } problem)
        {
            return new ContentResult { StatusCode = StatusCodes.Status400BadRequest, ContentType = "text/plain; charset=utf-8", Content = problem + "\n" };
        }

        (Total, Items) = await ReleaseQueries.ListAsync(db, curations.Current, Status!, Project is null ? null : ProjectName.Normalize(Project), 0, PageSize, cancellationToken);
        return Page();
    }
}

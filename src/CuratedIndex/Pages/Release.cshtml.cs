using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.ReviewUi;
using CuratedIndex.Protocol;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Pages;

/// <summary>One release for tier 3: its files, signals, the diff against the last vetted release, and vet or reject.</summary>
internal sealed class ReleaseModel(
    ReleaseReview review,
    ReleaseVetting vetting,
    ReleaseArchives archives,
    ClosureReview closureReview,
    IAuthorizationService authorization) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Name { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public string Version { get; set; } = "";

    [BindProperty(SupportsGet = true, Name = "decided")]
    public string? Decided { get; set; }

    [BindProperty]
    public string? Action { get; set; }

    [BindProperty]
    public string? Criteria { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    [BindProperty]
    public bool BreakGlass { get; set; }

    /// <summary>The files the page showed, as "filename sha256": a vetting pins exactly these, never a file added since.</summary>
    [BindProperty]
    public List<string> Shown { get; set; } = [];

    public ReleaseDetails Release { get; private set; } = null!;

    public ReleaseVerdict? Baseline { get; private set; }

    /// <summary>The diff against <see cref="Baseline"/>; null when upstream has no files of this release to read.</summary>
    public ReleaseDiffView? Changes { get; private set; }

    public bool CanDecide { get; private set; }

    public bool IsAdmin { get; private set; }

    public string? Problem { get; private set; }

    /// <summary>The environment the Dependencies section shows (<c>?env=</c>; default: the first of tier 2 or 3).</summary>
    [BindProperty(SupportsGet = true, Name = "env")]
    public string? ClosureEnvironment { get; set; }

    /// <summary>The extras of the Dependencies section's root (<c>?extras=a,b</c>), as <c>pip install project[a,b]</c>.</summary>
    [BindProperty(SupportsGet = true, Name = "extras")]
    public string? ClosureExtras { get; set; }

    [BindProperty]
    public string? DependenciesReason { get; set; }

    [BindProperty]
    public string? DependenciesCriteria { get; set; }

    [BindProperty]
    public bool DependenciesBreakGlass { get; set; }

    /// <summary>The closure of this release, with statuses in the chosen environment.</summary>
    public ClosureSection Closure { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (Refusal() is { } refusal)
        {
            return refusal;
        }

        if (!ProjectName.IsNormalized(Name) || ReleaseVettings.NormalizeVersion(Version) != Version)
        {
            return RedirectToPage(new { name = ProjectName.Normalize(Name), version = ReleaseVettings.NormalizeVersion(Version) });
        }

        await LoadAsync(cancellationToken);
        if (Release.Unknown)
        {
            return NotFound();
        }

        if (Closure.EnvironmentProblem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest; // the page still shows, with the first reviewed environment
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (await OpenPostAsync() is { } refused)
        {
            return refused;
        }

        Problem = Action is "vet" or "reject" ? ReviewApi.ReasonProblem(Reason) : "choose vet or reject";
        Problem ??= Action == "vet" && !VettingCriteria.IsKnown(Criteria) ? $"choose {VettingCriteria.SafeToDeploy} or {VettingCriteria.SafeToRun}" : null;
        if (Problem is null)
        {
            var admin = (await authorization.AuthorizeAsync(User, AccessPolicies.UiAdminister)).Succeeded;
            var shown = Shown.Select(s => s.Split(' ', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            var outcome = Action == "vet"
                ? await vetting.VetAsync(
                    new VetRequest(Name, Version, Criteria!, Reason!.Trim(), User.Identity!.Name!, VettingHow.Reviewer, shown.Keys, shown, BreakGlass: BreakGlass, MayBreakGlass: admin),
                    cancellationToken)
                : await vetting.RejectAsync(Name, Version, Reason!.Trim(), User.Identity!.Name!, cancellationToken);
            if (outcome.Status == VetStatus.Vetted)
            {
                return RedirectToPage(new { name = Name, version = Version, decided = Action == "vet" ? ReleaseVerdictText.Vetted : ReleaseVerdictText.Rejected });
            }

            Problem = outcome.Message;
            Response.StatusCode = outcome.Status == VetStatus.NotNow ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest;
        }
        else
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    /// <summary>"Approve with dependencies" (tier 2) or "Vet with dependencies" (tier 3) of this release's closure, for the chosen environment.</summary>
    public async Task<IActionResult> OnPostDependenciesAsync(CancellationToken cancellationToken)
    {
        if (await OpenPostAsync() is { } refused)
        {
            return refused;
        }

        var admin = (await authorization.AuthorizeAsync(User, AccessPolicies.UiAdminister)).Succeeded;
        var form = new ClosureForm(ClosureEnvironment, Version, ClosureExtras, DependenciesReason, DependenciesCriteria, DependenciesBreakGlass);
        var (outcome, formProblem, status) = await closureReview.DecideAsync(Name, form, User, admin, cancellationToken);
        Response.StatusCode = status;
        await LoadAsync(cancellationToken);
        // Rendered rather than redirected: the outcome names each member decided (or each blocker), which a redirect would lose.
        Closure = Closure with { Outcome = outcome, FormProblem = formProblem, Reason = status == StatusCodes.Status200OK ? null : DependenciesReason };
        return Page();
    }

    // Both forms open alike: the reviewer role, a valid name and version, then both normalized. Null when the post may go on.
    private async Task<IActionResult?> OpenPostAsync()
    {
        if (await this.RequireReviewerAsync(authorization) is { } forbidden)
        {
            return forbidden;
        }

        if (Refusal() is { } refusal)
        {
            return refusal;
        }

        Name = ProjectName.Normalize(Name);
        Version = ReleaseVettings.NormalizeVersion(Version)!;
        return null;
    }

    private ContentResult? Refusal()
    {
        var problem = ReviewApi.ProjectProblem(Name) ?? ReleasesApi.VersionProblem(Version);
        return problem is null ? null : new ContentResult { StatusCode = StatusCodes.Status400BadRequest, ContentType = "text/plain; charset=utf-8", Content = problem + "\n" };
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        CanDecide = (await authorization.AuthorizeAsync(User, AccessPolicies.UiReview)).Succeeded;
        IsAdmin = (await authorization.AuthorizeAsync(User, AccessPolicies.UiAdminister)).Succeeded;
        Release = await review.LoadAsync(Name, Version, cancellationToken);
        Baseline = review.LastVettedBefore(Name, Version);
        Changes = Release.Files.Count == 0 ? null : await archives.DiffAsync(Name, Version, Baseline, cancellationToken);
        Closure = await closureReview.LoadAsync(Name, Version, ClosureEnvironment, ClosureExtras, CanDecide, IsAdmin, cancellationToken);
    }
}

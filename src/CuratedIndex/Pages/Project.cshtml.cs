using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.ReviewUi;
using CuratedIndex.Protocol;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Pages;

/// <summary>One environment's answer for the project, from the decision function itself.</summary>
public sealed record EnvironmentAnswer(string Environment, int Tier, bool Visible, string Rule, string Reason);

/// <summary>
/// A project's evidence, its review (requesters, decision history), what each environment shows, the decision form, and
/// its publishers: vetted ones (vet and remove forms), those seen in verified provenance, unattested and failed releases.
/// </summary>
internal sealed class ProjectModel(
    CuratedIndexDbContext db,
    EvidenceReader evidence,
    CurationStore curations,
    ReviewQueue queue,
    PublisherVetting publisherVetting,
    TimeProvider clock,
    ClosureReview closureReview,
    IAuthorizationService authorization) : PageModel
{
    /// <summary>What the publisher forms report after a redirect: only these words, never text from the query.</summary>
    public static readonly IReadOnlyDictionary<string, string> PublisherDoneText = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["vetted"] = "Publisher vetted.",
        ["removed"] = "Publisher removed.",
    };

    [BindProperty(SupportsGet = true)]
    public string Name { get; set; } = "";

    [BindProperty(SupportsGet = true, Name = "decided")]
    public string? Decided { get; set; }

    [BindProperty]
    public string? Verdict { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public ProjectEvidence Evidence { get; private set; } = null!;

    public ReviewDetail Review { get; private set; } = null!;

    public IReadOnlyList<EnvironmentAnswer> Answers { get; private set; } = [];

    public string? PolicyNote { get; private set; }

    public bool CanDecide { get; private set; }

    public string? Problem { get; private set; }

    [BindProperty(SupportsGet = true, Name = "publishers")]
    public string? PublisherDone { get; set; }

    /// <summary>The publisher entry of the vet and remove forms, e.g. github:owner/repo/.github/workflows/release.yml.</summary>
    [BindProperty]
    public string? Publisher { get; set; }

    /// <summary>yyyy-mm-dd, optional.</summary>
    [BindProperty]
    public string? PublisherFrom { get; set; }

    /// <summary>yyyy-mm-dd, optional.</summary>
    [BindProperty]
    public string? PublisherUntil { get; set; }

    [BindProperty]
    public string? PublisherReason { get; set; }

    public PublisherOverview Publishers { get; private set; } = null!;

    /// <summary>The environment the Dependencies section shows (<c>?env=</c>; default: the first of tier 2 or 3).</summary>
    [BindProperty(SupportsGet = true, Name = "env")]
    public string? ClosureEnvironment { get; set; }

    /// <summary>The extras of the Dependencies section's root (<c>?extras=a,b</c>), as <c>pip install project[a,b]</c>.</summary>
    [BindProperty(SupportsGet = true, Name = "extras")]
    public string? ClosureExtras { get; set; }

    /// <summary>The version the Dependencies section showed: "with dependencies" decides the closure the reviewer read, not a newer one.</summary>
    [BindProperty]
    public string? DependenciesVersion { get; set; }

    [BindProperty]
    public string? DependenciesReason { get; set; }

    [BindProperty]
    public string? DependenciesCriteria { get; set; }

    [BindProperty]
    public bool DependenciesBreakGlass { get; set; }

    public ClosureSection Closure { get; private set; } = null!;

    /// <summary>Why the last publisher form was refused (shown in the Publishers section).</summary>
    public string? PublisherProblem { get; private set; }

    /// <summary>True when the vet form was refused: it is shown again with what was typed.</summary>
    public bool VetRefused { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (ReviewApi.ProjectProblem(Name) is { } problem)
        {
            return InvalidName(problem);
        }

        if (!ProjectName.IsNormalized(Name))
        {
            return RedirectToPage(new { name = ProjectName.Normalize(Name) });
        }

        await LoadAsync(cancellationToken);
        if (Closure.EnvironmentProblem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest; // the page still shows, with the first reviewed environment
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (await this.RequireReviewerAsync(authorization) is { } refusal)
        {
            return refusal;
        }

        if (ReviewApi.ProjectProblem(Name) is { } problem)
        {
            return InvalidName(problem);
        }

        Name = ProjectName.Normalize(Name);
        Problem = UiDecisions.TryParseVerdict(Verdict, out var verdict) ? ReviewApi.ReasonProblem(Reason) : "choose approve, deny or defer";
        if (Problem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadAsync(cancellationToken);
            return Page();
        }

        await queue.DecideAsync([Name], verdict, Reason!.Trim(), User.Identity!.Name!, cancellationToken);
        return RedirectToPage(new { name = Name, decided = VerdictText.Of(verdict) });
    }

    public async Task<IActionResult> OnPostVetPublisherAsync(CancellationToken cancellationToken)
    {
        if (await this.RequireReviewerAsync(authorization) is { } refusal)
        {
            return refusal;
        }

        if (ReviewApi.ProjectProblem(Name) is { } problem)
        {
            return InvalidName(problem);
        }

        Name = ProjectName.Normalize(Name);
        VetRefused = true;
        var (from, fromProblem) = ParseDate("from", PublisherFrom);
        var (until, untilProblem) = ParseDate("until", PublisherUntil);
        PublisherProblem = PublishersApi.PublisherProblem(Publisher) ?? fromProblem ?? untilProblem ?? ReviewApi.ReasonProblem(PublisherReason);
        if (PublisherProblem is not null)
        {
            return await RefusedAsync(StatusCodes.Status400BadRequest, cancellationToken);
        }

        var outcome = await publisherVetting.VetAsync(Name, Publisher!.Trim(), from, until, PublisherReason!.Trim(), User.Identity!.Name!, cancellationToken);
        if (!outcome.Done)
        {
            PublisherProblem = outcome.Message;
            return await RefusedAsync(outcome.Status, cancellationToken);
        }

        return RedirectToPage(null, null, new { name = Name, publishers = "vetted" }, "publishers");
    }

    public async Task<IActionResult> OnPostRemovePublisherAsync(CancellationToken cancellationToken)
    {
        if (await this.RequireReviewerAsync(authorization) is { } refusal)
        {
            return refusal;
        }

        if (ReviewApi.ProjectProblem(Name) is { } problem)
        {
            return InvalidName(problem);
        }

        Name = ProjectName.Normalize(Name);
        PublisherProblem = PublishersApi.PublisherProblem(Publisher) ?? ReviewApi.ReasonProblem(PublisherReason);
        if (PublisherProblem is not null)
        {
            return await RefusedAsync(StatusCodes.Status400BadRequest, cancellationToken);
        }

        var outcome = await publisherVetting.RemoveAsync(Name, Publisher!.Trim(), PublisherReason!.Trim(), User.Identity!.Name!, cancellationToken);
        if (!outcome.Done)
        {
            PublisherProblem = outcome.Message;
            return await RefusedAsync(outcome.Status, cancellationToken);
        }

        return RedirectToPage(null, null, new { name = Name, publishers = "removed" }, "publishers");
    }

    /// <summary>"Approve with dependencies" (tier 2) or "Vet with dependencies" (tier 3) of the closure shown, for the chosen environment.</summary>
    public async Task<IActionResult> OnPostDependenciesAsync(CancellationToken cancellationToken)
    {
        if (await this.RequireReviewerAsync(authorization) is { } refusal)
        {
            return refusal;
        }

        if (ReviewApi.ProjectProblem(Name) is { } problem)
        {
            return InvalidName(problem);
        }

        Name = ProjectName.Normalize(Name);
        var admin = (await authorization.AuthorizeAsync(User, AccessPolicies.UiAdminister)).Succeeded;
        var form = new ClosureForm(ClosureEnvironment, DependenciesVersion, ClosureExtras, DependenciesReason, DependenciesCriteria, DependenciesBreakGlass);
        var (outcome, formProblem, status) = await closureReview.DecideAsync(Name, form, User, admin, cancellationToken);
        Response.StatusCode = status;
        await LoadAsync(cancellationToken);
        // Rendered rather than redirected: the outcome names each member decided (or each blocker), which a redirect would lose.
        Closure = Closure with { Outcome = outcome, FormProblem = formProblem, Reason = status == StatusCodes.Status200OK ? null : DependenciesReason };
        return Page();
    }

    private async Task<IActionResult> RefusedAsync(int status, CancellationToken cancellationToken)
    {
        Response.StatusCode = status;
        await LoadAsync(cancellationToken);
        return Page();
    }

    // The dates of a vetted publisher as an <input type="date"> sends them: yyyy-mm-dd, or nothing.
    private static (DateOnly? Date, string? Problem) ParseDate(string field, string? text) =>
        string.IsNullOrWhiteSpace(text) ? (null, null)
        : DateOnly.TryParseExact(text.Trim(), "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var date) ? (date, null)
        : (null, $"'{field}' must be a date written yyyy-mm-dd");

    private static ContentResult InvalidName(string problem) =>
        new ContentResult { StatusCode = StatusCodes.Status400BadRequest, ContentType = "text/plain; charset=utf-8", Content = problem + "\n" };

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        CanDecide = (await authorization.AuthorizeAsync(User, AccessPolicies.UiReview)).Succeeded;
        var admin = (await authorization.AuthorizeAsync(User, AccessPolicies.UiAdminister)).Succeeded;
        Evidence = await evidence.ReadAsync(Name, cancellationToken);
        Review = await ReviewQueries.GetAsync(db, Name, cancellationToken);
        Publishers = await PublisherOverview.LoadAsync(db, curations.Current, Name, clock.GetUtcNow(), cancellationToken);

        var curation = curations.Current;
        var facts = new UpstreamFacts(Evidence.UpstreamStatus);
        var typosquat = curation.Typosquat(Name); // once, not once per blocking environment
        Answers = curation.Policy.Environments.Values.OrderBy(e => e.Tier).ThenBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => (Environment: e, Decision: curation.Decide(e, new DecisionSubject(Name), facts, Curation.SignalsFor(e, typosquat))))
            .Select(a => new EnvironmentAnswer(a.Environment.Name, (int)a.Environment.Tier, a.Decision.Visible, ExplainApi.RuleName(a.Decision.Rule), a.Decision.Reason))
            .ToList();
        Closure = await closureReview.LoadAsync(Name, null, ClosureEnvironment, ClosureExtras, CanDecide, admin, cancellationToken);
        PolicyNote = curation.Policy.Denied.TryGetValue(Name, out var denied) ? $"denied by a policy file: {denied}"
            : curation.Policy.Approved.Contains(Name) ? "approved by a policy file"
            : null;
    }
}

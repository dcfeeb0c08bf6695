using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.ReviewUi;
using CuratedIndex.Protocol;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Pages;

/// <summary>One environment's answer for the project, from the decision function itself.</summary>
public sealed record EnvironmentAnswer(string Environment, int Tier, bool Visible, string Rule, string Reason);

/// <summary>A project's evidence, its review (requesters, decision history), what each environment shows, and the decision form.</summary>
internal sealed class ProjectModel(
    CuratedIndexDbContext db,
    EvidenceReader evidence,
    CurationStore curations,
    ReviewQueue queue,
    IAuthorizationService authorization) : PageModel
{
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

    private static ContentResult InvalidName(string problem) =>
        new ContentResult { StatusCode = StatusCodes.Status400BadRequest, ContentType = "text/plain; charset=utf-8", Content = problem + "\n" };

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        CanDecide = (await authorization.AuthorizeAsync(User, AccessPolicies.UiReview)).Succeeded;
        Evidence = await evidence.ReadAsync(Name, cancellationToken);
        Review = await ReviewQueries.GetAsync(db, Name, cancellationToken);

        var curation = curations.Current;
        var facts = new UpstreamFacts(Evidence.UpstreamStatus);
        var typosquat = curation.Typosquat(Name); // once, not once per blocking environment
        Answers = curation.Policy.Environments.Values.OrderBy(e => e.Tier).ThenBy(e => e.Name, StringComparer.Ordinal)
            .Select(e => (Environment: e, Decision: curation.Decide(e, new DecisionSubject(Name), facts, Curation.SignalsFor(e, typosquat))))
            .Select(a => new EnvironmentAnswer(a.Environment.Name, (int)a.Environment.Tier, a.Decision.Visible, ExplainApi.RuleName(a.Decision.Rule), a.Decision.Reason))
            .ToList();
        PolicyNote = curation.Policy.Denied.TryGetValue(Name, out var denied) ? $"denied by a policy file: {denied}"
            : curation.Policy.Approved.Contains(Name) ? "approved by a policy file"
            : null;
    }
}

using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Closure;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.ReviewUi;
using CuratedIndex.Protocol;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Pages;

/// <summary>The review queue: filters and sort in the query string (bookmarkable), paging, and one bulk decision form for reviewers.</summary>
internal sealed class QueueModel(CuratedIndexDbContext db, PolicyStore policies, ReviewQueue queue, ClosureService closures, IAuthorizationService authorization) : PageModel
{
    public const int PageSize = 50;
    public static readonly IReadOnlyList<string> Statuses = [VerdictText.Pending, VerdictText.Approved, VerdictText.Denied, VerdictText.Deferred, "all"];
    public static readonly IReadOnlyList<string> Sorts = ["demand", "risk", "recent", "oldest", "name", "work"];

    [BindProperty(SupportsGet = true, Name = "status")]
    public string? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "env")]
    public string? Environment { get; set; }

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "sort")]
    public string? Sort { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    /// <summary>Set after a bulk decision (redirect after POST), for the confirmation line.</summary>
    [BindProperty(SupportsGet = true, Name = "decided")]
    public int? Decided { get; set; }

    [BindProperty(SupportsGet = true, Name = "outcome")]
    public string? DecidedVerdict { get; set; }

    [BindProperty]
    public List<string> Projects { get; set; } = [];

    [BindProperty]
    public string? Verdict { get; set; }

    [BindProperty]
    public string? Reason { get; set; }

    public QueuePage Items { get; private set; } = new([], 0);

    public IReadOnlyList<string> Environments { get; private set; } = [];

    public bool CanDecide { get; private set; }

    public string? Problem { get; private set; }

    public int PageCount => Math.Max(1, (Items.Total + PageSize - 1) / PageSize);

    public async Task<IActionResult> OnGetAsync(CancellationToken cancellationToken)
    {
        if (!Normalize())
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
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

        Normalize();
        var projects = Projects.Where(p => !string.IsNullOrWhiteSpace(p)).Distinct(StringComparer.Ordinal).ToList();
        Problem = projects.Count switch
        {
            0 => "select at least one project",
            > ReviewQueries.MaxLimit => $"select at most {ReviewQueries.MaxLimit} projects",
            _ => projects.Select(ReviewApi.ProjectProblem).FirstOrDefault(p => p is not null),
        };
        var verdictValid = UiDecisions.TryParseVerdict(Verdict, out var verdict);
        Problem ??= verdictValid ? ReviewApi.ReasonProblem(Reason) : "choose approve, deny or defer";
        if (Problem is not null)
        {
            Response.StatusCode = StatusCodes.Status400BadRequest;
            await LoadAsync(cancellationToken);
            return Page();
        }

        var results = await queue.DecideAsync(projects.Select(ProjectName.Normalize).ToList(), verdict, Reason!.Trim(), User.Identity!.Name!, cancellationToken);
        return RedirectToPage(new { status = Status, env = Environment, q = Search, sort = Sort, p = PageNumber, decided = results.Count, outcome = VerdictText.Of(verdict) });
    }

    public IDictionary<string, string?> Route(int page) =>
        new Dictionary<string, string?> { ["status"] = Status, ["env"] = Environment, ["q"] = Search, ["sort"] = Sort, ["p"] = page.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    // Unknown filter values fall back to the defaults (and GET answers 400) rather than failing the page.
    private bool Normalize()
    {
        var valid = true;
        if (Status is null || !Statuses.Contains(Status))
        {
            valid &= Status is null;
            Status = VerdictText.Pending;
        }

        if (!ReviewApi.TryParseSort(Sort, out _))
        {
            valid = false;
            Sort = "demand";
        }

        Sort ??= "demand";
        if (Environment is { Length: > 0 } && !policies.Current.Environments.ContainsKey(Environment))
        {
            valid = false;
            Environment = null;
        }

        Search = Search?.Trim() is { Length: > 0 } search ? search[..Math.Min(search.Length, ProjectName.MaxLength)] : null;
        PageNumber = Math.Clamp(PageNumber, 1, 100_000);
        return valid;
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        CanDecide = (await authorization.AuthorizeAsync(User, AccessPolicies.UiReview)).Succeeded;
        Environments = policies.Current.Environments.Keys.Order(StringComparer.Ordinal).ToList();
        var sort = ReviewApi.TryParseSort(Sort, out var parsed) ? parsed : QueueSort.Demand;
        var query = new QueueQuery(Status == "all" ? null : Status, Environment, Search, sort, (PageNumber - 1) * PageSize, PageSize);
        Items = await ReviewQueries.ListAsync(db, closures, query, cancellationToken);
    }
}

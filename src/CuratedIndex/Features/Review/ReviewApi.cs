using System.Security.Claims;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Closure;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Review;

/// <summary>
/// The body of a project decision. <see cref="Dependencies"/> (approve only): approve the project with its dependency
/// closure in environment <see cref="Env"/>, at <see cref="Version"/> (default: the newest) with <see cref="Extras"/>.
/// </summary>
public sealed record DecisionBody(string? Reason, bool? Dependencies = null, string? Env = null, string? Version = null, IReadOnlyList<string>? Extras = null);

public sealed record BulkDecisionBody(IReadOnlyList<string>? Projects, string? Verdict, string? Reason);

/// <summary>
/// The review queue over <c>/api/v1/</c>: <c>GET reviews</c>, <c>GET reviews/{project}</c>,
/// <c>POST projects/{name}/approve|deny|defer</c> and <c>POST decisions</c> for bulk decisions.
/// </summary>
public static class ReviewApi
{
    public static void MapReviewApi(this RouteGroupBuilder api)
    {
        api.MapGet("/reviews", ListAsync).RequireAuthorization(AccessPolicies.View);
        api.MapGet("/reviews/{project}", GetAsync).RequireAuthorization(AccessPolicies.View);
        api.MapPost("/projects/{name}/approve", (string name, DecisionBody? body, ClaimsPrincipal user, ReviewQueue queue, Closure.ClosureDecisions closures, CancellationToken ct) =>
            body is { Dependencies: true }
                ? Closure.ClosureApi.ApproveAsync(name, body, user, closures, ct)
                : DecideOneAsync(name, Verdict.Approved, body, user, queue, ct)).RequireAuthorization(AccessPolicies.Review);
        api.MapPost("/projects/{name}/deny", (string name, DecisionBody? body, ClaimsPrincipal user, ReviewQueue queue, CancellationToken ct) =>
            DecideOneAsync(name, Verdict.Denied, body, user, queue, ct)).RequireAuthorization(AccessPolicies.Review);
        api.MapPost("/projects/{name}/defer", (string name, DecisionBody? body, ClaimsPrincipal user, ReviewQueue queue, CancellationToken ct) =>
            DecideOneAsync(name, Verdict.Deferred, body, user, queue, ct)).RequireAuthorization(AccessPolicies.Review);
        api.MapPost("/decisions", DecideManyAsync).RequireAuthorization(AccessPolicies.Review);
    }

    /// <summary>The problem with a decision's reason, or null: it is required, at most 2000 characters, one paragraph of text.</summary>
    public static string? ReasonProblem(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return "a reason is required";
        }

        if (reason.Length > ReviewQueue.MaxReasonLength)
        {
            return $"the reason is longer than {ReviewQueue.MaxReasonLength} characters";
        }

        return reason.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t')) ? "the reason contains control characters" : null;
    }

    public static string? ProjectProblem(string? name) =>
        name is null ? "project names must be strings"
        : ProjectName.IsValid(name) ? null
        : $"'{Printable(name)}' is not a valid project name";

    private static async Task<IResult> ListAsync(
        CuratedIndexDbContext db,
        ClosureService closures,
        string? status,
        string? env,
        string? q,
        string? sort,
        int? offset,
        int? limit,
        CancellationToken cancellationToken)
    {
        if (status is not (null or "all") && !VerdictText.TryParse(status, out _))
        {
            return Problem("status must be pending, approved, denied, deferred or all");
        }

        if (!TryParseSort(sort, out var order))
        {
            return Problem("sort must be demand, risk, recent, oldest, name or work");
        }

        var query = new QueueQuery(status == "all" ? null : status ?? VerdictText.Pending, env, q, order, offset ?? 0, limit ?? 50);
        var page = await ReviewQueries.ListAsync(db, closures, query, cancellationToken);
        return Results.Ok(new { total = page.Total, items = page.Items });
    }

    private static async Task<IResult> GetAsync(string project, CuratedIndexDbContext db, ClosureService closures, CancellationToken cancellationToken)
    {
        if (ProjectProblem(project) is { } problem)
        {
            return Problem(problem);
        }

        var detail = await ReviewQueries.GetAsync(db, ProjectName.Normalize(project), cancellationToken);
        if (detail.Request is { } request)
        {
            detail = detail with { Request = await ReviewQueries.WithClosureAsync(closures, request, null, cancellationToken) };
        }

        return detail.Request is null && detail.Decisions.Count == 0
            ? Results.NotFound(new { message = $"no review request for '{detail.Project}'" })
            : Results.Ok(detail);
    }

    private static async Task<IResult> DecideOneAsync(string name, Verdict verdict, DecisionBody? body, ClaimsPrincipal user, ReviewQueue queue, CancellationToken cancellationToken)
    {
        var dependenciesProblem = body is { Dependencies: true } ? "\"dependencies\" applies to approve only: deny and defer decide one project"
            : body is not null && (body.Env is not null || body.Version is not null || body.Extras is not null) ? "\"env\", \"version\" and \"extras\" apply only with \"dependencies\": true (a project decision holds for every version)"
            : null;
        if ((ProjectProblem(name) ?? dependenciesProblem ?? ReasonProblem(body?.Reason)) is { } problem)
        {
            return Problem(problem);
        }

        var results = await queue.DecideAsync([ProjectName.Normalize(name)], verdict, body!.Reason!.Trim(), user.Identity!.Name!, cancellationToken);
        return Results.Ok(Describe(results[0]));
    }

    private static async Task<IResult> DecideManyAsync(BulkDecisionBody? body, ClaimsPrincipal user, ReviewQueue queue, CancellationToken cancellationToken)
    {
        if (body?.Projects is not { Count: > 0 and <= ReviewQueries.MaxLimit } projects)
        {
            return Problem($"'projects' must list 1 to {ReviewQueries.MaxLimit} project names");
        }

        if (!VerdictText.TryParse(body.Verdict, out var verdict) || verdict == Verdict.Pending)
        {
            return Problem("'verdict' must be approved, denied or deferred");
        }

        if ((projects.Select(ProjectProblem).FirstOrDefault(p => p is not null) ?? ReasonProblem(body.Reason)) is { } problem)
        {
            return Problem(problem);
        }

        var results = await queue.DecideAsync(projects.Select(ProjectName.Normalize).ToList(), verdict, body.Reason!.Trim(), user.Identity!.Name!, cancellationToken);
        return Results.Ok(new { decisions = results.Select(Describe) });
    }

    private static object Describe(DecisionResult result) =>
        new { project = result.Project, verdict = VerdictText.Of(result.Verdict), decisionId = result.DecisionId };

    public static bool TryParseSort(string? text, out QueueSort sort)
    {
        sort = text switch
        {
            null or "" or "demand" => QueueSort.Demand,
            "risk" => QueueSort.Risk,
            "recent" => QueueSort.Recent,
            "oldest" => QueueSort.Oldest,
            "name" => QueueSort.Name,
            "work" => QueueSort.Work,
            _ => (QueueSort)(-1),
        };
        return Enum.IsDefined(sort);
    }

    private static IResult Problem(string message) => Results.BadRequest(new { message });

    /// <summary>At most 80 characters of untrusted input, control characters shown as '?', for a one-line refusal.</summary>
    public static string Printable(string text) => new(text.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}

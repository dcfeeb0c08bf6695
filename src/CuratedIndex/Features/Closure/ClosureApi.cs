using System.Security.Claims;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Review;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Closure;

/// <summary>
/// <c>GET /api/v1/projects/{name}/closure?env=&amp;version=&amp;extras=</c>: the dependency closure with statuses; and the
/// "with dependencies" forms of approve and vet, which <see cref="ReviewApi"/> and the releases API hand over here.
/// </summary>
public static class ClosureApi
{
    public static void MapClosureApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{name}/closure", GetAsync).RequireAuthorization(AccessPolicies.View);
    }

    private static async Task<IResult> GetAsync(string name, string? env, string? version, string? extras, ClosureService closures, CancellationToken cancellationToken)
    {
        if (ReviewApi.ProjectProblem(name) is { } problem)
        {
            return Problem(problem);
        }

        if (string.IsNullOrWhiteSpace(env))
        {
            return Problem("env is required: the closure depends on the environment's targets and its statuses on its tier");
        }

        var lookup = await closures.ViewAsync(ProjectName.Normalize(name), string.IsNullOrWhiteSpace(version) ? null : version, SplitExtras(extras), env, cancellationToken);
        return lookup.View is null ? Failure(lookup.Failure, lookup.Message!) : Results.Ok(Json(lookup.View));
    }

    /// <summary><c>POST projects/{name}/approve</c> with <c>"dependencies": true</c>.</summary>
    public static async Task<IResult> ApproveAsync(string name, DecisionBody body, ClaimsPrincipal user, ClosureDecisions decisions, CancellationToken cancellationToken)
    {
        if (Request(name, body.Env, body.Version, body.Extras, body.Reason, user, null, false) is not { } request)
        {
            return Problem(RequestProblem(name, body.Env, body.Extras, body.Reason)!);
        }

        return Answer(await decisions.ApproveAsync(request, cancellationToken), "approved");
    }

    /// <summary><c>POST projects/{name}/releases/{version}/vet</c> with <c>"dependencies": true</c>.</summary>
    public static async Task<IResult> VetAsync(string name, string version, string? env, IReadOnlyList<string>? extras, string? reason, string? criteria, bool breakGlass, ClaimsPrincipal user, ClosureDecisions decisions, CancellationToken cancellationToken)
    {
        if (Request(name, env, version, extras, reason, user, criteria, breakGlass) is not { } request)
        {
            return Problem(RequestProblem(name, env, extras, reason)!);
        }

        return Answer(await decisions.VetAsync(request, cancellationToken), "vetted");
    }

    private static string? RequestProblem(string name, string? env, IReadOnlyList<string>? extras, string? reason) =>
        ReviewApi.ProjectProblem(name)
        ?? (string.IsNullOrWhiteSpace(env) ? "'env' is required with \"dependencies\": true (the closure depends on the environment's targets)" : null)
        ?? (extras is { Count: > 32 } ? "at most 32 extras" : null)
        ?? ReviewApi.ReasonProblem(reason);

    private static ClosureDecisionRequest? Request(string name, string? env, string? version, IReadOnlyList<string>? extras, string? reason, ClaimsPrincipal user, string? criteria, bool breakGlass) =>
        RequestProblem(name, env, extras, reason) is not null
            ? null
            : new ClosureDecisionRequest(
                ProjectName.Normalize(name),
                string.IsNullOrWhiteSpace(version) ? null : version,
                extras ?? [],
                env!,
                reason!.Trim(),
                user.Identity!.Name!,
                criteria,
                MayBreakGlass: user.IsInRole(Roles.Admin),
                BreakGlass: breakGlass);

    // The contract's 200 body (as the plain approve answers): the root project and the verdict, then what was decided.
    private static IResult Answer(ClosureDecisionOutcome outcome, string verdict)
    {
        var body = new
        {
            project = outcome.View?.Closure.Project,
            verdict = outcome.Status == ClosureDecisionStatus.Decided ? verdict : null,
            message = outcome.Message,
            decided = outcome.Decided.Select(d => new { project = d.Project, version = d.Version, action = d.Action, decisionId = d.DecisionId, breakGlass = d.BreakGlass }),
            blockers = outcome.Blockers,
            closure = outcome.View is null ? null : Json(outcome.View),
        };
        return outcome.Status switch
        {
            ClosureDecisionStatus.Decided => Results.Ok(body),
            ClosureDecisionStatus.Blocked => Results.Conflict(body),
            _ => Failure(outcome.Status, outcome.Message),
        };
    }

    private static IResult Failure(ClosureDecisionStatus status, string message) => status switch
    {
        ClosureDecisionStatus.NotFound => Results.NotFound(new { message }),
        ClosureDecisionStatus.UpstreamFailed => Results.Json(new { message }, statusCode: StatusCodes.Status502BadGateway),
        _ => Problem(message),
    };

    /// <summary>The closure as the API gives it (the contract in the README).</summary>
    public static object Json(ClosureView view) => new
    {
        project = view.Closure.Project,
        version = view.Closure.Version,
        extras = view.Closure.Extras,
        environment = view.Environment,
        tier = view.Tier,
        targets = view.Closure.Targets,
        complete = view.Closure.IsComplete,
        computedAt = view.Closure.ComputedAt,
        members = view.Members.Select(m => new
        {
            project = m.Member.Project,
            version = m.Member.Version,
            depth = m.Member.Depth,
            targets = m.Member.Targets,
            requiredBy = m.Member.RequiredBy.Select(e => new { project = e.Project, version = e.Version, requirement = e.Requirement }),
            metadata = m.Member.MetadataSource,
            status = StatusText.Of(m.Status),
            reason = m.Reason,
            evidence = m.Evidence,
            blocks = m.Blocks,
        }),
        problems = view.Closure.Problems.Select(p => new { kind = KindText(p.Kind), project = p.Project, message = p.Message }),
        remaining = view.Remaining.Count,
        blockers = view.Blockers.Select(b => $"{b.Member.Project} {b.Member.Version}: {b.Reason}"),
    };

    public static string KindText(ClosureProblemKind kind) => kind switch
    {
        ClosureProblemKind.Conflict => "conflict",
        ClosureProblemKind.NotFound => "not-found",
        ClosureProblemKind.NoRelease => "no-release",
        ClosureProblemKind.Metadata => "metadata",
        ClosureProblemKind.Requirement => "requirement",
        _ => "too-large",
    };

    /// <summary>Extras from a query string: comma-separated, blanks dropped.</summary>
    public static IReadOnlyList<string> SplitExtras(string? extras) =>
        (extras ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static IResult Problem(string message) => Results.BadRequest(new { message });
}

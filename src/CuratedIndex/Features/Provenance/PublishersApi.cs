using System.Security.Claims;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Review;
using CuratedIndex.Protocol;
using Microsoft.AspNetCore.Mvc;

namespace CuratedIndex.Features.Provenance;

/// <summary>The body of <c>POST …/publishers</c> and <c>DELETE …/publishers</c> (dates only when vetting).</summary>
public sealed record PublisherBody(string? Publisher, DateOnly? From, DateOnly? Until, string? Reason);

/// <summary>
/// Vetted publishers over <c>/api/v1/</c>: <c>GET projects/{name}/publishers</c> (vetted ones, publishers seen per release,
/// unattested releases), <c>POST</c> to vet one and <c>DELETE</c> to remove one (reviewers; audited).
/// </summary>
public static class PublishersApi
{
    public static void MapPublishersApi(this RouteGroupBuilder api)
    {
        api.MapGet("/projects/{name}/publishers", GetAsync).RequireAuthorization(AccessPolicies.View);
        api.MapPost("/projects/{name}/publishers", VetAsync).RequireAuthorization(AccessPolicies.Review);
        api.MapDelete("/projects/{name}/publishers", RemoveAsync).RequireAuthorization(AccessPolicies.Review);
    }

    private static async Task<IResult> GetAsync(string name, CuratedIndexDbContext db, CurationStore curations, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (ReviewApi.ProjectProblem(name) is { } problem)
        {
            return Results.BadRequest(new { message = problem });
        }

        var overview = await PublisherOverview.LoadAsync(db, curations.Current, ProjectName.Normalize(name), clock.GetUtcNow(), cancellationToken);
        return Results.Ok(Describe(overview));
    }

    private static async Task<IResult> VetAsync(string name, PublisherBody? body, ClaimsPrincipal user, PublisherVetting vetting, CancellationToken cancellationToken)
    {
        if ((ReviewApi.ProjectProblem(name) ?? PublisherProblem(body?.Publisher) ?? ReviewApi.ReasonProblem(body?.Reason)) is { } problem)
        {
            return Results.BadRequest(new { message = problem });
        }

        return Answer(await vetting.VetAsync(ProjectName.Normalize(name), body!.Publisher!.Trim(), body.From, body.Until, body.Reason!.Trim(), user.Identity!.Name!, cancellationToken));
    }

    private static async Task<IResult> RemoveAsync(string name, [FromBody] PublisherBody? body, ClaimsPrincipal user, PublisherVetting vetting, CancellationToken cancellationToken)
    {
        if ((ReviewApi.ProjectProblem(name) ?? PublisherProblem(body?.Publisher) ?? ReviewApi.ReasonProblem(body?.Reason)) is { } problem)
        {
            return Results.BadRequest(new { message = problem });
        }

        return Answer(await vetting.RemoveAsync(ProjectName.Normalize(name), body!.Publisher!.Trim(), body.Reason!.Trim(), user.Identity!.Name!, cancellationToken));
    }

    public static object Describe(PublisherOverview overview) => new
    {
        project = overview.Project,
        vetted = overview.Vetted.Select(g => new
        {
            publisher = g.Publisher.ToString(),
            from = g.Publisher.From,
            until = g.Publisher.Until,
            description = g.Publisher.Describe(),
            source = g.FromPolicy ? PublisherAudit.PolicySource : "reviewer",
            actor = g.FromPolicy ? null : g.Source,
            reason = g.Reason,
            decidedAt = g.DecidedAt,
        }),
        seen = overview.Seen.Select(s => new { publisher = s.Publisher, kind = s.Kind, firstRelease = s.FirstRelease, releases = s.Releases, vetted = s.Vetted }),
        releases = overview.Releases.Select(r => new
        {
            version = r.Version,
            verified = r.Verified,
            failed = r.Failed,
            none = r.None,
            pending = r.Pending,
            unattested = r.Unattested,
            publishers = r.Publishers,
            failures = r.Failures,
        }),
    };

    private static IResult Answer(PublisherOutcome outcome) => outcome.Done
        ? Results.Ok(new { message = outcome.Message })
        : Results.Json(new { message = outcome.Message }, statusCode: outcome.Status);

    /// <summary>The API's and the project page's check that an entry was given at all (its form is <see cref="PublisherVetting"/>'s).</summary>
    public static string? PublisherProblem(string? publisher) =>
        string.IsNullOrWhiteSpace(publisher) ? "'publisher' is required, e.g. github:owner/repo/.github/workflows/release.yml" : null;
}

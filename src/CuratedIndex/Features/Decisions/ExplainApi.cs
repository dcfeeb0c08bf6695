using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Decisions;

/// <summary><c>GET /api/v1/explain?env=…&amp;project=…[&amp;version=…]</c>: visible or hidden, and why, from the decision function itself.</summary>
public static class ExplainApi
{
    public static void MapExplainApi(this RouteGroupBuilder api) =>
        api.MapGet("/explain", ExplainAsync).RequireAuthorization(AccessPolicies.View);

    private static async Task<IResult> ExplainAsync(string? env, string? project, string? version, PolicyStore policies, CurationStore curations, ProjectPageCache pages, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(env) || string.IsNullOrEmpty(project))
        {
            return Results.BadRequest(new { message = "'env' and 'project' are required" });
        }

        if (policies.FindEnvironment(env) is not { } environment)
        {
            return Results.NotFound(new { message = Policies.EnvironmentName.IsValid(env) ? $"unknown environment '{env}'" : "unknown environment" });
        }

        if (!ProjectName.IsValid(project))
        {
            return Results.BadRequest(new { message = "invalid project name" });
        }

        if (version is not null && (version.Length > 128 || !Pep440Version.TryParse(version, out _)))
        {
            return Results.BadRequest(new { message = "invalid version: not a PEP 440 version" });
        }

        var normalized = ProjectName.Normalize(project);
        // Upstream's PEP 792 status is one of the inputs; explain uses the cached page and never fails for want of it.
        // For an internal name the lookup says only whether upstream has the name: nothing of it is served.
        var lookup = await pages.GetAsync(normalized, cancellationToken);
        var facts = new UpstreamFacts(lookup.Value?.Page.Status?.Status);
        var curation = curations.Current;
        var typosquat = curation.Typosquat(normalized);
        var decision = curation.Decide(environment, new DecisionSubject(normalized, version), facts, Curation.SignalsFor(environment, typosquat));
        return Results.Ok(new
        {
            environment = environment.Name,
            tier = (int)environment.Tier,
            project = normalized,
            version,
            visible = decision.Visible,
            rule = RuleName(decision.Rule),
            reason = decision.Reason,
            typosquat = typosquat is null ? null : new
            {
                imitated = typosquat.Imitated,
                score = typosquat.Score,
                kind = typosquat.Kind,
                reasons = typosquat.Reasons,
                policy = environment.Typosquat == TyposquatMode.Block ? "block" : "warn",
            },
            upstream = lookup.Status switch
            {
                LookupStatus.Found => "found",
                LookupStatus.NotFound => "not-found",
                _ => "unavailable",
            },
        });
    }

    public static string RuleName(DecisionRule rule) => rule switch
    {
        DecisionRule.Allowed => "allowed",
        DecisionRule.Denied => "denied",
        DecisionRule.Internal => "internal",
        DecisionRule.UpstreamQuarantined => "upstream-quarantined",
        DecisionRule.Typosquat => "typosquat",
        DecisionRule.NotApproved => "not-approved",
        _ => "not-vetted",
    };
}

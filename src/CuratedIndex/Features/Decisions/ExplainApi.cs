using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Features.Releases;
using CuratedIndex.Protocol;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Decisions;

/// <summary><c>GET /api/v1/explain?env=…&amp;project=…[&amp;version=…]</c>: visible or hidden, and why, from the decision function itself.</summary>
public static class ExplainApi
{
    public static void MapExplainApi(this RouteGroupBuilder api) =>
        api.MapGet("/explain", ExplainAsync).RequireAuthorization(AccessPolicies.View);

    private static async Task<IResult> ExplainAsync(
        string? env,
        string? project,
        string? version,
        string? filename,
        PolicyStore policies,
        CurationStore curations,
        ProjectPageCache pages,
        CuratedIndexDbContext db,
        TimeProvider clock,
        CancellationToken cancellationToken)
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

        if (filename is not null && !DistributionFilename.IsSafe(filename))
        {
            return Results.BadRequest(new { message = "invalid filename" });
        }

        var normalized = ProjectName.Normalize(project);
        if (filename is not null)
        {
            // A file names its release: the version is the filename's, and a filename that names no version says so.
            var fromName = SimplePageRenderer.VersionOf(normalized, filename);
            if (version is not null && fromName is not null && ReleaseVettings.ReleaseKey(version) != ReleaseVettings.ReleaseKey(fromName))
            {
                return Results.BadRequest(new { message = $"'{filename}' is a file of version {fromName}, not {version}" });
            }

            version = fromName;
        }

        // Upstream's PEP 792 status is one of the inputs; explain uses the cached page and never fails for want of it.
        // For an internal name the lookup says only whether upstream has the name: nothing of it is served.
        var lookup = await pages.GetAsync(normalized, cancellationToken);
        var facts = new UpstreamFacts(lookup.Value?.Page.Status?.Status);
        var curation = curations.Current;
        var typosquat = curation.Typosquat(normalized);
        var listed = filename is null ? null : lookup.Value?.FilesByName.GetValueOrDefault(filename);
        var pinned = filename is null || version is null ? null : curation.Vettings.For(normalized, version)?.Files.GetValueOrDefault(filename);
        facts = listed is not null ? facts.ForListedFile(listed.Sha256) : facts with { FileSha256 = pinned?.Sha256 };
        var decision = curation.Decide(environment, new DecisionSubject(normalized, version, filename), facts, Curation.SignalsFor(environment, typosquat));
        var release = version is null || environment.Tier != Tier.Vetted
            ? null
            : await ReleaseFactsAsync(db, curation, normalized, ReleaseVetting.UpstreamSpelling(lookup.Value?.Page, normalized, version), clock.GetUtcNow().UtcDateTime, cancellationToken);
        return Results.Ok(new
        {
            environment = environment.Name,
            tier = (int)environment.Tier,
            project = normalized,
            version,
            filename,
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
            release,
            upstream = lookup.Status switch
            {
                LookupStatus.Found => "found",
                LookupStatus.NotFound => "not-found",
                _ => "unavailable",
            },
        });
    }

    // For tier 3: the decision in force, when the release was first seen, its signals, and what would stop a vetting now.
    private static async Task<object?> ReleaseFactsAsync(CuratedIndexDbContext db, Curation curation, string project, string version, DateTime now, CancellationToken cancellationToken)
    {
        if (ReleaseVettings.NormalizeVersion(version) is not { } normalized)
        {
            return null;
        }

        var seen = await db.SeenReleases.AsNoTracking().FirstOrDefaultAsync(r => r.Project == project && r.Version == normalized, cancellationToken);
        var signals = await db.ReleaseSignals.AsNoTracking().Where(s => s.Project == project && s.Version == normalized).OrderBy(s => s.Id).ToListAsync(cancellationToken);
        var verdict = curation.Vettings.For(project, normalized);
        return new
        {
            decision = verdict?.Describe(),
            breakGlass = verdict?.BreakGlass ?? false,
            firstSeenAt = seen?.FirstSeenAt,
            uploadedAt = seen?.UploadedAt,
            signals = signals.Select(s => new { kind = s.Kind, evidence = s.Evidence }),
            policyVet = curation.Policy.Vet.GetValueOrDefault(project),
            policyWait = ReleaseVetting.Eligibility(curation.Policy, project, seen, signals, VettingHow.Policy, now)?.Reason,
            reviewerWait = ReleaseVetting.Eligibility(curation.Policy, project, seen, signals, VettingHow.Reviewer, now)?.Reason,
        };
    }

    public static string RuleName(DecisionRule rule) => rule switch
    {
        DecisionRule.Allowed => "allowed",
        DecisionRule.Denied => "denied",
        DecisionRule.Internal => "internal",
        DecisionRule.UpstreamQuarantined => "upstream-quarantined",
        DecisionRule.Typosquat => "typosquat",
        DecisionRule.NotApproved => "not-approved",
        DecisionRule.Unparseable => "unparseable-filename",
        DecisionRule.Rejected => "rejected",
        DecisionRule.NotPinned => "not-pinned",
        DecisionRule.PinMismatch => "pin-mismatch",
        _ => "not-vetted",
    };
}

using System.Security.Claims;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.Releases;

/// <summary>The body of <c>POST …/releases/{version}/vet</c>. <see cref="Files"/> null: every file upstream lists now.</summary>
/// <see cref="Dependencies"/>: vet the release with its dependency closure in environment <see cref="Env"/> (with <see cref="Extras"/>).
public sealed record VetBody(
    string? Reason,
    string? Criteria,
    IReadOnlyList<string>? Files,
    Dictionary<string, string>? Sha256,
    bool? BreakGlass,
    bool? Dependencies = null,
    string? Env = null,
    IReadOnlyList<string>? Extras = null);

/// <summary>
/// Tier 3 over <c>/api/v1/</c>: <c>POST projects/{name}/releases/{version}/vet|reject</c>, <c>GET releases</c> (the release
/// queue), <c>GET projects/{name}/releases/{version}</c> (one release: files, decision, signals, cooldown) and
/// <c>GET projects/{name}/versions?env=</c> (every version as an environment sees it, for <c>curated-index check</c>).
/// </summary>
public static class ReleasesApi
{
    public const int MaxFiles = 1000;

    public static void MapReleasesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/releases", ListAsync).RequireAuthorization(AccessPolicies.View);
        api.MapGet("/projects/{name}/releases/{version}", GetAsync).RequireAuthorization(AccessPolicies.View);
        api.MapPost("/projects/{name}/releases/{version}/vet", VetAsync).RequireAuthorization(AccessPolicies.Review);
        api.MapPost("/projects/{name}/releases/{version}/reject", RejectAsync).RequireAuthorization(AccessPolicies.Review);
        api.MapGet("/projects/{name}/versions", VersionsAsync).RequireAuthorization(AccessPolicies.View);
        api.MapVettingsApi();
    }

    private static async Task<IResult> VersionsAsync(string name, string? env, PolicyStore policies, CurationStore curations, ProjectPageCache pages, CancellationToken cancellationToken)
    {
        if (ReviewApi.ProjectProblem(name) is { } problem)
        {
            return Problem(problem);
        }

        if (string.IsNullOrEmpty(env))
        {
            return Problem("'env' is required");
        }

        if (policies.FindEnvironment(env) is not { } environment)
        {
            return Results.NotFound(new { message = Policies.EnvironmentName.IsValid(env) ? $"unknown environment '{env}'" : "unknown environment" });
        }

        var project = ProjectName.Normalize(name);
        var curation = curations.Current;
        var signals = Curation.SignalsFor(environment, curation.Typosquat(project));
        var withoutUpstream = curation.Decide(environment, new DecisionSubject(project), new UpstreamFacts(null), signals);
        object Answer(Decision decision, string upstream, IReadOnlyList<EnvironmentVersion> versions) => new
        {
            environment = environment.Name,
            tier = (int)environment.Tier,
            project,
            visible = decision.Visible,
            rule = ExplainApi.RuleName(decision.Rule),
            reason = decision.Reason,
            upstream,
            versions = versions.Select(v => new
            {
                version = v.Version,
                visible = v.Visible,
                rule = v.Rule,
                reason = v.Reason,
                files = v.Files.Select(f => new { filename = f.Filename, sha256 = f.Sha256, size = f.Size, yanked = f.Yanked, served = f.Served, rule = f.Rule, reason = f.Reason }),
            }),
        };

        // An internal name is never looked up upstream: asking would tell the public index the name.
        if (withoutUpstream.Rule == DecisionRule.Internal)
        {
            return Results.Ok(Answer(withoutUpstream, "not-asked", []));
        }

        var lookup = await pages.GetAsync(project, cancellationToken);
        switch (lookup.Status)
        {
            case LookupStatus.NotFound:
                return Results.Ok(Answer(withoutUpstream, "not-found", []));
            case LookupStatus.Failed:
                return Results.Json(new { message = $"upstream is unavailable ({lookup.Reason})" }, statusCode: StatusCodes.Status502BadGateway);
        }

        var page = lookup.Value!.Page;
        var decision = curation.Decide(environment, new DecisionSubject(project), new UpstreamFacts(page.Status?.Status), signals);
        return Results.Ok(Answer(decision, "found", decision.Visible ? EnvironmentVersions.Decide(environment, curation, signals, page) : []));
    }

    private static async Task<IResult> ListAsync(string? status, string? project, int? offset, int? limit, CuratedIndexDbContext db, CurationStore curations, CancellationToken cancellationToken)
    {
        if (!ReleaseStatus.IsKnown(status ?? ReleaseStatus.Pending))
        {
            return Problem("status must be pending, vetted, rejected or all");
        }

        if (project is not null && ReviewApi.ProjectProblem(project) is { } problem)
        {
            return Problem(problem);
        }

        var (total, items) = await ReleaseQueries.ListAsync(
            db, curations.Current, status ?? ReleaseStatus.Pending, project is null ? null : ProjectName.Normalize(project), Math.Max(0, offset ?? 0), limit ?? 50, cancellationToken);
        return Results.Ok(new { total, items });
    }

    private static async Task<IResult> GetAsync(string name, string version, ReleaseReview review, CancellationToken cancellationToken)
    {
        if ((ReviewApi.ProjectProblem(name) ?? VersionProblem(version)) is { } problem)
        {
            return Problem(problem);
        }

        var release = await review.LoadAsync(ProjectName.Normalize(name), ReleaseVettings.NormalizeVersion(version)!, cancellationToken);
        if (release.Unknown)
        {
            return Results.NotFound(new { message = release.UpstreamProblem ?? $"no release {release.Version} of '{release.Project}'" });
        }

        return Results.Ok(new
        {
            project = release.Project,
            version = release.Version,
            status = release.Status,
            upstream = release.UpstreamProblem,
            firstSeenAt = release.Seen?.FirstSeenAt,
            uploadedAt = release.Seen?.UploadedAt,
            demand = release.Demand,
            files = release.Files.Select(f => new
            {
                filename = f.Filename,
                size = f.Size,
                sha256 = f.Sha256,
                uploadTime = f.UploadTime,
                firstSeenAt = f.FirstSeenAt,
                yanked = f.Yanked,
                pinned = f.PinState,
                provenance = f.Provenance is null ? null : Describe(f.Provenance),
            }),
            decision = release.Verdict is null ? null : Describe(release.Verdict),
            signals = release.Signals.Select(s => new { kind = s.Kind, evidence = s.Evidence, detectedAt = s.DetectedAt }),
            // What would stop a vetting now, for a reviewer and for policy.
            reviewerWait = release.ReviewerWait,
            policyWait = release.PolicyWait,
            // From the stored facts only; null when the project has no vetted publisher.
            autoVetting = release.AutoVetting is not { } auto ? null : new
            {
                wouldVet = auto.WouldVet,
                wouldNot = auto.WouldNot,
                publishers = auto.Publishers.Select(g => new
                {
                    publisher = g.Publisher.ToString(),
                    from = g.Publisher.From,
                    until = g.Publisher.Until,
                    source = g.FromPolicy ? PublisherAudit.PolicySource : "reviewer",
                    actor = g.FromPolicy ? null : g.Source,
                }),
            },
        });
    }

    /// <summary>A file's stored provenance: <c>state</c> verified, failed, none, unavailable or not-checked, and what each attestation proves.</summary>
    public static object Describe(FileProvenanceView provenance) => new
    {
        state = provenance.State,
        failure = provenance.Failure,
        checkedAt = provenance.CheckedAt,
        attestations = provenance.Attestations.Select(a => new
        {
            publisher = a.Publisher.Canonical,
            kind = a.Publisher.Kind.ToString(),
            logOrigin = a.LogOrigin,
            logIndex = a.LogIndex,
            signedAt = a.SignedAt,
            sourceRef = a.SourceRef,
            sourceDigest = a.SourceDigest,
            predicateType = a.PredicateType,
        }),
    };

    private static async Task<IResult> VetAsync(string name, string version, VetBody? body, ClaimsPrincipal user, ReleaseVetting vetting, Closure.ClosureDecisions closures, CancellationToken cancellationToken)
    {
        if (body is { Dependencies: true })
        {
            // The closure's releases are pinned to what upstream lists now: a file list or digests for one release do not apply.
            if (body.Files is not null || body.Sha256 is not null)
            {
                return Problem("\"files\" and \"sha256\" cannot be combined with \"dependencies\": every member is pinned to the files upstream lists now");
            }

            if ((VersionProblem(version) ?? (body.Criteria is { } wanted && !VettingCriteria.IsKnown(wanted) ? $"criteria must be {VettingCriteria.SafeToDeploy} or {VettingCriteria.SafeToRun}" : null)) is { } invalid)
            {
                return Problem(invalid);
            }

            return await Closure.ClosureApi.VetAsync(name, version, body.Env, body.Extras, body.Reason, body.Criteria, body.BreakGlass ?? false, user, closures, cancellationToken);
        }

        var problem = ReviewApi.ProjectProblem(name) ?? VersionProblem(version) ?? ReviewApi.ReasonProblem(body?.Reason)
            ?? (body!.Criteria is { } criteria && !VettingCriteria.IsKnown(criteria) ? $"criteria must be {VettingCriteria.SafeToDeploy} or {VettingCriteria.SafeToRun}" : null)
            ?? (body.Files is { Count: > MaxFiles } ? $"at most {MaxFiles} files" : null)
            ?? body.Files?.Where(f => !DistributionFilename.IsSafe(f)).Select(f => $"'{ReviewApi.Printable(f)}' is not a valid filename").FirstOrDefault()
            ?? body.Sha256?.Where(p => !IsSha256(p.Value)).Select(p => $"the sha256 given for '{ReviewApi.Printable(p.Key)}' is not 64 hex digits").FirstOrDefault();
        if (problem is not null)
        {
            return Problem(problem);
        }

        var request = new VetRequest(
            ProjectName.Normalize(name),
            version,
            body!.Criteria ?? VettingCriteria.SafeToDeploy,
            body.Reason!.Trim(),
            user.Identity!.Name!,
            VettingHow.Reviewer,
            body.Files,
            body.Sha256,
            body.BreakGlass ?? false,
            MayBreakGlass: user.IsInRole(Roles.Admin));
        return Answer(await vetting.VetAsync(request, cancellationToken));
    }

    private static async Task<IResult> RejectAsync(string name, string version, DecisionBody? body, ClaimsPrincipal user, ReleaseVetting vetting, CancellationToken cancellationToken)
    {
        if ((ReviewApi.ProjectProblem(name) ?? VersionProblem(version) ?? ReviewApi.ReasonProblem(body?.Reason)) is { } problem)
        {
            return Problem(problem);
        }

        return Answer(await vetting.RejectAsync(ProjectName.Normalize(name), version, body!.Reason!.Trim(), user.Identity!.Name!, cancellationToken));
    }

    /// <summary>The HTTP answer for a vetting outcome: 200 with the decision, or the status that says why not, with the reason.</summary>
    public static IResult Answer(VetOutcome outcome) => outcome.Status switch
    {
        VetStatus.Vetted => Results.Ok(Describe(outcome.Verdict!)),
        VetStatus.NotFound => Results.NotFound(new { message = outcome.Message }),
        VetStatus.NotNow => Results.Conflict(new { message = outcome.Message }),
        VetStatus.UpstreamFailed => Results.Json(new { message = outcome.Message }, statusCode: StatusCodes.Status502BadGateway),
        _ => Problem(outcome.Message),
    };

    public static object Describe(ReleaseVerdict verdict) => new
    {
        project = verdict.Project,
        version = verdict.Version,
        verdict = verdict.Vetted ? ReleaseVerdictText.Vetted : ReleaseVerdictText.Rejected,
        criteria = verdict.Criteria,
        how = verdict.How,
        actor = verdict.Actor,
        reason = verdict.Reason,
        breakGlass = verdict.BreakGlass,
        source = verdict.Source,
        decidedAt = verdict.DecidedAt,
        decisionId = verdict.DecisionId,
        summary = verdict.Describe(),
        files = verdict.Files.Values.OrderBy(f => f.Filename, StringComparer.Ordinal).Select(f => new { filename = f.Filename, sha256 = f.Sha256, size = f.Size }),
    };

    public static string? VersionProblem(string? version) =>
        version is null || version.Length > 128 || ReleaseVettings.NormalizeVersion(version) is null ? "invalid version: not a PEP 440 version" : null;

    public static bool IsSha256(string? text) => text is { Length: 64 } && text.All(char.IsAsciiHexDigit);

    private static IResult Problem(string message) => Results.BadRequest(new { message });
}

using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Alerts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>
/// One request to an index endpoint (<c>/{env}/…</c>), resolved and decided before anything asks upstream: the environment,
/// the caller admitted by <see cref="IndexAccess"/>, the normalized project name, the <see cref="Curation"/> in force, the
/// project's typosquat finding and the project-level decision. Opened by <see cref="IndexRequests"/>; handlers keep only
/// what is theirs (formats, files, bodies).
/// </summary>
public sealed class IndexRequest
{
    internal IndexRequest(EnvironmentPolicy environment, string caller, string project, Curation curation, TyposquatSignal? typosquat, CuratedIndexMetrics metrics, string kind)
    {
        _metrics = metrics;
        Kind = kind;
        Environment = environment;
        Caller = caller;
        Project = project;
        Curation = curation;
        Typosquat = typosquat;
        Signals = Curation.SignalsFor(environment, typosquat);
        // The root list has no one project to decide: its renderer decides each name as it writes the list.
        Decision = project.Length == 0
            ? Decision.Allow("the root list: each name is decided as the list is rendered")
            : curation.Decide(environment, new DecisionSubject(project), UpstreamFacts.None, Signals);
    }

    private readonly CuratedIndexMetrics _metrics;

    public EnvironmentPolicy Environment { get; }

    /// <summary>The endpoint's <see cref="IndexKind"/> (simple, files, json, provenance), for metrics.</summary>
    public string Kind { get; }

    /// <summary>The account whose token was presented, or <see cref="IndexAccess.Anonymous"/> in an open environment.</summary>
    public string Caller { get; }

    /// <summary>The normalized project name; empty for the root list.</summary>
    public string Project { get; }

    public Curation Curation { get; }

    /// <summary>The project's typosquat finding (in every environment; only <c>typosquat: block</c> ones decide with it).</summary>
    public TyposquatSignal? Typosquat { get; }

    /// <summary>The signals this environment decides with, computed once per request.</summary>
    public DecisionSignals Signals { get; }

    /// <summary>The project-level decision without upstream's facts, made before any upstream request.</summary>
    public Decision Decision { get; }

    /// <summary>The decision for the project, a release or a file of it, with upstream's facts once they are known.</summary>
    public Decision Decide(UpstreamFacts facts, string? version = null, string? filename = null) =>
        Curation.Decide(Environment, new DecisionSubject(Project, version, filename), facts, Signals);

    /// <summary>
    /// Says which decision the answer follows: a hidden one is counted by its rule (<c>curated_index.index.hidden</c>).
    /// Called once per answer, where the endpoint answers from a decision.
    /// </summary>
    public void Answered(Decision decision) => _metrics.Answered(Environment.Name, Kind, decision);

    /// <summary>Counts a stored artifact served (hit) or fetched from upstream first (miss).</summary>
    public void ArtifactLookup(bool stored) => _metrics.CacheLookup(UpstreamTags.Artifact, stored ? UpstreamTags.Hit : UpstreamTags.Miss);

    /// <summary>
    /// Rules that never ask upstream: a denied, internal or typosquat-blocked project is answered from our own decision.
    /// The other hidden rules (not approved, not vetted) may ask: a page shows only projects upstream has, and a not-approved
    /// request is demand for a review.
    /// </summary>
    public static bool DecidedWithoutUpstream(DecisionRule rule) => rule is DecisionRule.Denied or DecisionRule.Internal or DecisionRule.Typosquat;

    public static IResult UnknownEnvironment(string env) =>
        PlainResults.NotFound(Policies.EnvironmentName.IsValid(env) ? $"unknown environment '{env}'" : "unknown environment");

    /// <summary><paramref name="cacheControl"/> with <c>public</c> replaced by <c>private</c> (and <c>private</c> when empty).</summary>
    internal static string PrivateCacheControl(string cacheControl)
    {
        var directives = cacheControl.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(d => !d.Equals("public", StringComparison.OrdinalIgnoreCase) && !d.Equals("private", StringComparison.OrdinalIgnoreCase))
            .Append("private");
        return string.Join(", ", directives);
    }
}

/// <summary>How one endpoint answers before it asks upstream.</summary>
/// <param name="NotFound">The endpoint's answer for a name it does not know; an internal name gets exactly this.</param>
/// <param name="Hidden">The answer for a denied or typosquat-blocked project.</param>
/// <param name="Canonical">The path to redirect to for a request that is not in canonical form (given the normalized name), or null.</param>
internal sealed record IndexAnswers(Func<IResult> NotFound, Func<IndexRequest, IResult> Hidden, Func<string, string?>? Canonical = null);

/// <summary>Opens <see cref="IndexRequest"/>s: the one request path of every index endpoint.</summary>
internal sealed class IndexRequests(
    PolicyStore policies,
    CurationStore curations,
    IndexAccess access,
    ProjectPageCache pages,
    DependencyConfusionAlerts alerts,
    CuratedIndexMetrics metrics,
    ILogger<IndexRequests> logger)
{
    /// <summary>The checks that need no project name: environment and access (the root list).</summary>
    public async Task<(IndexRequest? Request, IResult? Refusal)> OpenRootAsync(HttpContext context, string env)
    {
        if (policies.FindEnvironment(env) is not { } environment)
        {
            return (null, IndexRequest.UnknownEnvironment(env));
        }

        KeepPrivate(context, environment);
        var kind = IndexKind.Of(context.Request.Path);
        metrics.IndexRequest(environment.Name, environment.Tier, kind);
        var (caller, unauthorized) = await access.CheckAsync(context, environment);
        return unauthorized is not null ? (null, unauthorized) : (new IndexRequest(environment, caller!, "", curations.Current, null, metrics, kind), null);
    }

    /// <summary>
    /// Environment, access, project name, curation, typosquat signal and project-level decision, in that order, before any
    /// upstream request. Returns the request, or the answer to send instead: a refusal (404 unknown environment, 401,
    /// 400 bad name), the handler's <see cref="IndexAnswers.Canonical"/> redirect, <see cref="IndexAnswers.NotFound"/> for
    /// an internal name (byte for byte what an unknown name gets, so internal names cannot be probed), or
    /// <see cref="IndexAnswers.Hidden"/> for a denied or typosquat-blocked one.
    /// </summary>
    public async Task<(IndexRequest? Request, IResult? Answer)> OpenAsync(HttpContext context, string env, string project, IndexAnswers answers)
    {
        if (policies.FindEnvironment(env) is not { } environment)
        {
            return (null, IndexRequest.UnknownEnvironment(env));
        }

        KeepPrivate(context, environment);
        var kind = IndexKind.Of(context.Request.Path);
        metrics.IndexRequest(environment.Name, environment.Tier, kind);
        var (caller, unauthorized) = await access.CheckAsync(context, environment);
        if (unauthorized is not null)
        {
            return (null, unauthorized);
        }

        if (project.Length > ProjectName.MaxLength)
        {
            return (null, PlainResults.Text(StatusCodes.Status400BadRequest, $"invalid project name: longer than {ProjectName.MaxLength} characters"));
        }

        if (!ProjectName.IsValid(project))
        {
            return (null, PlainResults.Text(StatusCodes.Status400BadRequest, "invalid project name: use letters, digits, '.', '-' and '_', starting and ending with a letter or digit"));
        }

        var normalized = ProjectName.Normalize(project);
        if (answers.Canonical?.Invoke(normalized) is { } location)
        {
            return (null, PlainResults.MovedPermanently(location));
        }

        // The typosquat check is a few dictionary lookups, made once per request.
        var curation = curations.Current;
        IndexRequest request;
        using (var activity = Telemetry.Source.StartActivity("curated_index.decision"))
        {
            request = new IndexRequest(environment, caller!, normalized, curation, curation.Typosquat(normalized), metrics, kind);
            activity?.SetTag("curated_index.env", environment.Name);
            activity?.SetTag("curated_index.project", normalized);
            activity?.SetTag("curated_index.decision.rule", CuratedIndexMetrics.RuleName(request.Decision.Rule));
            activity?.SetTag("curated_index.decision.visible", request.Decision.Visible);
        }

        switch (request.Decision.Rule)
        {
            case DecisionRule.Internal:
                // Asking upstream whether it has an internal name is the one deliberate upstream lookup for a hidden name:
                // it raises the dependency-confusion alert. Its outcome never changes the answer.
                request.Answered(request.Decision);
                await CheckInternalAsync(normalized, env, context.RequestAborted);
                return (null, answers.NotFound());
            case var rule when IndexRequest.DecidedWithoutUpstream(rule):
                request.Answered(request.Decision);
                return (null, answers.Hidden(request));
            default:
                return (request, null);
        }
    }

    // A token-protected environment's answers are the caller's own: no shared cache may keep them for another caller.
    // Handlers (and the artifact fetcher) set PyPI's public values; this turns them private just before the headers go out.
    private static void KeepPrivate(HttpContext context, EnvironmentPolicy environment)
    {
        if (environment.Access != IndexAccessMode.Token)
        {
            return;
        }

        context.Response.OnStarting(MakePrivate, context.Response);
    }

    // Static, with the response as state: no closure per request.
    private static readonly Func<object, Task> MakePrivate = state =>
    {
        var headers = ((HttpResponse)state).Headers;
        headers.CacheControl = IndexRequest.PrivateCacheControl(headers.CacheControl.ToString());
        headers.Vary = headers.Vary.Count == 0 ? "Authorization" : $"{headers.Vary}, Authorization";
        return Task.CompletedTask;
    };

    // Raises the dependency-confusion alert when upstream has the internal name; best effort, never throws.
    private async Task CheckInternalAsync(string project, string env, CancellationToken cancellationToken)
    {
        if (alerts.IsRaised(project))
        {
            // Raised already: asking upstream again would change nothing.
            return;
        }

        try
        {
            var lookup = await pages.GetAsync(project, cancellationToken);
            if (lookup.Status == LookupStatus.Found)
            {
                await alerts.RaiseAsync(project, $"on a request in '{env}'", cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            AlertLog.CheckFailed(logger, project, e);
        }
    }
}

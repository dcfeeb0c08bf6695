using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Alerts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.Net.Http.Headers;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>PEP 503/691 endpoints: <c>/{env}/simple/</c> and <c>/{env}/simple/{project}/</c>.</summary>
public static class SimpleIndexEndpoints
{
    // PyPI's values (PROTOCOL.md J1): short, because policy changes reach clients only when it expires.
    public const string PageCacheControl = "max-age=600, public";

    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    public static void MapSimpleIndex(this IEndpointRouteBuilder app)
    {
        // Routing treats "/x" and "/x/" alike, so each handler checks the trailing slash itself (PROTOCOL.md A2).
        app.MapMethods("/{env}/simple", GetAndHead, RootAsync);
        app.MapMethods("/{env}/simple/{project}", GetAndHead, ProjectAsync);
    }

    private static async Task<IResult> RootAsync(string env, HttpContext context, PolicyStore policies, CurationStore curations, IndexAccess access, RootIndexService roots)
    {
        if (policies.FindEnvironment(env) is not { } environment)
        {
            return IndexRequest.UnknownEnvironment(env);
        }

        if ((await access.CheckAsync(context, environment)).Refusal is { } unauthorized)
        {
            return unauthorized;
        }

        if (!context.Request.Path.Value!.EndsWith('/'))
        {
            return PlainResults.MovedPermanently($"{context.Request.PathBase}/{env}/simple/");
        }

        var format = SimpleMediaTypes.Negotiate(context.Request.Headers.Accept.ToString());
        var (root, failure) = await roots.GetAsync(environment, curations.Current, format, ProxyUrls.For(context.Request), context.RequestAborted);
        if (root is null)
        {
            return PlainResults.BadGateway(failure ?? "the project list is unavailable");
        }

        PlainResults.AddIndexHeaders(context.Response, PageCacheControl, root.LastSerial, negotiated: true);
        return Results.File(root.Path, SimpleMediaTypes.ContentType(format), entityTag: EntityTagHeaderValue.Parse(root.ETag));
    }

    private static async Task<IResult> ProjectAsync(
        string env,
        string project,
        HttpContext context,
        PolicyStore policies,
        CurationStore curations,
        IndexAccess access,
        ProjectPageCache pages,
        SimplePageRenderer renderer,
        ReviewQueue queue,
        RequestCounter counter,
        TyposquatScreening typosquats,
        DependencyConfusionAlerts alerts,
        ILogger<ReviewQueue> logger)
    {
        if (IndexRequest.Resolve(policies, env, project, out var environment, out var normalized) is { } refusal)
        {
            return refusal;
        }

        var (caller, unauthorized) = await access.CheckAsync(context, environment);
        if (unauthorized is not null)
        {
            return unauthorized;
        }

        if (normalized != project || !context.Request.Path.Value!.EndsWith('/'))
        {
            return PlainResults.MovedPermanently($"{context.Request.PathBase}/{env}/simple/{normalized}/");
        }

        var format = SimpleMediaTypes.Negotiate(context.Request.Headers.Accept.ToString());
        var urls = ProxyUrls.For(context.Request);
        var curation = curations.Current;

        // The typosquat check is a few dictionary lookups; its finding is written once per name and imitated project.
        var typosquat = curation.Typosquat(normalized);
        var signals = Curation.SignalsFor(environment, typosquat);
        var decision = curation.Decide(environment, new DecisionSubject(normalized), UpstreamFacts.None, signals);
        RenderedPage page;
        if (decision.Rule == DecisionRule.Internal)
        {
            // An internal name: never from the public upstream. The cached page lookup only tells whether upstream has
            // a project under that name, which is a dependency-confusion alert.
            await CheckInternalAsync(pages, alerts, normalized, env, logger, context.RequestAborted);
            page = SimplePageRenderer.RenderBlocked(normalized, decision, format, urls, env);
        }
        else if (decision.Rule is DecisionRule.Denied or DecisionRule.Typosquat)
        {
            // Denied, or blocked as a typosquat: answer without upstream's page, as a quarantined page so that a
            // client cannot fall through to another index (PROTOCOL.md H2). The finding is recorded only for a name
            // upstream has (one cached lookup, once per name on this node), so made-up names cannot fill the findings.
            if (typosquat is not null && !typosquats.IsRecorded(normalized, typosquat)
                && await UpstreamHasAsync(pages, normalized, logger, context.RequestAborted))
            {
                await typosquats.TryRecordAsync(normalized, typosquat, context.RequestAborted);
            }

            page = SimplePageRenderer.RenderBlocked(normalized, decision, format, urls, env);
        }
        else
        {
            var lookup = await pages.GetAsync(normalized, context.RequestAborted);
            if (lookup.Status == LookupStatus.NotFound)
            {
                // Not upstream: nothing to review, and PyPI's answer is a 404.
                return PlainResults.NotFound();
            }

            await typosquats.TryRecordAsync(normalized, typosquat, context.RequestAborted);

            // Upstream's facts (PEP 792 status) are known now: decide again with them, as explain does.
            decision = curation.Decide(environment, new DecisionSubject(normalized), new UpstreamFacts(lookup.Value?.Page.Status?.Status), signals);
            if (decision.Rule == DecisionRule.NotApproved)
            {
                // Not approved: the request is demand for a review, and the page names the review request.
                decision = decision with { Reason = await DemandAsync(queue, normalized, env, caller!, decision.Reason, typosquat, logger, context) };
            }

            if (!decision.Visible)
            {
                page = SimplePageRenderer.RenderBlocked(normalized, decision, format, urls, env);
            }
            else if (lookup.Status == LookupStatus.Failed)
            {
                return PlainResults.BadGateway(lookup.Reason ?? "upstream failed");
            }
            else
            {
                page = renderer.Render(environment, curation, signals, lookup.Value!, lookup.Stamp, format, urls);
            }
        }

        counter.Count(env, decision.Visible ? RequestOutcome.Served : RequestOutcome.Blocked);
        await PlainResults.WriteIndexDocumentAsync(context, page, SimpleMediaTypes.ContentType(format), PageCacheControl, negotiated: true);
        return Results.Empty;
    }

    // A failure to count demand must not turn a refusal into an error: the client still gets the quarantined page.
    private static async Task<string> DemandAsync(ReviewQueue queue, string project, string env, string caller, string reason, TyposquatSignal? typosquat, ILogger logger, HttpContext context)
    {
        try
        {
            // The client address after the forwarded-headers step: a proxy's X-Forwarded-For counts only from Server:KnownProxies.
            var requestId = await queue.RecordDemandAsync(project, env, caller, typosquat, context.RequestAborted, context.Connection.RemoteIpAddress);
            return $"{reason}; review request #{requestId}";
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ReviewLog.DemandFailed(logger, project, e);
            return reason;
        }
    }

    // Best effort, like the other bookkeeping here: a failed lookup records nothing and changes no answer.
    private static async Task<bool> UpstreamHasAsync(ProjectPageCache pages, string project, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            return (await pages.GetAsync(project, cancellationToken)).Status == LookupStatus.Found;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            TyposquatLog.RecordFailed(logger, project, e);
            return false;
        }
    }

    private static async Task CheckInternalAsync(ProjectPageCache pages, DependencyConfusionAlerts alerts, string project, string env, ILogger logger, CancellationToken cancellationToken)
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

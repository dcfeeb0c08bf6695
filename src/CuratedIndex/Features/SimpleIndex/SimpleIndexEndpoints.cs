using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.Review;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.SimpleApi;
using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Features.SimpleIndex;

/// <summary>PEP 503/691 endpoints: <c>/{env}/simple/</c> and <c>/{env}/simple/{project}/</c>.</summary>
public static class SimpleIndexEndpoints
{
    // PyPI's values (PROTOCOL.md J1): short, because policy changes reach clients only when it expires.
    public const string PageCacheControl = "max-age=600, public";

    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>
    /// The one request path (<see cref="IndexRequests"/>) every index endpoint opens with, the upstream page and document
    /// caches the endpoints share, the renderer and the root list.
    /// </summary>
    public static void AddSimpleIndex(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<CacheOptions>(CacheOptions.Section);
        builder.Services.AddSingleton<CacheMemory>();
        builder.Services.AddSingleton<ProxyUrls>();
        builder.Services.AddSingleton<IndexRequests>();
        builder.Services.AddSingleton<ProjectPageCache>();
        builder.Services.AddSingleton<RenderCache>();
        builder.Services.AddSingleton<SimplePageRenderer>();
        builder.Services.AddSingleton<RootIndexService>();
    }

    public static void MapSimpleIndex(this IEndpointRouteBuilder app)
    {
        // Routing treats "/x" and "/x/" alike, so each handler checks the trailing slash itself (PROTOCOL.md A2).
        app.MapMethods("/{env}/simple", GetAndHead, RootAsync);
        app.MapMethods("/{env}/simple/{project}", GetAndHead, ProjectAsync);
    }

    private static async Task<IResult> RootAsync(string env, HttpContext context, IndexRequests requests, RootIndexService roots)
    {
        var (request, refusal) = await requests.OpenRootAsync(context, env);
        if (request is null)
        {
            return refusal!;
        }

        if (!context.Request.Path.Value!.EndsWith('/'))
        {
            return PlainResults.MovedPermanently($"{context.Request.PathBase}/{env}/simple/");
        }

        var format = SimpleMediaTypes.Negotiate(context.Request.Headers.Accept.ToString());
        var gzip = AcceptEncoding.AcceptsGzip(context.Request.Headers.AcceptEncoding);
        // A newer rendering (a decision, a refreshed upstream list) may replace the files between lookup and open: look again.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var (root, failure) = await roots.GetAsync(request.Environment, format, context.RequestAborted);
            if (root is null)
            {
                return PlainResults.BadGateway(failure ?? "the project list is unavailable");
            }

            // A revalidation that still matches needs no file: 304 with the headers.
            if (PlainResults.IfNoneMatchMatches(context.Request.Headers.IfNoneMatch, gzip ? root.GzipETag : root.ETag))
            {
                return new RootListResult(root, null, gzip, SimpleMediaTypes.ContentType(format));
            }

            if (root.TryOpen(gzip) is { } file)
            {
                return new RootListResult(root, file, gzip, SimpleMediaTypes.ContentType(format));
            }
        }

        return PlainResults.Text(StatusCodes.Status503ServiceUnavailable, "the project list is being rendered again; retry");
    }

    // Sends the open file and closes it, whatever happens to the request; without a file, the 304 its ETag earned.
    private sealed record RootListResult(RenderedRoot Root, SafeFileHandle? File, bool Gzip, string ContentType) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            using (File)
            {
                await PlainResults.WriteIndexFileAsync(httpContext, File, Gzip ? Root.GzipETag : Root.ETag, Gzip,
                    new PlainResults.IndexDocumentHeaders(ContentType, PageCacheControl, Root.LastSerial, Negotiated: true));
            }
        }
    }

    private static async Task<IResult> ProjectAsync(
        string env,
        string project,
        HttpContext context,
        IndexRequests requests,
        ProxyUrls urls,
        ProjectPageCache pages,
        SimplePageRenderer renderer,
        ReviewQueue queue,
        RequestCounter counter,
        TyposquatScreening typosquats,
        Tier3Requests tier3,
        ILogger<ReviewQueue> logger)
    {
        var format = SimpleMediaTypes.Negotiate(context.Request.Headers.Accept.ToString());
        var (request, answer) = await requests.OpenAsync(context, env, project, new IndexAnswers(
            NotFound: () => PlainResults.NotFound(),
            // Denied, or blocked as a typosquat: a quarantined page, so that a client cannot fall through to another index
            // (PROTOCOL.md H2). No finding is recorded here: that would need upstream's word that the name exists, and a
            // blocked name never causes an upstream request (the UpstreamNames job records lookalikes upstream lists).
            Hidden: hidden => Blocked(counter, env, SimplePageRenderer.RenderBlocked(hidden.Project, hidden.Decision.ForIndexClients(), format, urls, env), format),
            Canonical: normalized => normalized != project || !context.Request.Path.Value!.EndsWith('/') ? $"{context.Request.PathBase}/{env}/simple/{normalized}/" : null));
        if (request is null)
        {
            return answer!;
        }

        var lookup = await pages.GetAsync(request.Project, context.RequestAborted);
        if (lookup.Status == LookupStatus.NotFound)
        {
            // Not upstream: nothing to review, and PyPI's answer is a 404.
            return PlainResults.NotFound();
        }

        // Written once per name and imitated project, and only for names upstream has, so made-up names cannot fill the findings.
        await typosquats.TryRecordAsync(request.Project, request.Typosquat, context.RequestAborted);

        // Upstream's facts (PEP 792 status) are known now: decide again with them, as explain does.
        var decision = request.Decide(new UpstreamFacts(lookup.Value?.Page.Status?.Status));
        if (decision.Rule == DecisionRule.NotApproved)
        {
            // Not approved: the request is demand for a review, and the page names the review request.
            decision = decision with { Reason = await DemandAsync(queue, request.Project, env, request.Caller, decision.Reason, request.Typosquat, logger, context) };
        }

        RenderedPage page;
        if (!decision.Visible)
        {
            page = SimplePageRenderer.RenderBlocked(request.Project, decision.ForIndexClients(), format, urls, env);
        }
        else if (lookup.Status == LookupStatus.Failed)
        {
            return PlainResults.BadGateway(lookup.Reason ?? "upstream failed");
        }
        else
        {
            page = await renderer.RenderAsync(request.Environment, request.Curation, request.Signals, lookup.Value!, lookup.Stamp, format, urls);
            if (request.Environment.Tier == Tier.Vetted)
            {
                await tier3.ObserveAsync(request, lookup.Value!, lookup.Stamp, context);
            }
        }

        counter.Count(env, decision.Visible ? RequestOutcome.Served : RequestOutcome.Blocked);
        request.Answered(decision);
        return PlainResults.IndexDocument(page, SimpleMediaTypes.ContentType(format), PageCacheControl, negotiated: true);
    }

    private static IResult Blocked(RequestCounter counter, string env, RenderedPage page, SimpleFormat format)
    {
        counter.Count(env, RequestOutcome.Blocked);
        return PlainResults.IndexDocument(page, SimpleMediaTypes.ContentType(format), PageCacheControl, negotiated: true);
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
}

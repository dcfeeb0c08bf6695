using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
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

    private static async Task<IResult> RootAsync(string env, HttpContext context, PolicyStore policies, RootIndexService roots)
    {
        if (policies.FindEnvironment(env) is not { } environment)
        {
            return IndexRequest.UnknownEnvironment(env);
        }

        if (!context.Request.Path.Value!.EndsWith('/'))
        {
            return PlainResults.MovedPermanently($"{context.Request.PathBase}/{env}/simple/");
        }

        var format = SimpleMediaTypes.Negotiate(context.Request.Headers.Accept.ToString());
        var (root, failure) = await roots.GetAsync(environment, policies.Current, format, ProxyUrls.For(context.Request), context.RequestAborted);
        if (root is null)
        {
            return PlainResults.BadGateway(failure ?? "the project list is unavailable");
        }

        var response = context.Response;
        response.Headers.Vary = "Accept";
        response.Headers.CacheControl = PageCacheControl;
        if (root.LastSerial is { } serial)
        {
            response.Headers["X-PyPI-Last-Serial"] = serial.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        PlainResults.AddCors(response);
        return Results.File(root.Path, SimpleMediaTypes.ContentType(format), entityTag: EntityTagHeaderValue.Parse(root.ETag));
    }

    private static async Task<IResult> ProjectAsync(
        string env,
        string project,
        HttpContext context,
        PolicyStore policies,
        ProjectPageCache pages,
        SimplePageRenderer renderer)
    {
        if (IndexRequest.Resolve(policies, env, project, out var environment, out var normalized) is { } refusal)
        {
            return refusal;
        }

        if (normalized != project || !context.Request.Path.Value!.EndsWith('/'))
        {
            return PlainResults.MovedPermanently($"{context.Request.PathBase}/{env}/simple/{normalized}/");
        }

        var format = SimpleMediaTypes.Negotiate(context.Request.Headers.Accept.ToString());
        var urls = ProxyUrls.For(context.Request);
        var policy = policies.Current;

        // Hidden by policy alone: answer without asking upstream, as a quarantined page so that a
        // client cannot fall through to another index (PROTOCOL.md H2).
        var decision = DecisionFunction.Decide(environment, policy, new DecisionSubject(normalized), UpstreamFacts.None);
        RenderedPage page;
        if (!decision.Visible)
        {
            page = SimplePageRenderer.RenderBlocked(normalized, decision, format, urls, env);
        }
        else
        {
            var lookup = await pages.GetAsync(normalized, context.RequestAborted);
            switch (lookup.Status)
            {
                case LookupStatus.NotFound:
                    return PlainResults.NotFound();
                case LookupStatus.Failed:
                    return PlainResults.BadGateway(lookup.Reason ?? "upstream failed");
            }

            page = renderer.Render(environment, policy, lookup.Value!, lookup.Stamp, format, urls);
        }

        await PlainResults.WriteIndexDocumentAsync(context, page, SimpleMediaTypes.ContentType(format), PageCacheControl, negotiated: true);
        return Results.Empty;
    }
}

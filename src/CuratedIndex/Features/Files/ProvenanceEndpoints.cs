using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol;
using Yarp.ReverseProxy.Forwarder;

namespace CuratedIndex.Features.Files;

/// <summary>
/// PEP 740 provenance, passed through from upstream via YARP's forwarder. Not cached: provenance objects
/// can gain attestations later (PROTOCOL.md G4), so PyPI's max-age=600 applies.
/// </summary>
public static class ProvenanceEndpoints
{
    // PyPI's value: provenance can gain attestations later.
    private const string ProvenanceCacheControl = "max-age=600, public";

    public static void MapProvenance(this IEndpointRouteBuilder app) =>
        app.MapGet("/{env}/integrity/{project}/{version}/{filename}/provenance", ProvenanceAsync);

    private static async Task<IResult> ProvenanceAsync(
        string env,
        string project,
        string version,
        string filename,
        HttpContext context,
        PolicyStore policies,
        CurationStore curations,
        IndexAccess access,
        ProjectPageCache pages,
        FileHostGuard hostGuard,
        IHttpForwarder forwarder,
        ProvenanceInvoker invoker,
        TyposquatScreening typosquats)
    {
        if (IndexRequest.Resolve(policies, env, project, out var environment, out var normalized) is { } refusal)
        {
            return refusal;
        }

        if ((await access.CheckAsync(context, environment)).Refusal is { } unauthorized)
        {
            return unauthorized;
        }

        var lookup = await pages.GetAsync(normalized, context.RequestAborted);
        var curation = curations.Current;
        var typosquat = curation.Typosquat(normalized);
        if (lookup.Value is not null)
        {
            // Screened once per request; the finding is written once per name and imitated project.
            await typosquats.TryRecordAsync(normalized, typosquat, context.RequestAborted);
        }

        if (lookup.Value?.FilesByName.GetValueOrDefault(filename) is not { Provenance: { } provenance } file
            || SimplePageRenderer.VersionOf(normalized, file.Filename) != version
            || !curation.Decide(environment, new DecisionSubject(normalized, version, filename), new UpstreamFacts(lookup.Value.Page.Status?.Status), Curation.SignalsFor(environment, typosquat)).Visible)
        {
            return Results.Json(new { message = $"No provenance available for {filename}" }, statusCode: StatusCodes.Status404NotFound);
        }

        var source = new Uri(provenance);
        if (!hostGuard.IsAllowed(source))
        {
            return PlainResults.BadGateway($"provenance of '{filename}' points at a host that is not allowed ({source.Authority})");
        }

        context.Response.Headers.CacheControl = ProvenanceCacheControl;
        context.Response.Headers.Vary = "Accept";
        var error = await forwarder.SendAsync(context, $"{source.Scheme}://{source.Authority}", invoker.Invoker, ForwarderRequestConfig.Empty, new ProvenanceTransformer(source));
        return error == ForwarderError.None || context.Response.HasStarted
            ? Results.Empty
            : PlainResults.BadGateway($"provenance of '{filename}' could not be fetched ({error})");
    }

    /// <summary>Only the Accept header travels upstream; the path is the one the upstream page named.</summary>
    private sealed class ProvenanceTransformer(Uri source) : HttpTransformer
    {
        public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            proxyRequest.Method = HttpMethod.Get;
            proxyRequest.RequestUri = source;
            var accept = httpContext.Request.Headers.Accept.ToString();
            proxyRequest.Headers.TryAddWithoutValidation("Accept", accept.Length == 0 ? "application/vnd.pypi.integrity.v1+json" : accept);
            return ValueTask.CompletedTask;
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            httpContext.Response.Headers.CacheControl = ProvenanceCacheControl;
            httpContext.Response.Headers.Remove("Set-Cookie");
            return copy;
        }
    }
}

/// <summary>The HTTP client the provenance passthrough forwards with (no redirects, no cookies).</summary>
public sealed class ProvenanceInvoker : IDisposable
{
    public HttpMessageInvoker Invoker { get; } = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    public void Dispose() => Invoker.Dispose();
}

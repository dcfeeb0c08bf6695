using CuratedIndex.Data;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Provenance;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
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

    /// <summary>PEP 740's media type for a provenance object, the only Content-Type this endpoint sends with one.</summary>
    public const string ProvenanceMediaType = "application/vnd.pypi.integrity.v1+json";

    public static void MapProvenance(this IEndpointRouteBuilder app) =>
        app.MapGet("/{env}/integrity/{project}/{version}/{filename}/provenance", ProvenanceAsync);

    private static async Task<IResult> ProvenanceAsync(
        string env,
        string project,
        string version,
        string filename,
        HttpContext context,
        IndexRequests requests,
        ProjectPageCache pages,
        FileHostGuard hostGuard,
        IHttpForwarder forwarder,
        ProvenanceInvoker invoker,
        TyposquatScreening typosquats,
        ProvenanceChecks checks)
    {
        IResult NoProvenance() => Results.Json(new { message = $"No provenance available for {filename}" }, statusCode: StatusCodes.Status404NotFound);

        // Hidden projects (denied, internal, blocked, not approved) answer exactly as unknown ones, without asking upstream.
        var (request, answer) = await requests.OpenAsync(context, env, project, new IndexAnswers(NotFound: NoProvenance, Hidden: _ => NoProvenance()));
        if (request is null)
        {
            return answer!;
        }

        var decision = request.Decide(UpstreamFacts.None, version, filename);
        if (!decision.Visible)
        {
            request.Answered(decision);
            return NoProvenance();
        }

        var lookup = await pages.GetAsync(request.Project, context.RequestAborted);
        if (lookup.Value is not null)
        {
            // Screened once per request; the finding is written once per name and imitated project.
            await typosquats.TryRecordAsync(request.Project, request.Typosquat, context.RequestAborted);
        }

        if (lookup.Value?.FilesByName.GetValueOrDefault(filename) is not { Provenance: { } provenance } file
            || SimplePageRenderer.VersionOf(request.Project, file.Filename) != version
            || !request.Decide(new UpstreamFacts(lookup.Value.Page.Status?.Status).ForListedFile(file.Sha256), version, filename).Visible)
        {
            return NoProvenance();
        }

        if (request.Environment.Tier == Tier.Vetted)
        {
            // Tier 3 serves only what CuratedIndex verified itself: the stored copy, checked now on a first request.
            var checkedFile = await checks.CheckFileAsync(request.Project, file, context.RequestAborted);
            if (checkedFile is not { State: ProvenanceStateText.Verified, Document: { } document })
            {
                return Results.Json(
                    new { message = $"No verified provenance for {filename}: {checkedFile.State}{(checkedFile.Failure is null ? "" : $" ({checkedFile.Failure})")}" },
                    statusCode: checkedFile.State == ProvenanceStateText.Unavailable ? StatusCodes.Status502BadGateway : StatusCodes.Status404NotFound);
            }

            context.Response.Headers.CacheControl = ProvenanceCacheControl;
            return Results.Bytes(document, ProvenanceMediaType);
        }

        var source = new Uri(provenance);
        if (hostGuard.Refusal(source) is { } refused)
        {
            return PlainResults.BadGateway($"provenance of '{filename}' points at {refused}");
        }

        context.Response.Headers.CacheControl = ProvenanceCacheControl;
        context.Response.Headers.Vary = "Accept";
        var transformer = new ProvenanceTransformer(source);
        var error = await forwarder.SendAsync(context, $"{source.Scheme}://{source.Authority}", invoker.Invoker, ForwarderRequestConfig.Empty, transformer);
        if (context.Response.HasStarted)
        {
            return Results.Empty;
        }

        if (error != ForwarderError.None || transformer.UpstreamStatus != StatusCodes.Status200OK)
        {
            // Our own answer follows: PyPI's caching was for the provenance object, not for an error.
            context.Response.Headers.CacheControl = default;
            context.Response.Headers.Vary = default;
        }

        return error != ForwarderError.None
            ? PlainResults.BadGateway($"provenance of '{filename}' could not be fetched ({error})")
            : transformer.UpstreamStatus switch
            {
                StatusCodes.Status200OK => Results.Empty,
                StatusCodes.Status404NotFound => NoProvenance(),
                var status => PlainResults.BadGateway($"provenance of '{filename}' could not be fetched (upstream answered {status})"),
            };
    }

    /// <summary>
    /// Only the Accept header travels upstream; the path is the one the upstream page named. Only a 200 body is passed on,
    /// always as the PEP 740 media type: upstream's Content-Type (text/html, say) never reaches the client.
    /// </summary>
    private sealed class ProvenanceTransformer(Uri source) : HttpTransformer
    {
        public int? UpstreamStatus { get; private set; }

        public override ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            proxyRequest.Method = HttpMethod.Get;
            proxyRequest.RequestUri = source;
            var accept = httpContext.Request.Headers.Accept.ToString();
            proxyRequest.Headers.TryAddWithoutValidation("Accept", accept.Length == 0 ? ProvenanceMediaType : accept);
            return ValueTask.CompletedTask;
        }

        public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
        {
            UpstreamStatus = proxyResponse is null ? null : (int)proxyResponse.StatusCode;
            if (UpstreamStatus != StatusCodes.Status200OK)
            {
                // The handler answers instead (404 as PyPI words it, or 502); nothing of upstream's answer is copied.
                return false;
            }

            var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
            httpContext.Response.ContentType = ProvenanceMediaType;
            httpContext.Response.Headers.CacheControl = ProvenanceCacheControl;
            httpContext.Response.Headers.Remove("Set-Cookie");
            // X-Accel-* are instructions to an nginx in front (serve this internal file, change the rate): only CuratedIndex gives them.
            foreach (var name in httpContext.Response.Headers.Keys.Where(n => n.StartsWith("X-Accel-", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                httpContext.Response.Headers.Remove(name);
            }

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
        ConnectCallback = SocketThreads.ConnectAsync, // as every upstream connection (this passthrough already runs on the thread pool)
        ConnectTimeout = TimeSpan.FromSeconds(15),
    });

    public void Dispose() => Invoker.Dispose();
}

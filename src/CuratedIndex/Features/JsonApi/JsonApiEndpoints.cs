using System.Text.Json;
using System.Text.Json.Nodes;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.SimpleApi;

namespace CuratedIndex.Features.JsonApi;

/// <summary>
/// PyPI's JSON API per environment: <c>/{env}/pypi/{project}/json</c> and <c>/{env}/pypi/{project}/{version}/json</c>,
/// filtered by the same decision function as the simple pages, with file URLs pointing at the proxy.
/// </summary>
public static class JsonApiEndpoints
{
    public const string CacheControl = "max-age=900, public";
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    public static void AddJsonApi(this WebApplicationBuilder builder) =>
        builder.Services.AddSingleton<JsonApiCache>();

    public static void MapJsonApi(this IEndpointRouteBuilder app)
    {
        // PyPI accepts the trailing slash here instead of redirecting (PROTOCOL.md A8); routing does too.
        app.MapMethods("/{env}/pypi/{project}/json", GetAndHead, (string env, string project, HttpContext context, IndexRequests requests, JsonApiCache cache, RenderCache rendered, TyposquatScreening typosquats, ProxyUrls urls, ReleaseDemand demand) =>
            ServeAsync(env, project, null, context, requests, cache, rendered, typosquats, urls, demand));
        app.MapMethods("/{env}/pypi/{project}/{version}/json", GetAndHead, (string env, string project, string version, HttpContext context, IndexRequests requests, JsonApiCache cache, RenderCache rendered, TyposquatScreening typosquats, ProxyUrls urls, ReleaseDemand demand) =>
            ServeAsync(env, project, version, context, requests, cache, rendered, typosquats, urls, demand));
    }

    private static async Task<IResult> ServeAsync(
        string env,
        string project,
        string? version,
        HttpContext context,
        IndexRequests requests,
        JsonApiCache cache,
        RenderCache rendered,
        TyposquatScreening typosquats,
        ProxyUrls urls,
        ReleaseDemand demand)
    {
        if (version is not null && (version.Length > 128 || !Pep440Version.TryParse(version, out _) && !DistributionFilename.IsSafe(version)))
        {
            // Checked first, as the route's own input: it says nothing about the project.
            return PlainResults.Text(StatusCodes.Status400BadRequest, "invalid version");
        }

        var suffix = version is null ? "json" : $"{Uri.EscapeDataString(version)}/json";
        var (request, answer) = await requests.OpenAsync(context, env, project, new IndexAnswers(
            NotFound: NotFound,
            Hidden: _ => NotFound(),
            Canonical: normalized => normalized != project ? $"{context.Request.PathBase}/{env}/pypi/{normalized}/{suffix}" : null));
        if (request is null)
        {
            return answer!;
        }

        var versionDecision = request.Decide(UpstreamFacts.None, version);
        if (!versionDecision.Visible)
        {
            request.Answered(versionDecision);
            if (versionDecision.Rule == DecisionRule.NotVetted && ReleaseVettings.NormalizeVersion(version) is { } wanted)
            {
                // A tier 3 request for a release that is not vetted is demand for it, as on the file endpoint.
                await demand.RecordAsync(request.Project, wanted, env, request.Caller, context.Connection.RemoteIpAddress, context.RequestAborted);
            }

            // Not approved or not vetted: hidden without asking upstream, as for an unknown name. No finding is recorded (the
            // simple page, which clients ask first, records them for names upstream has), so made-up names cannot fill the findings.
            return NotFound();
        }

        var key = version is null ? request.Project : $"{request.Project}/{version}";
        var lookup = await cache.GetAsync(key, context.RequestAborted);
        switch (lookup.Status)
        {
            case LookupStatus.NotFound:
                return NotFound();
            case LookupStatus.Failed:
                return PlainResults.BadGateway(lookup.Reason ?? "upstream failed");
        }

        await typosquats.TryRecordAsync(request.Project, request.Typosquat, context.RequestAborted);

        // Tier 3 describes the newest vetted release: its own document gives the project's "info" and "urls".
        byte[]? describedBody = null;
        var stamp = lookup.Stamp;
        if (version is null && request.Environment.Tier == Tier.Vetted)
        {
            if (NewestVisibleRelease(request) is not { } newest)
            {
                return NotFound();
            }

            var release = await cache.GetAsync($"{request.Project}/{newest}", context.RequestAborted);
            if (release.Status != LookupStatus.Found)
            {
                return release.Status == LookupStatus.Failed ? PlainResults.BadGateway(release.Reason ?? "upstream failed") : NotFound();
            }

            // Parsed by the rendering below, which runs only when the cache has none (and never on a socket thread).
            describedBody = release.Value!.Body;
            stamp = HashCode.Combine(lookup.Stamp, release.Stamp);
        }

        var page = await rendered.GetOrRenderAsync(new RenderKey("json-api", request.Environment.Name, key, ""), stamp, request.Curation, () =>
            Filter(request.Environment, request.Curation, request.Signals, request.Project, lookup.Value!.Body, urls, out var serial, describedBody is null ? null : JsonNode.Parse(describedBody)) is { } body
                ? new RenderedPage(body, serial)
                : null);
        return page is null ? NotFound() : PlainResults.IndexDocument(page, "application/json", CacheControl, negotiated: false);
    }

    /// <summary>
    /// Drops releases the environment may not see, rewrites file URLs to the proxy, and returns null when
    /// the described release itself is hidden. <paramref name="signals"/> are the project's, computed once per request.
    /// </summary>
    /// <remarks><paramref name="describedRelease"/>, when given, is the document of the release to describe (tier 3: the newest vetted one).</remarks>
    public static byte[]? Filter(EnvironmentPolicy environment, Curation curation, DecisionSignals signals, string project, byte[] upstreamBody, ProxyUrls urls, out long? serial, JsonNode? describedRelease = null)
    {
        var root = JsonNode.Parse(upstreamBody)!.AsObject();
        if (describedRelease is JsonObject release)
        {
            root["info"] = release["info"]?.DeepClone();
            root["urls"] = release["urls"]?.DeepClone();
        }

        serial = root["last_serial"] is JsonValue serialValue && serialValue.TryGetValue<long>(out var s) ? s : null;
        var status = root["info"]?["project_status"]?["status"]?.GetValue<string>();
        var facts = new UpstreamFacts(status);
        bool Visible(string? version) =>
            curation.Decide(environment, new DecisionSubject(project, version), facts, signals).Visible;

        var described = root["info"]?["version"]?.GetValue<string>();
        if (!Visible(null) || (described is not null && !Visible(described)))
        {
            return null;
        }

        if (root["releases"] is JsonObject releases)
        {
            foreach (var (version, files) in releases.ToList())
            {
                if (!Visible(version))
                {
                    releases.Remove(version);
                }
                else if (files is JsonArray array)
                {
                    RewriteFiles(array, environment, curation, signals, facts, project, urls);
                }
            }
        }

        if (root["urls"] is JsonArray describedFiles)
        {
            RewriteFiles(describedFiles, environment, curation, signals, facts, project, urls);
        }

        return JsonSerializer.SerializeToUtf8Bytes(root);
    }

    // Each file passes the decision function as on the simple page (tier 3: only pinned files with the pinned digest).
    private static void RewriteFiles(JsonArray files, EnvironmentPolicy environment, Curation curation, DecisionSignals signals, UpstreamFacts facts, string project, ProxyUrls urls)
    {
        foreach (var file in files.ToList())
        {
            var filename = (file as JsonObject)?["filename"] is JsonValue name && name.TryGetValue<string>(out var text) ? text : null;
            var sha256 = (file as JsonObject)?["digests"]?["sha256"] is JsonValue digest && digest.TryGetValue<string>(out var hex) ? hex : null;
            if (filename is null || !DistributionFilename.IsSafe(filename)
                || !curation.Decide(environment, new DecisionSubject(project, SimplePageRenderer.VersionOf(project, filename), filename), facts.ForListedFile(sha256), signals).Visible)
            {
                files.Remove(file);
                continue;
            }

            file!["url"] = urls.PublicFile(environment.Name, project, filename);
        }
    }

    // The newest release tier 3 shows for the request's project: vetted, and meeting the environment's criteria.
    private static string? NewestVisibleRelease(IndexRequest request)
    {
        Pep440Version? newest = null;
        foreach (var verdict in request.Curation.Vettings.Of(request.Project).Values)
        {
            if (verdict.Vetted && request.Decide(UpstreamFacts.None, verdict.Version).Visible && Pep440Version.TryParse(verdict.Version, out var parsed) && (newest is null || parsed > newest))
            {
                newest = parsed;
            }
        }

        return newest?.ToString();
    }

    private static IResult NotFound() =>
        Results.Json(new { message = "Not Found" }, statusCode: StatusCodes.Status404NotFound);
}

using System.Text.Json;
using System.Text.Json.Nodes;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
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
        app.MapMethods("/{env}/pypi/{project}/json", GetAndHead, (string env, string project, HttpContext context, IndexRequests requests, JsonApiCache cache, RenderCache rendered, TyposquatScreening typosquats, ProxyUrls urls) =>
            ServeAsync(env, project, null, context, requests, cache, rendered, typosquats, urls));
        app.MapMethods("/{env}/pypi/{project}/{version}/json", GetAndHead, (string env, string project, string version, HttpContext context, IndexRequests requests, JsonApiCache cache, RenderCache rendered, TyposquatScreening typosquats, ProxyUrls urls) =>
            ServeAsync(env, project, version, context, requests, cache, rendered, typosquats, urls));
    }

    private static async Task<IResult> ServeAsync(string env, string project, string? version, HttpContext context, IndexRequests requests, JsonApiCache cache, RenderCache rendered, TyposquatScreening typosquats, ProxyUrls urls)
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

        if (!request.Decide(UpstreamFacts.None, version).Visible)
        {
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
        var page = rendered.GetOrRender(new RenderKey("json-api", request.Environment.Name, key, ""), lookup.Stamp, request.Curation, () =>
            Filter(request.Environment, request.Curation, request.Signals, request.Project, lookup.Value!.Body, urls, out var serial) is { } body
                ? new RenderedPage(body, SimplePageRenderer.ETagOf(body), serial)
                : null);
        return page is null ? NotFound() : PlainResults.IndexDocument(page, "application/json", CacheControl, negotiated: false);
    }

    /// <summary>
    /// Drops releases the environment may not see, rewrites file URLs to the proxy, and returns null when
    /// the described release itself is hidden. <paramref name="signals"/> are the project's, computed once per request.
    /// </summary>
    public static byte[]? Filter(EnvironmentPolicy environment, Curation curation, DecisionSignals signals, string project, byte[] upstreamBody, ProxyUrls urls, out long? serial)
    {
        var root = JsonNode.Parse(upstreamBody)!.AsObject();
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
                    RewriteFiles(array, environment.Name, project, urls);
                }
            }
        }

        if (root["urls"] is JsonArray describedFiles)
        {
            RewriteFiles(describedFiles, environment.Name, project, urls);
        }

        return JsonSerializer.SerializeToUtf8Bytes(root);
    }

    private static void RewriteFiles(JsonArray files, string environment, string project, ProxyUrls urls)
    {
        foreach (var file in files.OfType<JsonObject>().ToList())
        {
            var filename = file["filename"]?.GetValue<string>();
            if (filename is null || !DistributionFilename.IsSafe(filename))
            {
                files.Remove(file);
                continue;
            }

            file["url"] = urls.PublicFile(environment, project, filename);
        }
    }

    private static IResult NotFound() =>
        Results.Json(new { message = "Not Found" }, statusCode: StatusCodes.Status404NotFound);
}

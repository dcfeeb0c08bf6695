using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.SimpleApi;
using CuratedIndex.Storage;
using Microsoft.Net.Http.Headers;

namespace CuratedIndex.Features.Files;

/// <summary>
/// <c>/{env}/files/{project}/{filename}</c> and its PEP 658 <c>.metadata</c>. Only files that the project's
/// page lists, and that the decision function shows to the environment, are served.
/// </summary>
public static class FileEndpoints
{
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    public static void MapFiles(this IEndpointRouteBuilder app) =>
        app.MapMethods("/{env}/files/{project}/{filename}", GetAndHead, FileAsync);

    private static async Task<IResult> FileAsync(
        string env,
        string project,
        string filename,
        HttpContext context,
        PolicyStore policies,
        CurationStore curations,
        IndexAccess access,
        ProjectPageCache pages,
        ArtifactFetcher fetcher,
        IArtifactStore store,
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

        if (!DistributionFilename.IsSafe(filename))
        {
            return PlainResults.Text(StatusCodes.Status400BadRequest, "invalid filename");
        }

        var isMetadata = filename.EndsWith(ArtifactRequest.MetadataSuffix, StringComparison.Ordinal);
        var distribution = isMetadata ? filename[..^ArtifactRequest.MetadataSuffix.Length] : filename;

        // Screened once per request, as on the simple pages; the finding is written once per name and imitated project.
        var curation = curations.Current;
        var typosquat = curation.Typosquat(normalized);
        var signals = Curation.SignalsFor(environment, typosquat);
        if (!curation.Decide(environment, new DecisionSubject(normalized), UpstreamFacts.None, signals).Visible)
        {
            // Hidden without asking upstream: a finding is recorded only for names upstream has (the simple page, which
            // clients ask first, records blocked ones), so made-up names cannot fill the findings.
            return PlainResults.NotFound();
        }

        // Which files exist comes from a page no older than Upstream:PageMaxAge (an older one only while upstream fails).
        var lookup = await pages.GetAsync(normalized, context.RequestAborted);
        if (lookup.Status == LookupStatus.Failed)
        {
            return PlainResults.BadGateway(lookup.Reason ?? "upstream failed");
        }

        if (lookup.Value is not { } cached)
        {
            return PlainResults.NotFound();
        }

        await typosquats.TryRecordAsync(normalized, typosquat, context.RequestAborted);
        if (!cached.FilesByName.TryGetValue(distribution, out var file))
        {
            return PlainResults.NotFound();
        }

        var version = SimplePageRenderer.VersionOf(normalized, distribution);
        var facts = new UpstreamFacts(cached.Page.Status?.Status);
        if (!curation.Decide(environment, new DecisionSubject(normalized, version, distribution), facts, signals).Visible)
        {
            return PlainResults.NotFound();
        }

        var request = isMetadata ? ArtifactRequest.ForMetadata(normalized, file) : ArtifactRequest.ForFile(normalized, file);
        if (request is null)
        {
            return PlainResults.NotFound();
        }

        if (await ServeStoredAsync(store, request, context.Response) is { } stored)
        {
            return stored;
        }

        // Stream to this client only for a plain GET; HEAD and Range requests wait for the verified file.
        var streamToClient = HttpMethods.IsGet(context.Request.Method) && !context.Request.Headers.ContainsKey(HeaderNames.Range);
        var outcome = await fetcher.FetchAsync(request, streamToClient ? context : null, context.RequestAborted);
        switch (outcome.Status)
        {
            case FetchStatus.Served:
                return Results.Empty;
            case FetchStatus.Failed when outcome.ClientStarted:
                // Part of the body is out; aborting is the only way to tell the client it is not the file.
                context.Abort();
                return Results.Empty;
            case FetchStatus.Failed:
                return PlainResults.BadGateway(outcome.Reason ?? "download failed");
        }

        return await ServeStoredAsync(store, request, context.Response) ?? PlainResults.BadGateway("the verified file is not in the store");
    }

    /// <summary>A stored artifact with immutable caching, HEAD, Range (206/416) and If-Range; null when it is not stored.</summary>
    private static async Task<IResult?> ServeStoredAsync(IArtifactStore store, ArtifactRequest request, HttpResponse response)
    {
        if (request.ExpectedSha256 is null)
        {
            return null;
        }

        var stored = await store.OpenAsync(request.StoreKey, CancellationToken.None);
        if (stored is null)
        {
            return null;
        }

        response.Headers.CacheControl = ArtifactFetcher.ImmutableCacheControl;
        response.Headers.AccessControlAllowOrigin = "*";
        return Results.File(
            stored.Content,
            request.ContentType,
            lastModified: stored.LastModified,
            entityTag: new EntityTagHeaderValue($"\"{request.ExpectedSha256}\""),
            enableRangeProcessing: true);
    }
}

using CuratedIndex.Features.Decisions;
using CuratedIndex.Features.Policies;
using CuratedIndex.Features.Releases;
using CuratedIndex.Features.SimpleIndex;
using CuratedIndex.Features.Typosquat;
using CuratedIndex.Features.Upstream;
using CuratedIndex.Hosting;
using CuratedIndex.Protocol;
using CuratedIndex.Protocol.SimpleApi;
using CuratedIndex.Storage;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace CuratedIndex.Features.Files;

/// <summary>
/// <c>/{env}/files/{project}/{filename}</c> and its PEP 658 <c>.metadata</c>. Only files that the project's
/// page lists, and that the decision function shows to the environment, are served.
/// </summary>
public static class FileEndpoints
{
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>Downloads (shared, hash-verified, into the store), the provenance passthrough and the scrub job.</summary>
    public static void AddFiles(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ArtifactFetcher>();
        builder.Services.AddSingleton<ProvenanceInvoker>();
        builder.Services.AddArtifactScrubbing();
    }

    /// <summary>Files and their <c>.metadata</c>, and PEP 740 provenance.</summary>
    public static void MapFiles(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/{env}/files/{project}/{filename}", GetAndHead, FileAsync);
        app.MapProvenance();
    }

    private static async Task<IResult> FileAsync(
        string env,
        string project,
        string filename,
        HttpContext context,
        IndexRequests requests,
        ProjectPageCache pages,
        ArtifactFetcher fetcher,
        IArtifactStore store,
        TyposquatScreening typosquats,
        PinMismatchAlerts pins,
        ReleaseDemand demand,
        IOptions<StorageOptions> storage)
    {
        if (!DistributionFilename.IsSafe(filename))
        {
            // Checked first, as the route's own input: it says nothing about the project.
            return PlainResults.Text(StatusCodes.Status400BadRequest, "invalid filename");
        }

        // Hidden projects (denied, internal, blocked, not approved) answer exactly as unknown ones, without asking upstream.
        // No finding is recorded for them: the simple page, which clients ask first, records those upstream has.
        var (index, answer) = await requests.OpenAsync(context, env, project, new IndexAnswers(NotFound: () => PlainResults.NotFound(), Hidden: _ => PlainResults.NotFound()));
        if (index is null)
        {
            return answer!;
        }

        if (!index.Decision.Visible)
        {
            index.Answered(index.Decision);
            return PlainResults.NotFound();
        }

        var isMetadata = filename.EndsWith(ArtifactRequest.MetadataSuffix, StringComparison.Ordinal);
        var distribution = isMetadata ? filename[..^ArtifactRequest.MetadataSuffix.Length] : filename;

        // Which files exist comes from a page no older than Upstream:PageMaxAge (an older one only while upstream fails).
        var lookup = await pages.GetAsync(index.Project, context.RequestAborted);
        var version = SimplePageRenderer.VersionOf(index.Project, distribution);
        var listed = lookup.Value?.FilesByName.GetValueOrDefault(distribution);
        if (listed is null && !isMetadata && index.Environment.Tier == Tier.Vetted
            && lookup.Status != LookupStatus.NotFound
            && index.Curation.Vettings.For(index.Project, version ?? "") is { Vetted: true } vetted
            && vetted.Files.TryGetValue(distribution, out var pinned))
        {
            // Tier 3 keeps installing what was vetted when upstream deletes it or is down: the pinned bytes, from the store.
            var status = lookup.Value?.Page.Status?.Status;
            if (!index.Decide(new UpstreamFacts(status, pinned.Sha256), version, distribution).Visible)
            {
                return PlainResults.NotFound();
            }

            var fromPin = ArtifactRequest.ForPinned(index.Project, pinned);
            return await ServeStoredAsync(store, fromPin, context, storage.Value)
                ?? PlainResults.BadGateway($"'{distribution}' is vetted, but upstream does not offer it now and it is not in the artifact store");
        }

        if (lookup.Status == LookupStatus.Failed)
        {
            return PlainResults.BadGateway(lookup.Reason ?? "upstream failed");
        }

        if (lookup.Value is not { } cached)
        {
            return PlainResults.NotFound();
        }

        await typosquats.TryRecordAsync(index.Project, index.Typosquat, context.RequestAborted);
        if (listed is not { } file)
        {
            return PlainResults.NotFound();
        }

        var decision = index.Decide(new UpstreamFacts(cached.Page.Status?.Status).ForListedFile(file.Sha256), version, distribution);
        if (!decision.Visible)
        {
            index.Answered(decision);
            if (decision.Rule == DecisionRule.PinMismatch)
            {
                await pins.CheckAsync(index.Curation.Vettings, index.Project, [file], CancellationToken.None);
            }
            else if (decision.Rule == DecisionRule.NotVetted && ReleaseVettings.NormalizeVersion(version) is { } wanted)
            {
                await demand.RecordAsync(index.Project, wanted, env, index.Caller, context.Connection.RemoteIpAddress, context.RequestAborted);
            }

            return PlainResults.NotFound();
        }

        if (isMetadata && index.Environment.Tier == Tier.Vetted
            && !index.Curation.Vettings.MetadataIsPinned(index.Project, version, distribution, file.CoreMetadata?.GetValueOrDefault("sha256")))
        {
            // The page did not offer it: the metadata upstream lists now is not the metadata that was vetted.
            return PlainResults.NotFound();
        }

        var request = isMetadata ? ArtifactRequest.ForMetadata(index.Project, file) : ArtifactRequest.ForFile(index.Project, file);
        if (request is null)
        {
            return PlainResults.NotFound();
        }

        if (await ServeStoredAsync(store, request, context, storage.Value) is { } stored)
        {
            index.ArtifactLookup(stored: true);
            return stored;
        }

        index.ArtifactLookup(stored: false);

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
            case FetchStatus.Failed when outcome.Reason == StoreUnavailableMessage:
                return PlainResults.Text(StatusCodes.Status503ServiceUnavailable, StoreUnavailableMessage);
            case FetchStatus.Failed:
                return PlainResults.BadGateway(outcome.Reason ?? "download failed");
        }

        return await ServeStoredAsync(store, request, context, storage.Value) ?? PlainResults.BadGateway("the verified file is not in the store");
    }

    /// <summary>
    /// A stored artifact with immutable caching, HEAD, Range (206/416) and If-Range; null when it is not stored (or no longer
    /// the size the index gives: then it is fetched again); 503 when the store cannot be asked. With <c>Storage:FileSystem:AccelRedirectPrefix</c> nginx sends
    /// the bytes; preconditions (304/412) are still answered here, as nginx would test them against its own validators.
    /// With <c>Storage:S3:PresignedRedirect</c> a GET is redirected to the object store, which knows neither the digest's
    /// ETag nor If-Range: those requests, HEAD and preconditions are answered here.
    /// </summary>
    public const string StoreUnavailableMessage = "artifact store unavailable; try again shortly";

    private static async Task<IResult?> ServeStoredAsync(IArtifactStore store, ArtifactRequest request, HttpContext context, StorageOptions options)
    {
        if (request.ExpectedSha256 is null)
        {
            return null;
        }

        StoredObject? stored;
        try
        {
            stored = await store.OpenAsync(request.StoreKey, CancellationToken.None);
        }
        catch (ArtifactStoreUnavailableException e)
        {
            // The store cannot say whether the file is there: not a 404 (it may be), not a 502 (upstream is fine), and no
            // download either (it could not be stored).
            StorageLog.StoreUnavailable(context.RequestServices.GetRequiredService<ILogger<IArtifactStore>>(), request.Filename, e.Message);
            // The reason (bucket, URL, socket error) goes to the log, not to anonymous clients.
            return PlainResults.Text(StatusCodes.Status503ServiceUnavailable, StoreUnavailableMessage);
        }

        if (stored is null)
        {
            return null;
        }

        if (request.ExpectedSize is > 0 and var expectedSize && stored.Length != expectedSize)
        {
            // Changed since it was verified (truncated, say): never sent under the digest's ETag. Fetched again, it is
            // verified again and replaces the damaged copy; the scrub job finds the damage where the index gives no size.
            FilesLog.StoredSizeMismatch(context.RequestServices.GetRequiredService<ILogger<ArtifactFetcher>>(), request.StoreKey, stored.Length, expectedSize);
            await stored.DisposeAsync();
            return null;
        }

        var entityTag = $"\"{request.ExpectedSha256}\"";
        context.Response.Headers.CacheControl = ArtifactFetcher.ImmutableCacheControl;
        context.Response.Headers.AccessControlAllowOrigin = "*";
        if (options.FileSystem.AccelRedirectPrefix is { Length: > 0 } prefix && !StoredFileResult.IsConditional(context.Request))
        {
            await stored.DisposeAsync();
            return new AccelRedirectResult(AccelRedirectResult.Location(prefix, request.StoreKey), request.ContentType, entityTag, stored.LastModified);
        }

        if (options.S3.PresignedRedirect && stored.PresignedReadUrl is { } presign && HttpMethods.IsGet(context.Request.Method)
            && context.Request.Headers.IfRange.Count == 0 && !StoredFileResult.IsConditional(context.Request))
        {
            await stored.DisposeAsync();
            var location = await presign(options.S3.PresignedExpiry);
            // The URL expires: the redirect must not outlive it in any cache (the file's own answer stays immutable).
            context.Response.Headers.CacheControl = "no-store";
            return Results.Redirect(location, permanent: false, preserveMethod: true);
        }

        if (stored.LocalFile is { } file && StoredFileResult.IsPlain(context.Request))
        {
            return new StoredFileResult(stored, file, request, entityTag);
        }

        return Results.File(
            stored.Content,
            request.ContentType,
            lastModified: stored.LastModified,
            entityTag: new EntityTagHeaderValue(entityTag),
            enableRangeProcessing: true);
    }
}

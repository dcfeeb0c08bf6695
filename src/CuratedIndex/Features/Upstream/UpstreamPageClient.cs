using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using CuratedIndex.Hosting;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Upstream;

public enum UpstreamStatus
{
    Ok,
    NotModified,
    NotFound,
    Failed,
}

/// <summary>
/// What one upstream document request produced. <see cref="Reason"/> is one line, fit for a 502 body and a log;
/// <see cref="Error"/> the kind of a failure (<see cref="UpstreamTags"/>: timeout, 5xx, reset, other) for metrics.
/// </summary>
public sealed record UpstreamDocument(
    UpstreamStatus Status,
    Uri? Url = null,
    byte[]? Body = null,
    string? ContentType = null,
    string? ETag = null,
    string? LastModified = null,
    long? LastSerial = null,
    string? Reason = null,
    string? Error = null);

/// <summary>
/// Fetches index documents (project pages, JSON API documents) from the upstream cluster: tries each
/// destination in health order, follows redirects only within the same host, enforces a size limit and
/// a timeout, and never throws for upstream misbehaviour.
/// </summary>
public sealed class UpstreamPageClient(
    HttpClient httpClient,
    UpstreamCluster cluster,
    IOptions<UpstreamOptions> options,
    CuratedIndexMetrics metrics,
    ILogger<UpstreamPageClient> logger)
{
    public const string HttpClientName = "upstream-pages";
    private const int MaxRedirects = 3;

    /// <summary>The metrics upstream documents are counted in; the document caches count their lookups there too.</summary>
    internal CuratedIndexMetrics Metrics => metrics;

    /// <summary>Fetches a document into memory (at most <c>Upstream:MaxPageBytes</c>).</summary>
    public Task<UpstreamDocument> GetAsync(string relativePath, string accept, string? etag, CancellationToken cancellationToken) =>
        GetAsync(relativePath, accept, etag, options.Value.Timeout, async (content, token) =>
        {
            var body = await ReadLimitedAsync(content, options.Value.MaxPageBytes, token);
            return body is null ? (null, $"upstream page exceeds {options.Value.MaxPageBytes} bytes") : (body, null);
        }, cancellationToken);

    /// <summary>
    /// Fetches a document of any size; <paramref name="readBody"/> consumes the content (for example into a
    /// file) and returns the body to keep (possibly empty) or a one-line reason to refuse it.
    /// </summary>
    public async Task<UpstreamDocument> GetAsync(
        string relativePath,
        string accept,
        string? etag,
        TimeSpan timeout,
        Func<HttpContent, CancellationToken, Task<(byte[]? Body, string? Refusal)>> readBody,
        CancellationToken cancellationToken)
    {
        UpstreamDocument? lastFailure = null;
        using var activity = Telemetry.Source.StartActivity("curated_index.upstream.page");
        foreach (var destination in cluster.DestinationsInOrder())
        {
            var started = Stopwatch.GetTimestamp();
            var result = await GetFromAsync(new Uri(destination, relativePath), accept, etag, timeout, readBody, cancellationToken);
            metrics.UpstreamRequest(UpstreamTags.Page, Outcome(result.Status), Stopwatch.GetElapsedTime(started));
            if (result.Status != UpstreamStatus.Failed)
            {
                activity?.SetTag("curated_index.upstream.status", Outcome(result.Status));
                return result;
            }

            if (!cancellationToken.IsCancellationRequested)
            {
                metrics.UpstreamError(UpstreamTags.Page, result.Error ?? UpstreamTags.OtherError);
            }

            UpstreamLog.DestinationFailed(logger, destination.ToString(), relativePath, result.Reason ?? "");
            lastFailure = result;
        }

        activity?.SetStatus(ActivityStatusCode.Error, lastFailure?.Error);
        return lastFailure ?? new UpstreamDocument(UpstreamStatus.Failed, Reason: "no upstream destination is configured");
    }

    private static string Outcome(UpstreamStatus status) => status switch
    {
        UpstreamStatus.Ok => UpstreamTags.Ok,
        UpstreamStatus.NotModified => UpstreamTags.NotModified,
        UpstreamStatus.NotFound => UpstreamTags.NotFound,
        _ => UpstreamTags.Error,
    };

    private async Task<UpstreamDocument> GetFromAsync(
        Uri url,
        string accept,
        string? etag,
        TimeSpan timeoutAfter,
        Func<HttpContent, CancellationToken, Task<(byte[]? Body, string? Refusal)>> readBody,
        CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(timeoutAfter);
        try
        {
            for (var redirects = 0; ; redirects++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.TryAddWithoutValidation("Accept", accept);
                if (etag is not null)
                {
                    request.Headers.TryAddWithoutValidation("If-None-Match", etag);
                }

                using var response = await httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && status != 304)
                {
                    var location = response.Headers.Location;
                    if (location is null)
                    {
                        return Failed($"upstream answered {status} without a Location");
                    }

                    var target = location.IsAbsoluteUri ? location : new Uri(url, location);
                    if (!string.Equals(target.Authority, url.Authority, StringComparison.OrdinalIgnoreCase) || target.Scheme != url.Scheme)
                    {
                        return Failed($"upstream redirected to another host ({target.Scheme}://{target.Authority})");
                    }

                    if (redirects >= MaxRedirects)
                    {
                        return Failed("upstream redirected too many times");
                    }

                    url = target;
                    continue;
                }

                switch (response.StatusCode)
                {
                    case HttpStatusCode.NotModified:
                        return new UpstreamDocument(UpstreamStatus.NotModified, url, ETag: etag, LastSerial: SerialOf(response));
                    case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                        return new UpstreamDocument(UpstreamStatus.NotFound, url);
                    case HttpStatusCode.OK:
                        break;
                    default:
                        return Failed($"upstream answered {status} {response.ReasonPhrase}", status >= 500 ? UpstreamTags.ServerError : UpstreamTags.OtherError);
                }

                var (body, refusal) = await readBody(response.Content, timeout.Token);
                if (body is null)
                {
                    return Failed(refusal ?? "upstream body was refused");
                }

                return new UpstreamDocument(
                    UpstreamStatus.Ok,
                    url,
                    body,
                    response.Content.Headers.ContentType?.MediaType ?? "",
                    response.Headers.ETag?.ToString(),
                    response.Content.Headers.LastModified?.ToString("R"),
                    SerialOf(response));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed($"upstream did not answer within {timeoutAfter.TotalSeconds:0} s", UpstreamTags.Timeout);
        }
        catch (HttpRequestException e)
        {
            return Failed($"upstream request failed: {e.Message}", UpstreamTags.Reset);
        }
        catch (IOException e)
        {
            return Failed($"upstream connection broke: {e.Message}", UpstreamTags.Reset);
        }

        static UpstreamDocument Failed(string reason, string error = UpstreamTags.OtherError) => new(UpstreamStatus.Failed, Reason: reason, Error: error);
    }

    private static long? SerialOf(HttpResponseMessage response) =>
        response.Headers.TryGetValues("X-PyPI-Last-Serial", out var values)
        && long.TryParse(values.FirstOrDefault(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var serial)
            ? serial
            : null;

    /// <summary>Reads at most <paramref name="limit"/> bytes; returns null when the body is larger.</summary>
    public static async Task<byte[]?> ReadLimitedAsync(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit)
        {
            return null;
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    public static void Configure(IServiceCollection services)
    {
        services.AddHttpClient<UpstreamPageClient>(HttpClientName)
            .ConfigureHttpClient(c =>
            {
                c.Timeout = Timeout.InfiniteTimeSpan; // per-request timeouts come from Upstream:Timeout
                c.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("CuratedIndex", "1.0"));
            })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.All,
                UseCookies = false,
                UseProxy = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectCallback = SocketThreads.ConnectAsync, // parsing, hashing and storing never on a socket thread
                ConnectTimeout = TimeSpan.FromSeconds(10),
            });
    }
}

using System.Diagnostics;
using Yarp.ReverseProxy.Forwarder;

namespace CuratedIndex.Hosting;

/// <summary>
/// YARP's forwarder, measured: every file, <c>.metadata</c> and provenance download from upstream goes through it, so
/// upstream latency and errors (kind <c>file</c>) and the upstream-fetch span come from this one place.
/// </summary>
internal sealed class TelemetryForwarder(IHttpForwarder inner, CuratedIndexMetrics metrics) : IHttpForwarder
{
    public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer) =>
        SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer, CancellationToken.None);

    public async ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer, CancellationToken cancellationToken)
    {
        using var activity = Telemetry.Source.StartActivity("curated_index.upstream.fetch", ActivityKind.Internal);
        var started = Stopwatch.GetTimestamp();
        var error = await inner.SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer, cancellationToken);
        var status = context.Response.StatusCode;
        var kind = ErrorKind(error, status);
        if (kind is null)
        {
            metrics.UpstreamRequest(UpstreamTags.File, status == StatusCodes.Status404NotFound ? UpstreamTags.NotFound : UpstreamTags.Ok, Stopwatch.GetElapsedTime(started));
        }
        else if (!context.RequestAborted.IsCancellationRequested)
        {
            // A client that hung up is not an upstream failure (downloads into the store run on a context of their own).
            metrics.UpstreamRequest(UpstreamTags.File, UpstreamTags.Error, Stopwatch.GetElapsedTime(started));
            metrics.UpstreamError(UpstreamTags.File, kind);
            activity?.SetStatus(ActivityStatusCode.Error, kind);
        }

        activity?.SetTag("http.response.status_code", status);
        return error;
    }

    /// <summary>The <c>error</c> tag of a forwarding result, or null when upstream answered (a 4xx is an answer).</summary>
    internal static string? ErrorKind(ForwarderError error, int status) => error switch
    {
        ForwarderError.None => status >= 500 ? UpstreamTags.ServerError : null,
        // The forwarder's activity timeout cancels the request or its body: no bytes for that long.
        ForwarderError.RequestTimedOut or ForwarderError.RequestCanceled or ForwarderError.ResponseBodyCanceled => UpstreamTags.Timeout,
        // Refused connections, resets and bodies cut short.
        ForwarderError.Request or ForwarderError.ResponseHeaders or ForwarderError.ResponseBodyDestination => UpstreamTags.Reset,
        _ => UpstreamTags.OtherError,
    };
}

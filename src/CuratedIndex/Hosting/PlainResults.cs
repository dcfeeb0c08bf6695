using System.Globalization;
using System.IO.Pipelines;
using CuratedIndex.Features.SimpleIndex;
using Microsoft.Extensions.Primitives;

namespace CuratedIndex.Hosting;

/// <summary>Small response helpers shared by the machine endpoints.</summary>
public static class PlainResults
{
    /// <summary>A one-line plain-text error, as pip and PyPI expect (PROTOCOL.md K1).</summary>
    public static IResult Text(int statusCode, string message) =>
        Results.Text(message + "\n", "text/plain; charset=utf-8", statusCode: statusCode);

    public static IResult NotFound(string message = "404 Not Found") => Text(StatusCodes.Status404NotFound, message);

    public static IResult BadGateway(string reason) => Text(StatusCodes.Status502BadGateway, $"upstream error: {reason}");

    /// <summary>301 to a path on this server; the Location is path-only so it never names another origin.</summary>
    public static IResult MovedPermanently(string path) => Results.Redirect(path, permanent: true);

    /// <summary>A rendered index document as a result: <see cref="WriteIndexDocumentAsync"/> when executed.</summary>
    public static IResult IndexDocument(RenderedPage page, string contentType, string cacheControl, bool negotiated) =>
        new IndexDocumentResult(page, contentType, cacheControl, negotiated);

    /// <summary>Sends a rendered index document with PyPI's caching headers, answering If-None-Match with 304.</summary>
    public static async Task WriteIndexDocumentAsync(HttpContext context, RenderedPage page, string contentType, string cacheControl, bool negotiated)
    {
        var response = context.Response;
        response.Headers.ETag = page.ETag;
        AddIndexHeaders(response, cacheControl, page.LastSerial, negotiated);
        if (IfNoneMatchMatches(context.Request.Headers.IfNoneMatch, page.ETag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.ContentLength = page.Body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.StartAsync(context.RequestAborted);
            WriteInSegments(response.BodyWriter, page.Body);
            await response.BodyWriter.FlushAsync(context.RequestAborted);
        }
    }

    /// <summary>The headers every index document carries: PyPI's caching, its serial, CORS, and Vary when negotiated.</summary>
    public static void AddIndexHeaders(HttpResponse response, string cacheControl, long? lastSerial, bool negotiated)
    {
        if (negotiated)
        {
            response.Headers.Vary = "Accept";
        }

        response.Headers.CacheControl = cacheControl;
        if (lastSerial is { } serial)
        {
            response.Headers["X-PyPI-Last-Serial"] = serial.ToString(CultureInfo.InvariantCulture);
        }

        AddCors(response);
    }

    /// <summary>
    /// Whether an If-None-Match header (one or more comma-separated lists) names <paramref name="etag"/>,
    /// weakly compared as RFC 9110 13.1.2 requires, or is <c>*</c>. Every revalidating pip install asks this,
    /// so it walks the header's spans instead of splitting it into strings.
    /// </summary>
    internal static bool IfNoneMatchMatches(StringValues header, string etag)
    {
        foreach (var value in header)
        {
            var rest = value.AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var tag = (comma < 0 ? rest : rest[..comma]).Trim();
                rest = comma < 0 ? default : rest[(comma + 1)..];
                if (tag.StartsWith("W/", StringComparison.Ordinal))
                {
                    tag = tag[2..];
                }

                if (tag is "*" || tag.SequenceEqual(etag))
                {
                    return true;
                }
            }
        }

        return false;
    }

    // Response.Body.WriteAsync copies a body into Kestrel's 4 KB pool blocks one at a time and sends them as
    // that many buffers (~140 for a 3,000-release page). Asking the pipe for larger segments makes it rent
    // them from the shared ArrayPool instead: fewer blocks to rent, track, send and return.
    private const int SegmentSize = 64 * 1024;

    private static void WriteInSegments(PipeWriter writer, ReadOnlySpan<byte> body)
    {
        while (!body.IsEmpty)
        {
            var span = writer.GetSpan(Math.Min(body.Length, SegmentSize));
            var count = Math.Min(body.Length, span.Length);
            body[..count].CopyTo(span);
            writer.Advance(count);
            body = body[count..];
        }
    }

    /// <summary>CORS as PyPI sends it (PROTOCOL.md J5), for browser tools such as micropip.</summary>
    private static void AddCors(HttpResponse response)
    {
        response.Headers.AccessControlAllowOrigin = "*";
        response.Headers.AccessControlAllowHeaders = "Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since";
        response.Headers.AccessControlAllowMethods = "GET";
        response.Headers.AccessControlMaxAge = "86400";
        response.Headers.AccessControlExposeHeaders = "X-PyPI-Last-Serial";
    }

    private sealed record IndexDocumentResult(RenderedPage Page, string ContentType, string CacheControl, bool Negotiated) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteIndexDocumentAsync(httpContext, Page, ContentType, CacheControl, Negotiated);
    }
}

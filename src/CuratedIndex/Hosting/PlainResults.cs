using System.Globalization;
using System.IO.Pipelines;
using CuratedIndex.Features.SimpleIndex;
using Microsoft.Extensions.Primitives;
using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Hosting;

/// <summary>Small response helpers shared by the machine endpoints.</summary>
public static class PlainResults
{
    /// <summary>A one-line plain-text error, as pip and PyPI expect (PROTOCOL.md K1).</summary>
    public static IResult Text(int statusCode, string message) =>
        Results.Text(message + "\n", "text/plain; charset=utf-8", statusCode: statusCode);

    /// <summary>
    /// Writes a refusal from middleware (where no endpoint result runs): JSON <c>{"message"}</c> under <c>/api/</c>, one
    /// line of plain text elsewhere. The caller clears what the response held and sets any header of its own first.
    /// </summary>
    public static async Task WriteRefusalAsync(HttpContext context, int statusCode, string reason)
    {
        context.Response.StatusCode = statusCode;
        if (context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
        {
            await context.Response.WriteAsJsonAsync(new { message = reason });
        }
        else
        {
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync(reason + "\n");
        }
    }

    public static IResult NotFound(string message = "404 Not Found") => Text(StatusCodes.Status404NotFound, message);

    public static IResult BadGateway(string reason) => Text(StatusCodes.Status502BadGateway, $"upstream error: {reason}");

    /// <summary>301 to a path on this server; the Location is path-only so it never names another origin.</summary>
    public static IResult MovedPermanently(string path) => Results.Redirect(path, permanent: true);

    /// <summary>A rendered index document as a result: <see cref="WriteIndexDocumentAsync"/> when executed.</summary>
    public static IResult IndexDocument(RenderedPage page, string contentType, string cacheControl, bool negotiated) =>
        new IndexDocumentResult(page, contentType, cacheControl, negotiated);

    /// <summary>
    /// Sends a rendered index document with PyPI's caching headers: its gzip copy when the client accepts gzip (as pip,
    /// uv, poetry and pdm do), else the bytes as they are, each with its own ETag; If-None-Match is answered with 304.
    /// </summary>
    public static async Task WriteIndexDocumentAsync(HttpContext context, RenderedPage page, string contentType, string cacheControl, bool negotiated)
    {
        var gzip = page.Gzip is not null && AcceptEncoding.AcceptsGzip(context.Request.Headers.AcceptEncoding);
        var body = gzip ? page.Gzip! : page.Body;
        var headers = new IndexDocumentHeaders(contentType, cacheControl, page.LastSerial, negotiated);
        if (!StartIndexDocument(context, headers, gzip ? page.GzipETag! : page.ETag, body.Length, gzip))
        {
            return;
        }

        await context.Response.StartAsync(context.RequestAborted);
        var direct = body.Length >= DirectSend.MinimumBodyLength ? DirectSend.For(context) : null;
        if (body.File is { } file)
        {
            await (direct is not null
                ? direct.SendFileAsync(context, file, body.Handle!, 0, body.Length)
                : WriteFileAsync(context.Response.BodyWriter, body.Handle!, 0, body.Length, context.RequestAborted));
        }
        else if (direct is not null)
        {
            await direct.SendAsync(context, body.Bytes!);
        }
        else
        {
            WriteInSegments(context.Response.BodyWriter, body.Bytes!);
            await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
        }
    }

    /// <summary>
    /// Sends an index document kept on disk (the root list: tens of megabytes) as <see cref="WriteIndexDocumentAsync"/>
    /// sends one kept in memory. <paramref name="gzip"/> says which of the document's files <paramref name="file"/> is.
    /// </summary>
    public static async Task WriteIndexFileAsync(HttpContext context, SafeFileHandle? file, string etag, bool gzip, IndexDocumentHeaders headers)
    {
        // No file only for a request whose If-None-Match names the ETag: the answer is a 304, which has no length.
        var length = file is null ? 0 : RandomAccess.GetLength(file);
        if (StartIndexDocument(context, headers, etag, length, gzip) && file is not null)
        {
            await context.Response.StartAsync(context.RequestAborted);
            if (length >= DirectSend.MinimumBodyLength && DirectSend.For(context) is { } direct)
            {
                await direct.SendFileAsync(context, file, 0, length);
                return;
            }

            await WriteFileAsync(context.Response.BodyWriter, file, 0, length, context.RequestAborted);
        }
    }

    /// <summary>
    /// Writes <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> to the response by
    /// reading them straight into the response pipe's memory: no intermediate buffer, no 4 KB blocks. Kestrel has no
    /// sendfile; this is one copy (page cache to pipe) where a stream copy makes three. The reads are synchronous: on
    /// Linux an "asynchronous" file read is a synchronous one on another thread, and a read from the page cache takes
    /// microseconds. A file that ends early throws <see cref="FileShrankException"/>, so the connection is aborted instead
    /// of a short body being sent under a longer Content-Length.
    /// </summary>
    public static async Task WriteFileAsync(PipeWriter writer, SafeFileHandle file, long offset, long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            var memory = writer.GetMemory((int)Math.Min(count, FileSegmentSize));
            var read = RandomAccess.Read(file, memory.Span[..(int)Math.Min(count, memory.Length)], offset);
            if (read == 0)
            {
                throw new FileShrankException(count);
            }

            writer.Advance(read);
            offset += read;
            count -= read;
            var flushed = await writer.FlushAsync(cancellationToken);
            if (flushed.IsCompleted || flushed.IsCanceled)
            {
                return;
            }
        }
    }

    // Sets the headers of an index document's answer and its status; true when a body follows (200 to a GET).
    private static bool StartIndexDocument(HttpContext context, IndexDocumentHeaders headers, string etag, long length, bool gzip)
    {
        var response = context.Response;
        response.Headers.ETag = etag;
        AddIndexHeaders(response, headers.CacheControl, headers.LastSerial, headers.Negotiated);
        if (IfNoneMatchMatches(context.Request.Headers.IfNoneMatch, etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return false;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = headers.ContentType;
        response.ContentLength = length;
        if (gzip)
        {
            response.Headers.ContentEncoding = "gzip";
        }

        return !HttpMethods.IsHead(context.Request.Method);
    }

    /// <summary>
    /// The headers every index document carries: PyPI's caching, its serial, CORS, and Vary (Accept-Encoding always, since
    /// every index document is offered gzip-compressed; Accept too when the format is negotiated).
    /// </summary>
    public static void AddIndexHeaders(HttpResponse response, string cacheControl, long? lastSerial, bool negotiated)
    {
        response.Headers.Vary = negotiated ? "Accept, Accept-Encoding" : "Accept-Encoding";

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

    // Files are read in larger pieces: one pread and one send per 256 KB. Measured with wrk -c4 on a 20 MB file (2 cores):
    // about 7-8 ms CPU per request against 8-11 ms for 128 KB and 10-12.5 ms for a FileStream copy; 512 KB was no better.
    private const int FileSegmentSize = 256 * 1024;

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

    /// <summary>What an index document's answer says besides its bytes and validator.</summary>
    public sealed record IndexDocumentHeaders(string ContentType, string CacheControl, long? LastSerial, bool Negotiated);

    private sealed record IndexDocumentResult(RenderedPage Page, string ContentType, string CacheControl, bool Negotiated) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteIndexDocumentAsync(httpContext, Page, ContentType, CacheControl, Negotiated);
    }
}

/// <summary>A file ended before the length its answer announced (truncated while it was sent).</summary>
public sealed class FileShrankException(long missing) : IOException($"the file ended {missing} bytes before its length")
{
    /// <summary>How many of the announced bytes were not there.</summary>
    public long Missing { get; } = missing;
}

using CuratedIndex.Storage;
using Microsoft.Net.Http.Headers;
using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Features.Files;

/// <summary>
/// A stored artifact's whole body (200, or the headers alone for HEAD), read from its file straight into the buffers of
/// the response pipe: no stream, no intermediate buffer, no thread-pool hop per read. For plain requests only (see
/// <see cref="IsPlain"/>); Range, If-Range and conditional requests go to <c>Results.File</c>, which answers 206, 416,
/// 304 and 412. Kestrel has no sendfile, so this is the shortest way from the page cache to the socket it offers.
/// </summary>
internal sealed class StoredFileResult(StoredObject stored, SafeFileHandle file, ArtifactRequest request, string entityTag) : IResult
{
    // Larger than Kestrel's 4 KB pool blocks, so the pipe rents one array per segment: one file read, one socket send and
    // one writer/sender hand-over per segment. With wrk -c4 on a 20 MB file (2 cores, busy machine) 256 KB cost about
    // 7-8 ms CPU per request against 8-11 ms for 128 KB and 10-12.5 ms for the FileStream path; 512 KB was no better.
    internal const int SegmentSize = 256 * 1024;

    /// <summary>A GET or HEAD with no Range, If-Range or other precondition: the whole file, 200, whatever its validators.</summary>
    public static bool IsPlain(HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        && request.Headers.Range.Count == 0
        && request.Headers.IfRange.Count == 0
        && !IsConditional(request);

    /// <summary>Whether the request has a precondition that may turn the answer into 304 or 412.</summary>
    public static bool IsConditional(HttpRequest request) =>
        request.Headers.IfMatch.Count != 0
        || request.Headers.IfNoneMatch.Count != 0
        || request.Headers.IfModifiedSince.Count != 0
        || request.Headers.IfUnmodifiedSince.Count != 0;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        await using var owned = stored;
        var response = httpContext.Response;
        var length = stored.Length;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = request.ContentType;
        response.ContentLength = length;
        response.Headers.ETag = entityTag;
        response.Headers.LastModified = HeaderUtilities.FormatDate(stored.LastModified);
        response.Headers.AcceptRanges = "bytes";
        if (HttpMethods.IsHead(httpContext.Request.Method))
        {
            return;
        }

        var aborted = httpContext.RequestAborted;
        try
        {
            // Headers first: memory asked of the pipe before the response has started is not the pipe's own.
            await response.StartAsync(aborted);
            var writer = response.BodyWriter;
            long offset = 0;
            while (offset < length)
            {
                var wanted = (int)Math.Min(SegmentSize, length - offset);
                var memory = writer.GetMemory(wanted);
                var segment = memory[..Math.Min(wanted, memory.Length)];
                // Synchronous on purpose: an "asynchronous" file read on Linux is this same read on a thread-pool thread,
                // and from the page cache it takes microseconds.
                var read = RandomAccess.Read(file, segment.Span, offset);
                if (read == 0)
                {
                    // Shorter than when it was opened (truncated under us). A short body under the full Content-Length
                    // and the digest's ETag could pass for the file: the only honest answer left is a broken connection.
                    FilesLog.StoredFileShrank(Logger(httpContext), request.StoreKey, offset, length);
                    httpContext.Abort();
                    return;
                }

                writer.Advance(read);
                offset += read;
                var flushed = await writer.FlushAsync(aborted);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    // The connection is gone or closing: nothing more can be sent.
                    httpContext.Abort();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static ILogger Logger(HttpContext httpContext) =>
        httpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StoredFileResult).FullName!);
}

/// <summary>
/// A stored artifact answered for nginx to send (<c>Storage:FileSystem:AccelRedirectPrefix</c>): 200 with the artifact's
/// headers, no body and <c>X-Accel-Redirect</c> naming it under the prefix. nginx serves the file from an <c>internal</c>
/// location aliasing the artifact directory (Range and If-Range included); the README has the configuration.
/// </summary>
internal sealed class AccelRedirectResult(string location, string contentType, string entityTag, DateTimeOffset lastModified) : IResult
{
    public const string HeaderName = "X-Accel-Redirect";

    /// <summary>The prefix followed by the store key, each segment percent-encoded (nginx decodes it before it looks the file up).</summary>
    public static string Location(string prefix, string storeKey) =>
        prefix + string.Join('/', storeKey.Split('/').Select(Uri.EscapeDataString));

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.ContentLength = 0;
        response.Headers.ETag = entityTag;
        response.Headers.LastModified = HeaderUtilities.FormatDate(lastModified);
        response.Headers[HeaderName] = location;
        return Task.CompletedTask;
    }
}

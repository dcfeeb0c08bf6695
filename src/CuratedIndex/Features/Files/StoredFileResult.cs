using CuratedIndex.Hosting;
using CuratedIndex.Storage;
using Microsoft.Net.Http.Headers;
using Microsoft.Win32.SafeHandles;

namespace CuratedIndex.Features.Files;

/// <summary>
/// A stored artifact's whole body (200, or the headers alone for HEAD): with sendfile(2) on plain HTTP/1.x connections
/// (<see cref="DirectSend"/>), else read from its file straight into the buffers of the response pipe (no stream, no
/// intermediate buffer, no thread-pool hop per read). For plain requests only (see <see cref="IsPlain"/>); Range, If-Range
/// and conditional requests go to <c>Results.File</c>, which answers 206, 416, 304 and 412.
/// </summary>
internal sealed class StoredFileResult(StoredObject stored, SafeFileHandle file, ArtifactRequest request, string entityTag) : IResult
{
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
            await response.StartAsync(aborted);
            // A stored file may not be in the page cache: sendfile (or a read) would wait for the disk. Documents stay.
            await SocketThreads.LeaveAsync();
            if (length >= DirectSend.MinimumBodyLength && DirectSend.For(httpContext) is { } direct)
            {
                // sendfile(2), as nginx sends it: no copy at all.
                await direct.SendFileAsync(httpContext, file, 0, length);
                return;
            }

            await PlainResults.WriteFileAsync(response.BodyWriter, file, 0, length, aborted);
        }
        catch (FileShrankException e)
        {
            // Shorter than when it was opened (truncated under us). A short body under the full Content-Length and the
            // digest's ETag could pass for the file: the only honest answer left is a broken connection.
            FilesLog.StoredFileShrank(Logger(httpContext), request.StoreKey, length - e.Missing, length);
            httpContext.Abort();
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

namespace CuratedIndex.Hosting;

/// <summary>
/// <c>X-Content-Type-Options: nosniff</c> on every response, and <c>Content-Security-Policy: sandbox</c> on every response
/// outside the UI: index pages, files, the JSON API, provenance, API errors, health and 404s, whatever upstream sent
/// with a passed-through document. A browser that opens one of them never sniffs it into HTML nor runs a script in it.
/// The UI under <c>/ui</c> (its pages and the jobs dashboard) sets its own policy, which this leaves alone. First in the
/// pipeline, so the path guard's refusals carry the headers too.
/// </summary>
public sealed class ResponseSecurityHeaders(RequestDelegate next)
{
    public const string ContentSecurityPolicy = "sandbox";

    private static readonly PathString Ui = "/ui";

    // Static callbacks with the response as state: no closure per request.
    private static readonly Func<object, Task> OutsideUi = state =>
    {
        var headers = ((HttpResponse)state).Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        return Task.CompletedTask;
    };

    private static readonly Func<object, Task> InsideUi = state =>
    {
        ((HttpResponse)state).Headers.XContentTypeOptions = "nosniff";
        return Task.CompletedTask;
    };

    public Task InvokeAsync(HttpContext context)
    {
        var inUi = context.Request.Path.StartsWithSegments(Ui, StringComparison.OrdinalIgnoreCase);
        context.Response.OnStarting(inUi ? InsideUi : OutsideUi, context.Response);
        return next(context);
    }
}

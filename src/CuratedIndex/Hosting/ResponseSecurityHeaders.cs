namespace CuratedIndex.Hosting;

/// <summary>
/// <c>X-Content-Type-Options: nosniff</c> on every response, and <c>Content-Security-Policy: sandbox</c> on every response
/// outside the UI that has not set its own: index pages, files, the JSON API, provenance, API errors, health and 404s.
/// A browser that opens one of them never sniffs it into HTML nor runs a script in it. The UI under <c>/ui</c> (its pages
/// and the jobs dashboard) sets its own policy, which this leaves alone. First in the pipeline, so the path guard's
/// refusals carry the headers too.
/// </summary>
public sealed class ResponseSecurityHeaders(RequestDelegate next)
{
    public const string ContentSecurityPolicy = "sandbox";

    private static readonly PathString Ui = "/ui";

    public Task InvokeAsync(HttpContext context)
    {
        var response = context.Response;
        var outsideUi = !context.Request.Path.StartsWithSegments(Ui, StringComparison.OrdinalIgnoreCase);
        response.OnStarting(() =>
        {
            response.Headers.XContentTypeOptions = "nosniff";
            if (outsideUi && response.Headers.ContentSecurityPolicy.Count == 0)
            {
                response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            }

            return Task.CompletedTask;
        });
        return next(context);
    }
}

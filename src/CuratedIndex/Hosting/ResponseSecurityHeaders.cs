namespace CuratedIndex.Hosting;

/// <summary>
/// <c>X-Content-Type-Options: nosniff</c> and <c>Content-Security-Policy: sandbox</c> on every response that has not set
/// its own policy: index pages, files, the JSON API, provenance, API errors, health and 404s. A browser that opens one
/// of them never sniffs it into HTML nor runs a script in it. The UI (and its jobs dashboard) set their own policy,
/// which this leaves alone. First in the pipeline, so the path guard's refusals carry the headers too.
/// </summary>
public sealed class ResponseSecurityHeaders(RequestDelegate next)
{
    public const string ContentSecurityPolicy = "sandbox";

    public Task InvokeAsync(HttpContext context)
    {
        var response = context.Response;
        response.OnStarting(() =>
        {
            response.Headers.XContentTypeOptions = "nosniff";
            if (response.Headers.ContentSecurityPolicy.Count == 0)
            {
                response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
            }

            return Task.CompletedTask;
        });
        return next(context);
    }
}

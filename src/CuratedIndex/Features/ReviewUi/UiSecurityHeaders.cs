using Microsoft.AspNetCore.Mvc.Filters;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>
/// Security headers on every UI response. An "always run" result filter, so short-circuited results
/// (a refused antiforgery token, a forbidden handler) carry them too.
/// </summary>
internal sealed class UiSecurityHeaders : IAsyncAlwaysRunResultFilter
{
    // No scripts at all; inline styles only (the layout's CSS, the charts' presentation attributes).
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public Task OnResultExecutionAsync(ResultExecutingContext context, ResultExecutionDelegate next)
    {
        var headers = context.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "DENY";
        // Pages show who asked for what and API token secrets: never keep them in shared caches or history.
        headers.CacheControl = "no-store";
        return next();
    }
}

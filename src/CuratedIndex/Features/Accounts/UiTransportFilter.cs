using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Accounts;

/// <summary>
/// The review UI's cookies are <c>Secure</c>, so over plain HTTP a sign-in could never stick (and antiforgery refuses to
/// run): such a request gets one line saying what to do, before any other filter. HTTPS is the connection's, or
/// <c>X-Forwarded-Proto</c> from a known proxy (<c>Server:KnownProxies</c>).
/// </summary>
internal sealed class UiTransportFilter(IOptions<AuthOptions> options) : IAuthorizationFilter
{
    public const string Refusal = "the review UI needs HTTPS: serve it behind TLS (a proxy in Server:KnownProxies sending X-Forwarded-Proto), or set Auth:AllowInsecureCookies=true for a local trial on http://localhost";

    public void OnAuthorization(AuthorizationFilterContext context)
    {
        if (!context.HttpContext.Request.IsHttps && !options.Value.AllowInsecureCookies)
        {
            context.Result = new ContentResult { StatusCode = StatusCodes.Status400BadRequest, Content = Refusal + "\n", ContentType = "text/plain; charset=utf-8" };
        }
    }
}

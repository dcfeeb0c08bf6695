using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Accounts;

/// <summary><c>Authorization: Bearer &lt;token&gt;</c> for the REST API. Cookies are never read here, so the API cannot be driven by cross-site requests.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TokenAuthenticator tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length == 0)
        {
            return AuthenticateResult.NoResult();
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.Fail("the Authorization header must be 'Bearer <token>'");
        }

        var identity = await tokens.AuthenticateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        return identity is null
            ? AuthenticateResult.Fail("the token is not valid")
            : AuthenticateResult.Success(new AuthenticationTicket(Principal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"curated-index\"";
        await Response.WriteAsJsonAsync(new { message = "authentication required: send 'Authorization: Bearer <token>'" }, Context.RequestAborted);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Response.WriteAsJsonAsync(new { message = "your role does not allow this" }, Context.RequestAborted);
    }

    private static ClaimsPrincipal Principal(TokenIdentity identity)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, identity.UserName), new(ClaimTypes.Role, identity.Role) };
        if (identity.UserId is { } id)
        {
            claims.Add(new Claim(ClaimTypes.NameIdentifier, id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role));
    }
}

using System.Text;
using CuratedIndex.Features.Policies;
using CuratedIndex.Hosting;

namespace CuratedIndex.Features.Accounts;

/// <summary>
/// Read access to an environment's index. Open environments admit everyone (the caller is "anonymous");
/// environments with <c>access: token</c> want a token as pip sends credentials: HTTP Basic with the token as
/// the password (any user name, e.g. <c>__token__</c>) or as the user name, or <c>Authorization: Bearer</c>.
/// </summary>
public sealed class IndexAccess(TokenAuthenticator tokens)
{
    public const string Anonymous = "anonymous";

    /// <summary>The caller's name, or the 401 to send.</summary>
    public async Task<(string? Caller, IResult? Refusal)> CheckAsync(HttpContext context, EnvironmentPolicy environment)
    {
        if (environment.Access == IndexAccessMode.Open)
        {
            return (Anonymous, null);
        }

        var token = TokenFrom(context.Request.Headers.Authorization.ToString());
        if (token is not null && await tokens.AuthenticateAsync(token, context.RequestAborted) is { } identity)
        {
            return (identity.UserName, null);
        }

        context.Response.Headers.WWWAuthenticate = $"Basic realm=\"curated-index {environment.Name}\"";
        var message = token is null
            ? $"environment '{environment.Name}' requires a token: use https://__token__:<token>@host/{environment.Name}/simple/"
            : "the token is not valid";
        return (null, PlainResults.Text(StatusCodes.Status401Unauthorized, message));
    }

    private static string? TokenFrom(string header)
    {
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return header["Bearer ".Length..].Trim();
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            var (user, password) = colon < 0 ? (decoded, "") : (decoded[..colon], decoded[(colon + 1)..]);
            return password.Length > 0 ? password : user.Length > 0 ? user : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

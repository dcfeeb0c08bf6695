using System.Globalization;
using System.Security.Claims;
using CuratedIndex.Features.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Pages;

/// <summary>
/// Signing out is a POST with an antiforgery token, so a link on another site cannot sign a reviewer out; GET only shows
/// the button. It ends the session on the server (its id is recorded as ended), not only in this browser: a copy of the
/// cookie stops working as well. Other sessions of the account go on.
/// </summary>
internal sealed class LogoutModel(AccountService accounts, IOptions<AuthOptions> options) : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (long.TryParse(User.FindFirstValue(ClaimTypes.NameIdentifier), NumberStyles.None, CultureInfo.InvariantCulture, out var userId)
            && User.FindFirstValue(AccountsRegistration.SessionClaim) is { Length: > 0 } session)
        {
            await accounts.EndSessionAsync(userId, session, options.Value.SessionLifetime, cancellationToken);
        }

        await HttpContext.SignOutAsync(AccountsRegistration.CookieScheme);
        return LocalRedirect("/ui/login");
    }
}

using System.Globalization;
using System.Security.Claims;
using CuratedIndex.Features.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Pages;

/// <summary>
/// Signing out is a POST with an antiforgery token, so a link on another site cannot sign a reviewer out; GET only shows
/// the button. It ends the session on the server (a new security stamp), not only in this browser: a copy of the cookie
/// stops working as well.
/// </summary>
internal sealed class LogoutModel(AccountService accounts) : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (long.TryParse(User.FindFirstValue(ClaimTypes.NameIdentifier), NumberStyles.None, CultureInfo.InvariantCulture, out var userId)
            && User.FindFirstValue(AccountsRegistration.SecurityStampClaim) is { } stamp)
        {
            await accounts.EndSessionsAsync(userId, stamp, cancellationToken);
        }

        await HttpContext.SignOutAsync(AccountsRegistration.CookieScheme);
        return LocalRedirect("/ui/login");
    }
}

using CuratedIndex.Features.Accounts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Pages;

/// <summary>Signing out is a POST with an antiforgery token, so a link on another site cannot sign a reviewer out; GET only shows the button.</summary>
internal sealed class LogoutModel : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(AccountsRegistration.CookieScheme);
        return LocalRedirect("/ui/login");
    }
}

using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.ReviewUi;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Pages;

/// <summary>Sign-in with a local account. Attempts (not page views) are rate limited per client address.</summary>
internal sealed class LoginModel(AccountService accounts, SignInThrottle throttle, ILogger<LoginModel> logger) : PageModel
{
    public const string Home = "/ui/";

    [BindProperty]
    public string? UserName { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public bool Failed { get; private set; }

    public bool Throttled { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        // The throttle comes first: a refused attempt must not cost a password hash.
        if (!await throttle.TryAttemptAsync(HttpContext, cancellationToken))
        {
            Throttled = true;
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = "60";
            return Page();
        }

        var userName = (UserName ?? "").Trim();
        var user = userName.Length is > 0 and <= 64 && Password is { Length: > 0 and <= 256 }
            ? await accounts.CheckPasswordAsync(userName, Password, cancellationToken)
            : null;
        Password = null;
        if (user is null)
        {
            ReviewUiLog.SignInRefused(logger, userName.Length <= 64 ? userName : userName[..64]);
            Failed = true;
            return Page();
        }

        var target = LocalTarget(ReturnUrl);
        await HttpContext.SignInAsync(AccountsRegistration.CookieScheme, AccountsRegistration.CookiePrincipal(user), new AuthenticationProperties { RedirectUri = target });
        ReviewUiLog.SignedIn(logger, user.UserName);
        return LocalRedirect(target);
    }

    /// <summary>Only a path on this site: absolute URLs, <c>//host</c> and <c>/\host</c> would send the reviewer elsewhere.</summary>
    public static string LocalTarget(string? returnUrl) =>
        returnUrl is { Length: > 0 and <= 2000 } url
        && url[0] == '/'
        && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(char.IsControl)
            ? url
            : Home;
}

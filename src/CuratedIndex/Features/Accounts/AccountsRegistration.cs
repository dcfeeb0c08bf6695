using CuratedIndex.Hosting;
using System.Security.Claims;
using CuratedIndex.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Accounts;

/// <summary>
/// Authentication and authorization: cookies for the review UI, bearer tokens for the API, tokens (Basic or
/// Bearer) for protected indexes. No default scheme: each endpoint names its own, so index requests do
/// no authentication work at all unless their environment asks for a token.
/// </summary>
public static class AccountsRegistration
{
    public const string CookieScheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string SecurityStampClaim = "curated-index:security-stamp";

    /// <summary>This sign-in's own id: signing out records it as ended (<see cref="EndedSession"/>), so the cookie dies on the server.</summary>
    public const string SessionClaim = "curated-index:session";

    /// <summary>The data-protection application name every node shares (cookies and forms from one node open on another).</summary>
    public const string DataProtectionApplicationName = "curated-index";

    public static void AddCuratedIndexAccounts(this WebApplicationBuilder builder)
    {
        builder.Services.AddValidatedOptions<AuthOptions>(AuthOptions.Section);
        // The keys that protect sign-in cookies and antiforgery tokens live in the database, under one application name
        // (not the default, the content root path): every node, and this node after a restart or a new image, reads what
        // another wrote. They are as sensitive as the database itself.
        builder.Services.AddDataProtection()
            .SetApplicationName(DataProtectionApplicationName)
            .PersistKeysToDbContext<CuratedIndexDbContext>();
        builder.Services.AddSingleton<TokenAuthenticator>();
        builder.Services.AddSingleton<AccountService>();
        builder.Services.AddSingleton<IndexAccess>();
        builder.Services.AddSingleton<SignInThrottle>();

        var auth = builder.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var lifetime = auth.SessionLifetime;
        // Secure always (behind a TLS-terminating proxy too), unless a local trial over plain HTTP asks otherwise.
        var securePolicy = auth.AllowInsecureCookies ? CookieSecurePolicy.SameAsRequest : CookieSecurePolicy.Always;
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = "curated-index-session";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = securePolicy;
                o.LoginPath = "/ui/login";
                o.LogoutPath = "/ui/logout";
                o.AccessDeniedPath = "/ui/denied";
                o.ExpireTimeSpan = lifetime;
                o.SlidingExpiration = true;
                o.Events.OnValidatePrincipal = ValidateAccountAsync;
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AccessPolicies.View, RoleAtLeast(ApiTokenAuthenticationHandler.SchemeName, Roles.Viewer, Roles.Reviewer, Roles.Admin))
            .AddPolicy(AccessPolicies.Review, RoleAtLeast(ApiTokenAuthenticationHandler.SchemeName, Roles.Reviewer, Roles.Admin))
            .AddPolicy(AccessPolicies.Administer, RoleAtLeast(ApiTokenAuthenticationHandler.SchemeName, Roles.Admin))
            .AddPolicy(AccessPolicies.UiView, RoleAtLeast(CookieScheme, Roles.Viewer, Roles.Reviewer, Roles.Admin))
            .AddPolicy(AccessPolicies.UiReview, RoleAtLeast(CookieScheme, Roles.Reviewer, Roles.Admin))
            .AddPolicy(AccessPolicies.UiAdminister, RoleAtLeast(CookieScheme, Roles.Admin));

        builder.Services.Configure<MvcOptions>(o => o.Filters.Add<UiTransportFilter>(int.MinValue));
        builder.Services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "curated-index-antiforgery";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = securePolicy;
            o.FormFieldName = "__RequestVerificationToken";
        });
    }

    private static AuthorizationPolicy RoleAtLeast(string scheme, params string[] roles) =>
        new AuthorizationPolicyBuilder(scheme).RequireAuthenticatedUser().RequireRole(roles).Build();

    /// <summary>The claims a UI sign-in carries; the security stamp lets a password, role or status change end it.</summary>
    public static ClaimsPrincipal CookiePrincipal(UserAccount user) =>
        new(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Claim(ClaimTypes.Name, user.UserName),
                new Claim(ClaimTypes.Role, user.Role),
                new Claim(SecurityStampClaim, user.SecurityStamp),
                new Claim(SessionClaim, AccountService.NewStamp()),
            ],
            CookieScheme,
            ClaimTypes.Name,
            ClaimTypes.Role));

    // Every UI request re-checks the account and the session: a disabled account or a changed password or role ends every
    // session of the account; signing out ends that one session (a cookie without a session id, from before, is refused).
    private static async Task ValidateAccountAsync(CookieValidatePrincipalContext context)
    {
        var id = context.Principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        var stamp = context.Principal?.FindFirstValue(SecurityStampClaim);
        var session = context.Principal?.FindFirstValue(SessionClaim);
        var db = context.HttpContext.RequestServices.GetRequiredService<CuratedIndexDbContext>();
        var valid = long.TryParse(id, System.Globalization.CultureInfo.InvariantCulture, out var userId)
            && session is { Length: > 0 }
            && await db.Users.AsNoTracking().AnyAsync(
                u => u.Id == userId && u.SecurityStamp == stamp && !u.Disabled && !db.EndedSessions.Any(s => s.SessionId == session),
                context.HttpContext.RequestAborted);
        if (!valid)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(CookieScheme);
        }
    }
}

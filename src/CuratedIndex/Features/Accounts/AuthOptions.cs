using System.ComponentModel.DataAnnotations;

namespace CuratedIndex.Features.Accounts;

public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// A bearer token with the admin role for the API (and for token-protected indexes), for bootstrapping:
    /// create the first accounts with it, then remove it. At least 32 characters; unset disables it.
    /// </summary>
    [MinLength(32)]
    public string? BootstrapAdminToken { get; set; }

    /// <summary>Sign-in attempts allowed per client address per minute; more are answered 429.</summary>
    [Range(1, 1000)]
    public int SignInAttemptsPerMinute { get; set; } = 10;

    /// <summary>How long a sign-in lasts without activity.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// Lets the sign-in and antiforgery cookies travel over plain HTTP (no <c>Secure</c> attribute). Off by default: a
    /// session cookie must never cross the network in clear. Only for a local trial on http://localhost.
    /// </summary>
    public bool AllowInsecureCookies { get; set; }
}

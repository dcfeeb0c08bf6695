using CuratedIndex.Features.Accounts;
using CuratedIndex.Features.Review;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace CuratedIndex.Features.ReviewUi;

/// <summary>What the decision forms share: the verdict buttons' values and the reviewer check every decision handler makes.</summary>
public static class UiDecisions
{
    /// <summary>The verdict a form button sends: approve, deny or defer (the stored words are accepted too).</summary>
    public static bool TryParseVerdict(string? text, out Verdict verdict)
    {
        verdict = text switch
        {
            "approve" => Verdict.Approved,
            "deny" => Verdict.Denied,
            "defer" => Verdict.Deferred,
            _ => VerdictText.Parse(text ?? ""),
        };
        return verdict != Verdict.Pending;
    }

    /// <summary>
    /// Null when the signed-in account may decide; otherwise the result that refuses it (the access-denied page).
    /// Razor Pages ignores [Authorize] on handler methods, so each POST handler asks here: hiding the form is not a check.
    /// </summary>
    public static Task<IActionResult?> RequireReviewerAsync(this PageModel page, IAuthorizationService authorization) =>
        page.RequirePolicyAsync(authorization, AccessPolicies.UiReview);

    /// <summary>Null when the signed-in account meets <paramref name="policy"/>; otherwise the access-denied result.</summary>
    public static async Task<IActionResult?> RequirePolicyAsync(this PageModel page, IAuthorizationService authorization, string policy)
    {
        var result = await authorization.AuthorizeAsync(page.User, policy);
        return result.Succeeded ? null : page.Forbid(AccountsRegistration.CookieScheme);
    }
}

using System.Globalization;
using System.Security.Claims;
using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Pages;

/// <summary>The signed-in account's API tokens: list, create (the secret is shown once, in the POST's answer) and revoke.</summary>
internal sealed class TokensModel(CuratedIndexDbContext db, AccountService accounts) : PageModel
{
    [BindProperty]
    public string? TokenName { get; set; }

    [BindProperty]
    public long TokenId { get; set; }

    public IReadOnlyList<ApiToken> Tokens { get; private set; } = [];

    /// <summary>Only in the answer to the create POST; never stored, never shown again.</summary>
    public CreatedToken? Created { get; private set; }

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    private long UserId => long.Parse(User.FindFirstValue(ClaimTypes.NameIdentifier)!, CultureInfo.InvariantCulture);

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken) =>
        ChangeAsync(async () =>
        {
            Created = await accounts.CreateTokenAsync(UserId, TokenName ?? "", User.Identity!.Name!, cancellationToken);
            TokenName = null;
        }, cancellationToken);

    public Task<IActionResult> OnPostRevokeAsync(CancellationToken cancellationToken) =>
        ChangeAsync(async () =>
        {
            // The owner's id limits the revocation to this account's own tokens.
            await accounts.RevokeTokenAsync(TokenId, UserId, User.Identity!.Name!, cancellationToken);
            Message = "The token is revoked.";
        }, cancellationToken);

    private async Task<IActionResult> ChangeAsync(Func<Task> change, CancellationToken cancellationToken)
    {
        try
        {
            await change();
        }
        catch (AccountException e)
        {
            Problem = e.Message;
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var userId = UserId;
        Tokens = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).OrderByDescending(t => t.Id).ToListAsync(cancellationToken);
    }
}

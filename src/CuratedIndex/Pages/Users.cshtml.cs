using CuratedIndex.Data;
using CuratedIndex.Features.Accounts;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Pages;

/// <summary>
/// Accounts, for admins only: the policy on the page model covers GET and every POST handler.
/// An admin cannot demote or disable themself, so the last admin cannot lock everyone out by a slip.
/// </summary>
[Authorize(Policy = AccessPolicies.UiAdminister)]
internal sealed class UsersModel(CuratedIndexDbContext db, AccountService accounts) : PageModel
{
    [BindProperty]
    public string? UserName { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty]
    public string? Role { get; set; }

    [BindProperty]
    public bool Disabled { get; set; }

    public IReadOnlyList<UserAccount> Users { get; private set; } = [];

    public string? Message { get; private set; }

    public string? Problem { get; private set; }

    private string Actor => User.Identity!.Name!;

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken) =>
        ChangeAsync(async () =>
        {
            var created = await accounts.CreateUserAsync((UserName ?? "").Trim(), Password ?? "", Role ?? "", Actor, cancellationToken);
            return $"Account '{created.UserName}' created with role {created.Role}.";
        }, cancellationToken);

    public Task<IActionResult> OnPostRoleAsync(CancellationToken cancellationToken) =>
        ChangeAsync(async () =>
        {
            RefuseSelf("change your own role");
            await accounts.SetRoleAsync(UserName ?? "", Role ?? "", Actor, cancellationToken);
            return $"Role of '{UserName}' set to {Role}.";
        }, cancellationToken);

    public Task<IActionResult> OnPostDisableAsync(CancellationToken cancellationToken) =>
        ChangeAsync(async () =>
        {
            RefuseSelf("disable your own account");
            await accounts.SetDisabledAsync(UserName ?? "", Disabled, Actor, cancellationToken);
            return Disabled ? $"Account '{UserName}' disabled." : $"Account '{UserName}' enabled.";
        }, cancellationToken);

    public Task<IActionResult> OnPostPasswordAsync(CancellationToken cancellationToken) =>
        ChangeAsync(async () =>
        {
            await accounts.SetPasswordAsync(UserName ?? "", Password ?? "", Actor, cancellationToken);
            return $"Password of '{UserName}' reset; their sessions have ended.";
        }, cancellationToken);

    private void RefuseSelf(string what)
    {
        if (string.Equals(UserName, Actor, StringComparison.Ordinal))
        {
            throw new AccountException($"you cannot {what}; ask another admin");
        }
    }

    private async Task<IActionResult> ChangeAsync(Func<Task<string>> change, CancellationToken cancellationToken)
    {
        try
        {
            Message = await change();
        }
        catch (AccountException e)
        {
            Problem = e.Message;
            Response.StatusCode = StatusCodes.Status400BadRequest;
        }

        // The typed password never goes back into the page.
        Password = null;
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken) =>
        Users = await db.Users.AsNoTracking().OrderBy(u => u.UserName).ToListAsync(cancellationToken);
}

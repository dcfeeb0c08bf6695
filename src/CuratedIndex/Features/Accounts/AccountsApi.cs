using System.Security.Claims;
using CuratedIndex.Data;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Accounts;

public sealed record NewUserBody(string? UserName, string? Password, string? Role);

public sealed record RoleBody(string? Role);

/// <summary>Accounts over the API, for admins (and for bootstrapping with <c>Auth:BootstrapAdminToken</c>).</summary>
public static class AccountsApi
{
    public static void MapAccountsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/users", ListAsync).RequireAuthorization(AccessPolicies.Administer);
        api.MapPost("/users", CreateAsync).RequireAuthorization(AccessPolicies.Administer);
        api.MapPost("/users/{userName}/role", SetRoleAsync).RequireAuthorization(AccessPolicies.Administer);
        api.MapGet("/me", (ClaimsPrincipal user) => Results.Ok(new { userName = user.Identity!.Name, role = user.FindFirstValue(ClaimTypes.Role) }))
            .RequireAuthorization(AccessPolicies.View);
    }

    private static async Task<IResult> ListAsync(CuratedIndexDbContext db, CancellationToken cancellationToken) =>
        Results.Ok(new
        {
            items = await db.Users.AsNoTracking().OrderBy(u => u.UserName)
                .Select(u => new { userName = u.UserName, role = u.Role, disabled = u.Disabled, createdAt = u.CreatedAt })
                .ToListAsync(cancellationToken),
        });

    private static async Task<IResult> CreateAsync(NewUserBody? body, ClaimsPrincipal user, AccountService accounts, CancellationToken cancellationToken)
    {
        try
        {
            var created = await accounts.CreateUserAsync(body?.UserName ?? "", body?.Password ?? "", body?.Role ?? "", user.Identity!.Name!, cancellationToken);
            return Results.Created($"/api/v1/users/{created.UserName}", new { userName = created.UserName, role = created.Role });
        }
        catch (AccountException e)
        {
            return Results.BadRequest(new { message = e.Message });
        }
    }

    private static async Task<IResult> SetRoleAsync(string userName, RoleBody? body, ClaimsPrincipal user, AccountService accounts, CancellationToken cancellationToken)
    {
        try
        {
            await accounts.SetRoleAsync(userName, body?.Role ?? "", user.Identity!.Name!, cancellationToken);
            return Results.Ok(new { userName, role = body!.Role });
        }
        catch (AccountException e)
        {
            return Results.BadRequest(new { message = e.Message });
        }
    }
}

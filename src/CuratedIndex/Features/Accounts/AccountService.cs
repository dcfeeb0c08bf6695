using System.Security.Cryptography;
using System.Text.RegularExpressions;
using CuratedIndex.Data;
using CuratedIndex.Features.Audit;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace CuratedIndex.Features.Accounts;

/// <summary>A refused account change, with a message for the person who asked.</summary>
public sealed class AccountException(string message) : Exception(message);

/// <summary>A token as created: the secret is shown once and never stored.</summary>
public sealed record CreatedToken(long Id, string Name, string Secret, string Prefix);

/// <summary>
/// Local accounts and their API tokens. Passwords are hashed with ASP.NET Core Identity's PBKDF2 hasher;
/// tokens are stored as SHA-256. Every change is written with its audit record.
/// </summary>
public sealed partial class AccountService(IServiceScopeFactory scopes, AuditLog audit, TokenAuthenticator tokens, TimeProvider clock)
{
    public const int MinPasswordLength = 12;
    public const string TokenPrefix = "cidx_";
    private static readonly PasswordHasher<UserAccount> Hasher = new();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex UserNamePattern();

    public static string? UserNameProblem(string? userName) =>
        userName is not null && UserNamePattern().IsMatch(userName)
            ? null
            : "user names are 1 to 64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit";

    public static string? PasswordProblem(string? password) =>
        password is { Length: >= MinPasswordLength and <= 256 } ? null : $"passwords are {MinPasswordLength} to 256 characters long";

    public static string? RoleProblem(string? role) =>
        Roles.IsValid(role) ? null : $"role must be one of {string.Join(", ", Roles.All)}";

    public async Task<UserAccount> CreateUserAsync(string userName, string password, string role, string actor, CancellationToken cancellationToken)
    {
        Require(UserNameProblem(userName));
        Require(PasswordProblem(password));
        Require(RoleProblem(role));
        return await audit.WriteAsync(async db =>
        {
            if (await db.Users.AnyAsync(u => u.UserName == userName, cancellationToken))
            {
                throw new AccountException($"user '{userName}' already exists");
            }

            var user = new UserAccount
            {
                UserName = userName,
                PasswordHash = "",
                Role = role,
                CreatedAt = clock.GetUtcNow().UtcDateTime,
                SecurityStamp = NewStamp(),
            };
            user.PasswordHash = Hasher.HashPassword(user, password);
            db.Users.Add(user);
            return (user, (IReadOnlyList<AuditEntry>)[new AuditEntry(actor, AuditAction.UserCreate, $"user:{userName}", $"created with role {role}")]);
        }, cancellationToken);
    }

    public Task SetRoleAsync(string userName, string role, string actor, CancellationToken cancellationToken)
    {
        Require(RoleProblem(role));
        return ChangeUserAsync(userName, actor, AuditAction.UserRole, $"role set to {role}", user => user.Role = role, cancellationToken);
    }

    public Task SetDisabledAsync(string userName, bool disabled, string actor, CancellationToken cancellationToken) =>
        ChangeUserAsync(userName, actor, disabled ? AuditAction.UserDisable : AuditAction.UserEnable, disabled ? "account disabled" : "account enabled", user => user.Disabled = disabled, cancellationToken);

    public Task SetPasswordAsync(string userName, string password, string actor, CancellationToken cancellationToken)
    {
        Require(PasswordProblem(password));
        return ChangeUserAsync(userName, actor, AuditAction.UserPassword, "password changed", user => user.PasswordHash = Hasher.HashPassword(user, password), cancellationToken);
    }

    private async Task ChangeUserAsync(string userName, string actor, string action, string reason, Action<UserAccount> change, CancellationToken cancellationToken)
    {
        await audit.WriteAsync(async db =>
        {
            var user = await db.Users.SingleOrDefaultAsync(u => u.UserName == userName, cancellationToken)
                ?? throw new AccountException($"no user '{userName}'");
            change(user);
            user.SecurityStamp = NewStamp();
            return (true, (IReadOnlyList<AuditEntry>)[new AuditEntry(actor, action, $"user:{userName}", reason)]);
        }, cancellationToken);
        tokens.Forget();
    }

    /// <summary>The account when the password is right and the account enabled; null otherwise (same answer for every failure).</summary>
    public async Task<UserAccount?> CheckPasswordAsync(string userName, string password, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var user = await db.Users.SingleOrDefaultAsync(u => u.UserName == userName, cancellationToken);
        if (user is null)
        {
            // Hash anyway, so that the time taken does not tell whether the account exists.
            Hasher.HashPassword(new UserAccount { UserName = "", PasswordHash = "", Role = "", SecurityStamp = "" }, password);
            return null;
        }

        var result = Hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (result == PasswordVerificationResult.Failed || user.Disabled)
        {
            return null;
        }

        if (result == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = Hasher.HashPassword(user, password);
            await db.SaveChangesAsync(cancellationToken);
        }

        return user;
    }

    /// <summary>
    /// Ends one UI session on the server (sign-out): its id is recorded, and a cookie naming it is refused from then on, a
    /// copy taken before included. The account's other sessions go on. Records older than any cookie could live are dropped.
    /// Not audited: it changes no right, it only ends a session.
    /// </summary>
    public async Task EndSessionAsync(long userId, string sessionId, TimeSpan sessionLifetime, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var now = clock.GetUtcNow().UtcDateTime;
        await db.EndedSessions.Where(s => s.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        db.EndedSessions.Add(new EndedSession { SessionId = sessionId, UserId = userId, EndedAt = now, ExpiresAt = now + sessionLifetime });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Ended already (a second sign-out with the same cookie).
        }
    }

    public async Task<CreatedToken> CreateTokenAsync(long userId, string name, string actor, CancellationToken cancellationToken)
    {
        name = name.Trim();
        Require(name.Length is >= 1 and <= 100 ? null : "token names are 1 to 100 characters");
        var secret = TokenPrefix + System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var prefix = secret[..(TokenPrefix.Length + 6)];
        return await audit.WriteAsync(async db =>
        {
            var user = await db.Users.SingleOrDefaultAsync(u => u.Id == userId, cancellationToken)
                ?? throw new AccountException("no such user");
            var token = new ApiToken
            {
                UserId = userId,
                Name = name,
                TokenHash = TokenAuthenticator.HashOf(secret),
                Prefix = prefix,
                CreatedAt = clock.GetUtcNow().UtcDateTime,
            };
            db.ApiTokens.Add(token);
            await db.SaveChangesAsync(cancellationToken);
            var created = new CreatedToken(token.Id, name, secret, prefix);
            return (created, (IReadOnlyList<AuditEntry>)[new AuditEntry(actor, AuditAction.TokenCreate, $"user:{user.UserName}", $"token '{name}' ({prefix}…)")]);
        }, cancellationToken);
    }

    /// <summary>Revokes a token; with <paramref name="ownerId"/> only its owner's (the Tokens page); null skips that check (no page or endpoint offers that to admins yet).</summary>
    public async Task RevokeTokenAsync(long tokenId, long? ownerId, string actor, CancellationToken cancellationToken)
    {
        await audit.WriteAsync(async db =>
        {
            var token = await db.ApiTokens.Include(t => t.User).SingleOrDefaultAsync(t => t.Id == tokenId && (ownerId == null || t.UserId == ownerId), cancellationToken)
                ?? throw new AccountException("no such token");
            if (token.RevokedAt is not null)
            {
                throw new AccountException("the token is already revoked");
            }

            token.RevokedAt = clock.GetUtcNow().UtcDateTime;
            return (true, (IReadOnlyList<AuditEntry>)[new AuditEntry(actor, AuditAction.TokenRevoke, $"user:{token.User!.UserName}", $"token '{token.Name}' ({token.Prefix}…)")]);
        }, cancellationToken);
        tokens.Forget();
    }

    private static void Require(string? problem)
    {
        if (problem is not null)
        {
            throw new AccountException(problem);
        }
    }

    internal static string NewStamp() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using CuratedIndex.Data;
using CuratedIndex.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Accounts;

/// <summary>Who a valid token belongs to.</summary>
public sealed record TokenIdentity(long? UserId, string UserName, string Role);

/// <summary>
/// Turns a bearer token into an identity: the configured bootstrap admin token, or an unrevoked token of an
/// enabled account. Answers are cached briefly because pip sends the token with every index request;
/// account and token changes on this node clear the cache at once.
/// </summary>
public sealed class TokenAuthenticator(IServiceScopeFactory scopes, IOptions<AuthOptions> options, TimeProvider clock)
{
    public const string BootstrapUserName = "bootstrap-admin";
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<string, (TokenIdentity? Identity, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public async Task<TokenIdentity?> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length is < 16 or > 256)
        {
            return null;
        }

        if (options.Value.BootstrapAdminToken is { Length: > 0 } bootstrap
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), Encoding.UTF8.GetBytes(bootstrap)))
        {
            return new TokenIdentity(null, BootstrapUserName, Roles.Admin);
        }

        var hash = HashOf(token);
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(hash, out var cached) && cached.Expires > now)
        {
            return cached.Identity;
        }

        // Not cached: a database lookup (and its first query compilation), on the thread pool.
        await SocketThreads.LeaveAsync();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        var found = await db.ApiTokens
            .Where(t => t.TokenHash == hash && t.RevokedAt == null && !t.User!.Disabled)
            .Select(t => new { t.Id, t.UserId, t.User!.UserName, t.User.Role })
            .SingleOrDefaultAsync(cancellationToken);
        TokenIdentity? identity = null;
        if (found is not null)
        {
            identity = new TokenIdentity(found.UserId, found.UserName, found.Role);
            // Written at most once per cache period per token, not on every request.
            await db.ApiTokens.Where(t => t.Id == found.Id).ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now.UtcDateTime), cancellationToken);
        }

        if (_cache.Count > 10_000)
        {
            _cache.Clear();
        }

        _cache[hash] = (identity, now + CacheFor);
        return identity;
    }

    /// <summary>Drops cached answers after an account or token change.</summary>
    public void Forget() => _cache.Clear();
}

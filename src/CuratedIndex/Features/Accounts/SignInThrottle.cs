using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using CuratedIndex.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Accounts;

/// <summary>
/// Limits sign-in attempts per client address (<c>Auth:SignInAttemptsPerMinute</c>); only attempts count, not page views.
/// The address is the connection's after the forwarded-headers step: a proxy's <c>X-Forwarded-For</c> counts only when the
/// proxy is in <c>Server:KnownProxies</c>/<c>KnownNetworks</c>, so a client cannot pick a fresh bucket by sending one.
/// Counted in the database over the last 60 seconds: behind a load balancer every node shares the budget, so more nodes
/// never mean more guesses.
/// </summary>
public sealed class SignInThrottle(IServiceScopeFactory scopes, TimeProvider clock, IOptions<AuthOptions> options) : IDisposable
{
    private const long WindowMilliseconds = 60_000;

    // The same limit in this node's memory, in front of the database: a client hammering one node is refused there for
    // free, and only attempts this node would allow are written (no database write per refused request).
    private readonly PartitionedRateLimiter<string> _local = PartitionedRateLimiter.Create<string, string>(bucket =>
        RateLimitPartition.GetFixedWindowLimiter(bucket, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.SignInAttemptsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    /// <summary>True when this attempt may go ahead; an attempt this node lets through is counted for every node.</summary>
    public async Task<bool> TryAttemptAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var bucket = BucketOf(context.Connection.RemoteIpAddress);
        using (var lease = _local.AttemptAcquire(bucket))
        {
            if (!lease.IsAcquired)
            {
                return false;
            }
        }

        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var since = now - WindowMilliseconds;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CuratedIndexDbContext>();
        db.SignInAttempts.Add(new SignInAttempt { Bucket = bucket, AtMilliseconds = now });
        await db.SaveChangesAsync(cancellationToken);
        // Counted after the insert: of concurrent attempts on any node, each sees the others.
        var attempts = await db.SignInAttempts.CountAsync(a => a.Bucket == bucket && a.AtMilliseconds > since, cancellationToken);
        await db.SignInAttempts.Where(a => a.AtMilliseconds <= since).ExecuteDeleteAsync(cancellationToken);
        return attempts <= options.Value.SignInAttemptsPerMinute;
    }

    /// <summary>
    /// One bucket per IPv4 address and per IPv6 /64: one subscriber usually holds a whole /64, so a bucket per IPv6
    /// address would give an attacker endless fresh ones.
    /// </summary>
    internal static string BucketOf(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    public void Dispose() => _local.Dispose();
}

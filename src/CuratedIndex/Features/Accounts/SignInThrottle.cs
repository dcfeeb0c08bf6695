using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace CuratedIndex.Features.Accounts;

/// <summary>
/// Limits sign-in attempts per client address (<c>Auth:SignInAttemptsPerMinute</c>); only attempts count, not page views.
/// The address is the connection's after the forwarded-headers step: a proxy's <c>X-Forwarded-For</c> counts only when the
/// proxy is in <c>Server:KnownProxies</c>/<c>KnownNetworks</c>, so a client cannot pick a fresh bucket by sending one.
/// </summary>
public sealed class SignInThrottle(IOptions<AuthOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(address =>
        RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.SignInAttemptsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    /// <summary>True when this attempt may go ahead.</summary>
    public bool TryAttempt(HttpContext context)
    {
        using var lease = _limiter.AttemptAcquire(BucketOf(context.Connection.RemoteIpAddress));
        return lease.IsAcquired;
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

    public void Dispose() => _limiter.Dispose();
}
